import { LOCALES } from '../../../domain/recipient/recipientPreferences.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/** Every time zone this server knows, for the select (`UTC` first: Intl may list it apart). */
const timeZones = (): readonly string[] => {
  const known = Intl.supportedValuesOf('timeZone');
  return ['UTC', ...known.filter((zone) => zone !== 'UTC')];
};

/**
 * Settings (`GET`/`PUT /v1/me/preferences`): language, time zone, quiet hours and the daily
 * digest. /static/settings.js fills the form from the API and saves it whole.
 */
export const settingsPage = (
  page: PageContext,
  person: { readonly username: string },
): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: t('settings.title'),
    person,
    current: 'settings',
    scripts: ['settings.js'],
    main: html`<div class="page-head">
        <h1>${t('settings.title')}</h1>
        <p class="meta">${t('settings.lead')}</p>
      </div>
      <p id="settings-loading" class="meta">${t('common.loading')}</p>
      <form id="settings-form" class="card settings" hidden>
        <fieldset>
          <legend>${t('settings.languageTitle')}</legend>
          <div class="field">
            <label for="settings-locale">${t('settings.language')}</label>
            <select id="settings-locale" name="locale" aria-describedby="settings-locale-hint">
              <option value="">${t('settings.languageBrowser')}</option>
              ${LOCALES.map(
                (locale) =>
                  html`<option value="${locale}" lang="${locale}">${t(`lang.${locale}`)}</option>`,
              )}
            </select>
            <p id="settings-locale-hint" class="hint">${t('settings.languageHint')}</p>
          </div>
          <div class="field">
            <label for="settings-zone">${t('settings.timeZone')}</label>
            <select id="settings-zone" name="timeZone" aria-describedby="settings-zone-hint">
              <option value="" id="settings-zone-browser">
                ${t('settings.timeZoneBrowser', { zone: '…' })}
              </option>
              ${timeZones().map((zone) => html`<option value="${zone}">${zone}</option>`)}
            </select>
            <p id="settings-zone-hint" class="hint">${t('settings.timeZoneHint')}</p>
          </div>
        </fieldset>
        <fieldset>
          <legend>${t('settings.quietTitle')}</legend>
          <label class="choice">
            <input type="checkbox" id="quiet-on" name="quietOn" />
            <span>${t('settings.quietOn')}</span>
          </label>
          <div class="row times" id="quiet-fields">
            <div class="field">
              <label for="quiet-start">${t('settings.quietStart')}</label>
              <input type="time" id="quiet-start" name="quietStart" value="22:00" required />
            </div>
            <div class="field">
              <label for="quiet-end">${t('settings.quietEnd')}</label>
              <input type="time" id="quiet-end" name="quietEnd" value="07:00" required />
            </div>
          </div>
          <label class="choice">
            <input type="checkbox" id="quiet-urgent" name="quietUrgent" />
            <span>${t('settings.quietUrgent')}</span>
          </label>
          <p class="hint">${t('settings.quietHint')}</p>
        </fieldset>
        <fieldset>
          <legend>${t('settings.digestTitle')}</legend>
          <label class="choice">
            <input type="checkbox" id="digest-on" name="digestOn" />
            <span>${t('settings.digestOn')}</span>
          </label>
          <div class="row times" id="digest-fields">
            <div class="field">
              <label for="digest-at">${t('settings.digestAt')}</label>
              <input type="time" id="digest-at" name="digestAt" value="08:00" required />
            </div>
            <div class="field">
              <label for="digest-device">${t('settings.digestDevice')}</label>
              <select id="digest-device" name="digestDevice"></select>
            </div>
          </div>
          <p id="digest-no-device" class="hint" hidden>
            ${t('settings.digestNoDevice')} <a href="/devices">${t('nav.devices')}</a>
          </p>
          <p class="hint">${t('settings.digestHint')}</p>
        </fieldset>
        <p id="settings-error" class="error" role="alert" hidden></p>
        <div class="actions">
          <button type="submit" class="primary">${t('settings.save')}</button>
        </div>
        <p id="settings-result" class="meta" role="status"></p>
      </form>`,
  });
};

import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/**
 * "My devices": every device of the person, of any channel kind, and a form to add one. The
 * page holds no channel's fields: `devices.js` draws each form from the settings the channel
 * declares (`GET /v1/channels`), so a plugin's kind gets a form without code here.
 */
export const devicesPage = (page: PageContext, person: { readonly username: string }): SafeHtml => {
  const { t, th } = page.text;
  return layout({
    ...page,
    title: t('devices.title'),
    person,
    current: 'devices',
    scripts: ['devices.js'],
    main: html`<div class="page-head">
        <h1>${t('devices.title')}</h1>
        <p class="meta">
          ${th('devices.lead', {
            strong: html`<em>${t('devices.leadStrong')}</em>`,
            inbox: html`<a href="/inbox">${t('devices.leadInbox')}</a>`,
          })}
        </p>
      </div>
      <section class="panel" aria-labelledby="devices-title">
        <h2 id="devices-title">${t('devices.listTitle')}</h2>
        <p id="devices-status" class="meta" role="status" tabindex="-1">${t('common.loading')}</p>
        <ul id="devices-list" class="cards devices"></ul>
      </section>
      <section class="card" aria-labelledby="add-title">
        <h2 id="add-title">${t('devices.addTitle')}</h2>
        <form id="add-form">
          <div class="field">
            <label for="add-kind">${t('devices.kind')}</label>
            <select id="add-kind" name="kind" required aria-describedby="add-kind-hint">
              <option value="">${t('common.loading')}</option>
            </select>
            <p id="add-kind-hint" class="hint">${t('devices.kindHint')}</p>
          </div>
          <div id="add-fields"></div>
          <p id="add-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" class="primary">${t('devices.add')}</button>
          </div>
        </form>
        <div
          id="add-secret"
          class="secret-once"
          role="region"
          aria-labelledby="add-secret-title"
          tabindex="-1"
          hidden
        >
          <h3 id="add-secret-title">${t('devices.secretTitle')}</h3>
          <p id="add-secret-what"></p>
          <code id="add-secret-value" class="mono secret-value"></code>
          <p class="hint">${t('devices.secretHint')}</p>
          <div class="actions">
            <button type="button" id="add-secret-copy">${t('devices.secretCopy')}</button>
          </div>
        </div>
      </section>`,
  });
};

import type { AppRow } from '../../../projections/apps/appsProjection.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';
import type { PageText } from '../pageText.js';

/** A consent request that passed every check: a known app and one of its redirect URIs. */
export interface ConsentRequest {
  readonly app: AppRow;
  readonly openid: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
}

const standing = (app: AppRow, { t, th }: PageText): SafeHtml => {
  const reputation = t('consent.reputation', { score: app.score });
  switch (app.status) {
    case 'active':
      return html`<span class="pill ok">${t('consent.active')}</span> ${reputation}`;
    case 'suspended':
      return html`<span class="pill warn">${t('consent.suspended')}</span> ${reputation}
        ${
          app.suspended_until === null
            ? t('consent.suspendedNote')
            : th('consent.suspendedUntil', {
                time: html`<time datetime="${app.suspended_until}">${app.suspended_until}</time>`,
              })
        }`;
    case 'banned':
      return html`<span class="pill bad">${t('consent.banned')}</span>`;
    default: {
      const _exhaustive: never = app.status;
      return _exhaustive;
    }
  }
};

/**
 * The consent page (docs/api.md, "Consent (binding)"): names the app and its standing, offers strong
 * or weak, Allow or Deny. /static/consent.js posts the decision and follows the `redirect`.
 */
export const consentPage = (
  page: PageContext,
  request: ConsentRequest,
  person: { readonly username: string },
  switchAccount: string,
): SafeHtml => {
  const { t, th } = page.text;
  const { app } = request;
  const returnHost = new URL(request.redirectUri).host;
  return layout({
    ...page,
    title: t('consent.title', { app: app.name }),
    person,
    scripts: ['consent.js'],
    main: html`<section class="narrow card consent" aria-labelledby="consent-title">
      <p class="eyebrow">${t('consent.eyebrow')}</p>
      <h1 id="consent-title">
        ${th('consent.heading', { app: html`<span class="app-name">${app.name}</span>` })}
      </h1>
      <p class="standing" id="app-standing">${standing(app, page.text)}</p>
      <p>
        ${th('consent.asks', {
          app: app.name,
          openid: html`<strong class="mono">${request.openid}</strong>`,
          myApps: html`<a href="/apps">${t('consent.myApps')}</a>`,
        })}
      </p>
      <form
        id="consent-form"
        data-app-id="${app.app_id}"
        data-openid="${request.openid}"
        data-redirect-uri="${request.redirectUri}"
        ${request.state === undefined ? '' : html`data-state="${request.state}"`}
      >
        <fieldset class="levels">
          <legend>${t('consent.levels')}</legend>
          <label class="choice">
            <input type="radio" name="level" value="strong" />
            <span><strong>${t('consent.strong')}</strong> ${t('consent.strongHint')}</span>
          </label>
          <label class="choice">
            <input type="radio" name="level" value="weak" checked />
            <span><strong>${t('consent.weak')}</strong> ${t('consent.weakHint')}</span>
          </label>
        </fieldset>
        <p id="consent-error" class="error" role="alert" hidden></p>
        <div class="actions">
          <button type="submit" name="decision" value="allow" class="primary">
            ${t('consent.allow')}
          </button>
          <button type="submit" name="decision" value="deny">${t('consent.deny')}</button>
        </div>
        <p class="hint">${th('consent.goBack', { host: html`<strong>${returnHost}</strong>` })}</p>
      </form>
      <p class="hint">
        ${th('consent.loggedInAs', { username: html`<strong>${person.username}</strong>` })}
        <button type="button" class="link" data-logout="${switchAccount}">
          ${t('consent.otherAccount')}
        </button>
      </p>
    </section>`,
  });
};

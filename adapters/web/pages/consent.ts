import type { AppRow } from '../../../projections/apps/appsProjection.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** A consent request that passed every check: a known app and one of its redirect URIs. */
export interface ConsentRequest {
  readonly app: AppRow;
  readonly openid: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
}

const standing = (app: AppRow): SafeHtml => {
  switch (app.status) {
    case 'active':
      return html`<span class="pill ok">Active</span> Reputation ${app.score} of 100`;
    case 'suspended':
      return html`<span class="pill warn">Suspended</span> Reputation ${app.score} of 100 — it
        cannot send you
        anything${
          app.suspended_until === null
            ? ''
            : html` until <time datetime="${app.suspended_until}">${app.suspended_until}</time>`
        }`;
    case 'banned':
      return html`<span class="pill bad">Banned</span>`;
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
  request: ConsentRequest,
  person: { readonly username: string },
  switchAccount: string,
): SafeHtml => {
  const { app } = request;
  const returnHost = new URL(request.redirectUri).host;
  return layout({
    title: `Allow ${app.name}?`,
    person,
    scripts: ['consent.js'],
    main: html`<section class="narrow card consent" aria-labelledby="consent-title">
      <p class="eyebrow">Permission request</p>
      <h1 id="consent-title">
        Allow <span class="app-name">${app.name}</span> to send you messages?
      </h1>
      <p class="standing" id="app-standing">${standing(app)}</p>
      <p>
        ${app.name} asks to reach you as <strong class="mono">${request.openid}</strong> (its own
        name for you). You can change how loudly, mute, block or unbind it at any time in
        <a href="/apps">My apps</a>.
      </p>
      <form
        id="consent-form"
        data-app-id="${app.app_id}"
        data-openid="${request.openid}"
        data-redirect-uri="${request.redirectUri}"
        ${request.state === undefined ? '' : html`data-state="${request.state}"`}
      >
        <fieldset class="levels">
          <legend>How should its messages reach you?</legend>
          <label class="choice">
            <input type="radio" name="level" value="strong" />
            <span
              ><strong>Strong</strong> — a push on your phone (Bark) and a copy in your inbox</span
            >
          </label>
          <label class="choice">
            <input type="radio" name="level" value="weak" checked />
            <span><strong>Weak</strong> — only in your Tidings inbox, no push</span>
          </label>
        </fieldset>
        <p id="consent-error" class="error" role="alert" hidden></p>
        <div class="actions">
          <button type="submit" name="decision" value="allow" class="primary">Allow</button>
          <button type="submit" name="decision" value="deny">Deny</button>
        </div>
        <p class="hint">Either way you go back to <strong>${returnHost}</strong>.</p>
      </form>
      <p class="hint">
        Logged in as <strong>${person.username}</strong>.
        <button type="button" class="link" data-logout="${switchAccount}">
          Use another account
        </button>
      </p>
    </section>`,
  });
};

import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/**
 * "My account": the person's data export (`GET /v1/me/export`, a plain GET form, so the browser
 * streams the file to disk however large the inbox) and the deletion of the account (`DELETE
 * /v1/me` with the password, which /static/account.js sends after asking once more).
 */
export const accountPage = (page: PageContext, person: { readonly username: string }): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: t('account.title'),
    person,
    current: 'account',
    scripts: ['account.js'],
    main: html`<div class="page-head">
        <h1>${t('account.title')}</h1>
        <p class="meta">${t('account.lead', { username: person.username })}</p>
      </div>
      <section class="card" aria-labelledby="export-title">
        <h2 id="export-title">${t('account.exportTitle')}</h2>
        <p>${t('account.exportText')}</p>
        <form id="export-form" method="get" action="/v1/me/export">
          <div class="actions">
            <button type="submit" class="primary">${t('account.exportButton')}</button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="delete-title">
        <h2 id="delete-title">${t('account.deleteTitle')}</h2>
        <p class="notice"><strong>${t('account.deleteWarning')}</strong></p>
        <p>${t('account.deleteText')}</p>
        <form id="delete-form">
          <input
            type="text"
            name="username"
            value="${person.username}"
            autocomplete="username"
            aria-label="${t('auth.username')}"
            readonly
            hidden
          />
          <div class="field">
            <label for="delete-password">${t('account.password')}</label>
            <input
              id="delete-password"
              name="password"
              type="password"
              required
              maxlength="256"
              autocomplete="current-password"
              aria-describedby="delete-password-hint"
            />
            <p class="hint" id="delete-password-hint">${t('account.passwordHint')}</p>
          </div>
          <p id="delete-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" class="danger">${t('account.deleteButton')}</button>
          </div>
        </form>
      </section>`,
  });
};

import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/**
 * The operator's review queues. The admin token is kept in this tab's sessionStorage and sent
 * as a bearer token by /static/operator.js, so the page itself holds no operator data.
 */
export const operatorPage = (
  page: PageContext,
  person: { readonly username: string } | undefined,
): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: t('operator.title'),
    person,
    current: 'operator',
    scripts: ['operator.js'],
    main: html`<div class="page-head">
        <h1>${t('operator.title')}</h1>
        <p class="meta">${t('operator.lead')}</p>
      </div>
      <form id="token-form" class="card narrow">
        <h2>${t('operator.signInTitle')}</h2>
        <div class="field">
          <label for="admin-token">${t('operator.token')}</label>
          <input
            id="admin-token"
            name="token"
            type="password"
            required
            autocomplete="off"
            spellcheck="false"
            aria-describedby="admin-token-hint"
          />
          <p id="admin-token-hint" class="hint">${t('operator.tokenHint')}</p>
        </div>
        <p id="token-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">${t('operator.signIn')}</button>
      </form>
      <div id="operator-panels" hidden>
        <div class="toolbar">
          <button type="button" id="operator-refresh">${t('operator.refresh')}</button>
          <button type="button" id="operator-signout" class="link">${t('operator.signOut')}</button>
        </div>
        <section aria-labelledby="held-title" class="panel">
          <h2 id="held-title">
            ${t('operator.heldTitle')} <span id="held-count" class="count"></span>
          </h2>
          <p id="held-empty" class="meta" hidden>${t('operator.heldEmpty')}</p>
          <ul id="held-list" class="cards"></ul>
        </section>
        <section aria-labelledby="complaints-title" class="panel">
          <h2 id="complaints-title">
            ${t('operator.complaintsTitle')} <span id="complaints-count" class="count"></span>
          </h2>
          <p id="complaints-empty" class="meta" hidden>${t('operator.complaintsEmpty')}</p>
          <ul id="complaint-list" class="cards"></ul>
        </section>
        <section aria-labelledby="rep-title" class="panel">
          <h2 id="rep-title">${t('operator.repTitle')}</h2>
          <p id="rep-empty" class="meta" hidden>${t('operator.repEmpty')}</p>
          <ul id="rep-list" class="cards"></ul>
        </section>
      </div>`,
  });
};

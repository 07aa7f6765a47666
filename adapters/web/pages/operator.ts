import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/**
 * The operator's review queues. The admin token is kept in this tab's sessionStorage and sent
 * as a bearer token by /static/operator.js, so the page itself holds no operator data.
 */
export const operatorPage = (person: { readonly username: string } | undefined): SafeHtml =>
  layout({
    title: 'Operator',
    person,
    current: 'operator',
    scripts: ['operator.js'],
    main: html`<div class="page-head">
        <h1>Operator</h1>
        <p class="meta">Review held messages and complaints; watch app reputation.</p>
      </div>
      <form id="token-form" class="card narrow">
        <h2>Sign in as operator</h2>
        <div class="field">
          <label for="admin-token">Admin token</label>
          <input
            id="admin-token"
            name="token"
            type="password"
            required
            autocomplete="off"
            spellcheck="false"
            aria-describedby="admin-token-hint"
          />
          <p id="admin-token-hint" class="hint">
            TIDINGS_ADMIN_TOKEN, or the file admin-token in the data folder. Kept only in this tab.
          </p>
        </div>
        <p id="token-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">Sign in</button>
      </form>
      <div id="operator-panels" hidden>
        <div class="toolbar">
          <button type="button" id="operator-refresh">Refresh</button>
          <button type="button" id="operator-signout" class="link">Sign out</button>
        </div>
        <section aria-labelledby="held-title" class="panel">
          <h2 id="held-title">Held for review <span id="held-count" class="count"></span></h2>
          <p id="held-empty" class="meta" hidden>No message is waiting.</p>
          <ul id="held-list" class="cards"></ul>
        </section>
        <section aria-labelledby="complaints-title" class="panel">
          <h2 id="complaints-title">
            Open complaints <span id="complaints-count" class="count"></span>
          </h2>
          <p id="complaints-empty" class="meta" hidden>No open complaint.</p>
          <ul id="complaint-list" class="cards"></ul>
        </section>
        <section aria-labelledby="rep-title" class="panel">
          <h2 id="rep-title">Apps by reputation</h2>
          <p id="rep-empty" class="meta" hidden>No app is registered.</p>
          <ul id="rep-list" class="cards"></ul>
        </section>
      </div>`,
  });

import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** "My apps"; /static/apps.js lists `GET /v1/me/apps` and sends each change as a PATCH. */
export const appsPage = (person: { readonly username: string }): SafeHtml =>
  layout({
    title: 'My apps',
    person,
    current: 'apps',
    scripts: ['apps.js'],
    main: html`<div class="page-head">
        <h1>My apps</h1>
        <p class="meta">Every app you allowed. Changes apply to the very next message it sends.</p>
      </div>
      <p id="apps-loading" class="meta">Loading…</p>
      <div id="apps-empty" class="empty" hidden>
        <h2>No apps yet</h2>
        <p>An app asks for your permission by sending you to a Tidings consent page.</p>
      </div>
      <ul id="apps-list" class="cards"></ul>`,
  });

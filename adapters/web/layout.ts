import { html, type SafeHtml } from './html.js';

/** The sections a person navigates between. */
export type Section = 'inbox' | 'apps' | 'devices' | 'operator';

/** What every page is made of. */
export interface PageOptions {
  /** The document title (also the first words a screen reader hears). */
  readonly title: string;
  /** The logged-in person, when there is one: the header shows the navigation and log out. */
  readonly person?: { readonly username: string } | undefined;
  readonly current?: Section;
  readonly main: SafeHtml;
  /** Page scripts under /static (ES modules). */
  readonly scripts?: readonly string[];
}

const sections: readonly { readonly id: Section; readonly href: string; readonly label: string }[] =
  [
    { id: 'inbox', href: '/inbox', label: 'Inbox' },
    { id: 'apps', href: '/apps', label: 'My apps' },
    { id: 'devices', href: '/devices', label: 'Devices' },
  ];

/** A whole HTML document: header with navigation, the page's main content, a status region. */
export const layout = (options: PageOptions): SafeHtml => {
  const { person, current } = options;
  const nav =
    person === undefined
      ? html``
      : html`<nav aria-label="Main">
            <ul class="nav">
              ${sections.map(
                (section) =>
                  html`<li>
                    <a
                      href="${section.href}"
                      ${section.id === current ? html`aria-current="page"` : ''}
                      >${section.label}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          <div class="account">
            <span class="who" title="Logged in as ${person.username}">${person.username}</span>
            <button type="button" class="link" data-logout="/login">Log out</button>
          </div>`;
  const scripts = ['common.js', ...(options.scripts ?? [])];
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>${options.title} · Tidings</title>
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/tidings.css" />
        ${scripts.map((name) => html`<script type="module" src="/static/${name}"></script>`)}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <div class="wrap bar">
            <a class="brand" href="${person === undefined ? '/login' : '/inbox'}">Tidings</a>
            ${nav}
          </div>
        </header>
        <main id="main" class="wrap" tabindex="-1">${options.main}</main>
        <div id="toast" class="toast" role="status" aria-live="polite"></div>
        <dialog id="confirm-dialog" class="dialog" aria-labelledby="confirm-title">
          <form method="dialog">
            <h2 id="confirm-title">Are you sure?</h2>
            <p id="confirm-text"></p>
            <div class="actions">
              <button type="submit" value="yes" class="danger" id="confirm-yes">Yes</button>
              <button type="submit" value="no" autofocus>Cancel</button>
            </div>
          </form>
        </dialog>
      </body>
    </html>`;
};

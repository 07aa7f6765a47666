import { LOCALES, type Locale } from '../../domain/recipient/recipientPreferences.js';
import { html, type SafeHtml } from './html.js';
import { catalogueScript, type PageText } from './pageText.js';

/** What every page is drawn with: its words, and where it is (for the language switch). */
export interface PageContext {
  readonly text: PageText;
  readonly here: string;
  /** A sentence shown above the page's content (the login page's after an account deletion). */
  readonly notice?: string;
}

/** The sections a person navigates between. */
export type Section = 'inbox' | 'apps' | 'devices' | 'settings' | 'account' | 'operator';

/** What every page is made of. */
export interface PageOptions {
  /** The page's language and time zone. */
  readonly text: PageText;
  /** The path (and query) of this page: the language switch links back to it. */
  readonly here: string;
  /** A sentence shown above the page's content, announced to screen readers. */
  readonly notice?: string | undefined;
  /** The document title (also the first words a screen reader hears). */
  readonly title: string;
  /** The logged-in person, when there is one: the header shows the navigation and log out. */
  readonly person?: { readonly username: string } | undefined;
  readonly current?: Section;
  readonly main: SafeHtml;
  /** Page scripts under /static (ES modules). */
  readonly scripts?: readonly string[];
}

const sections = [
  { id: 'inbox', href: '/inbox', label: 'nav.inbox' },
  { id: 'apps', href: '/apps', label: 'nav.apps' },
  { id: 'devices', href: '/devices', label: 'nav.devices' },
  { id: 'settings', href: '/settings', label: 'nav.settings' },
] as const;

/** The query parameter of the language switch (webRouter.ts turns it into a cookie). */
export const LANGUAGE_PARAMETER = 'lang';

/** This page's address with `lang=<locale>`, keeping its other parameters. */
export const switchHref = (here: string, locale: Locale): string => {
  const url = new URL(here, 'http://tidings.invalid');
  url.searchParams.set(LANGUAGE_PARAMETER, locale);
  return `${url.pathname}${url.search}`;
};

/**
 * The language switch: one link per language, each in its own language, the current one marked.
 * A link sets the visitor's cookie; for a signed-in person common.js saves the preference first.
 */
const languageSwitch = (text: PageText, here: string): SafeHtml =>
  html`<nav class="languages" aria-label="${text.t('layout.languageNav')}">
    <ul>
      ${LOCALES.map(
        (locale) =>
          html`<li>
            <a
              href="${switchHref(here, locale)}"
              lang="${locale}"
              hreflang="${locale}"
              data-locale="${locale}"
              ${locale === text.locale ? html`aria-current="true"` : ''}
              title="${text.t('lang.switchTo', { language: text.t(`lang.${locale}`) })}"
              >${text.t(`lang.${locale}`)}</a
            >
          </li>`,
      )}
    </ul>
  </nav>`;

/** A whole HTML document: header with navigation, the page's main content, a status region. */
export const layout = (options: PageOptions): SafeHtml => {
  const { person, current, text } = options;
  const nav =
    person === undefined
      ? html``
      : html`<nav aria-label="${text.t('layout.mainNav')}">
            <ul class="nav">
              ${sections.map(
                (section) =>
                  html`<li>
                    <a
                      href="${section.href}"
                      ${section.id === current ? html`aria-current="page"` : ''}
                      >${text.t(section.label)}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          <div class="account">
            <a
              class="who"
              href="/account"
              aria-label="${text.t('account.nav', { username: person.username })}"
              title="${text.t('layout.loggedInAs', { username: person.username })}"
              ${current === 'account' ? html`aria-current="page"` : ''}
              >${person.username}</a
            >
            <button type="button" class="link" data-logout="/login">
              ${text.t('layout.logOut')}
            </button>
          </div>`;
  const scripts = ['common.js', ...(options.scripts ?? [])];
  return html`<!doctype html>
    <html
      lang="${text.locale}"
      ${text.timeZone === null ? '' : html`data-time-zone="${text.timeZone}"`}
    >
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>${text.t('layout.titleSuffix', { title: options.title })}</title>
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/tidings.css" />
        ${catalogueScript(text.locale)}
        ${scripts.map((name) => html`<script type="module" src="/static/${name}"></script>`)}
      </head>
      <body ${person === undefined ? '' : html`data-signed-in=""`}>
        <a class="skip" href="#main">${text.t('layout.skip')}</a>
        <header class="topbar">
          <div class="wrap bar">
            <a class="brand" href="${person === undefined ? '/login' : '/inbox'}"
              >${text.t('layout.brand')}</a
            >
            ${nav} ${languageSwitch(text, options.here)}
          </div>
        </header>
        <main id="main" class="wrap" tabindex="-1">
          ${
            options.notice === undefined
              ? ''
              : html`<div class="narrow">
                  <p class="notice" id="page-notice" role="status">${options.notice}</p>
                </div>`
          }
          ${options.main}
        </main>
        <div id="toast" class="toast" role="status" aria-live="polite"></div>
        <dialog id="confirm-dialog" class="dialog" aria-labelledby="confirm-title">
          <form method="dialog">
            <h2 id="confirm-title">${text.t('layout.confirmTitle')}</h2>
            <p id="confirm-text"></p>
            <div class="actions">
              <button type="submit" value="yes" class="danger" id="confirm-yes">
                ${text.t('layout.confirmYes')}
              </button>
              <button type="submit" value="no" autofocus>${text.t('layout.confirmCancel')}</button>
            </div>
          </form>
        </dialog>
      </body>
    </html>`;
};

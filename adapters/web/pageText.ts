import {
  catalogues,
  splitTemplate,
  translate,
  translateCount,
  type CountedKey,
  type MessageKey,
  type MessageParams,
} from '../../application/i18n/catalogue.js';
import type { Locale } from '../../domain/recipient/recipientPreferences.js';
import { html, trusted, type HtmlValue, type SafeHtml } from './html.js';

/** The words of one page: its language, the person's time zone, and the catalogue's lookups. */
export interface PageText {
  readonly locale: Locale;
  /** The person's chosen time zone; null: the browser's own. */
  readonly timeZone: string | null;
  /** The text of `key`, placeholders filled. */
  readonly t: (key: MessageKey, params?: MessageParams) => string;
  /** The plural form of `base` for `count`. */
  readonly tn: (base: CountedKey, count: number, params?: MessageParams) => string;
  /** The text of `key` as markup, placeholders filled with markup or escaped text. */
  readonly th: (key: MessageKey, params: Readonly<Record<string, HtmlValue>>) => SafeHtml;
}

/** The page text of `locale` (and the person's time zone, when they chose one). */
export const pageText = (locale: Locale, timeZone: string | null = null): PageText => ({
  locale,
  timeZone,
  t: (key, params) => translate(locale, key, params),
  tn: (base, count, params) => translateCount(locale, base, count, params),
  th: (key, params) =>
    html`${splitTemplate<HtmlValue>(catalogues[locale][key], (name) =>
      name in params ? (params[name] ?? '') : undefined,
    )}`,
});

/**
 * The catalogue of the page's language as a JSON data block for its scripts (common.js reads it):
 * `<` and `&` escaped, so no text in it can end the element.
 */
export const catalogueScript = (locale: Locale): SafeHtml =>
  trusted(
    `<script type="application/json" id="tidings-text">${JSON.stringify(catalogues[locale])
      .replaceAll('<', '\\u003c')
      .replaceAll('>', '\\u003e')
      .replaceAll('&', '\\u0026')}</script>`,
  );

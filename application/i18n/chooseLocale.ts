import { isLocale, type Locale } from '../../domain/recipient/recipientPreferences.js';

/** The language everything falls back to. */
export const DEFAULT_LOCALE: Locale = 'en';

/**
 * The locale of ours that one language tag asks for: every Chinese tag (`zh`, `zh-CN`, `zh-Hans`,
 * `zh-SG`, and the Traditional `zh-TW`, `zh-Hant`: Simplified is far closer to what such a reader
 * wants than English), every English one; undefined for the rest.
 */
export const localeOfTag = (tag: string): Locale | undefined => {
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'en') return 'en';
  return undefined;
};

/**
 * The best of our locales for an `Accept-Language` header (RFC 9110 §12.5.4): tags by their
 * q-value, highest first, ties in the order given; `q=0` means "not this"; `*` takes any, i.e.
 * the default. Undefined when nothing in it is ours.
 *
 * Express's `acceptsLanguages` (negotiator) ranks tags the same way but matches only exact tags
 * and prefixes, so it cannot send `zh-Hans` or `zh-TW` to `zh-CN`; the ranking is a dozen lines.
 */
export const localeFromAcceptLanguage = (header: string | undefined): Locale | undefined => {
  if (header === undefined || header.length > 4096) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...parameters] = part.split(';').map((piece) => piece.trim());
      const weight = parameters
        .map((parameter) => /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(parameter)?.[1])
        .find((value) => value !== undefined);
      return { tag, q: weight === undefined ? 1 : Number(weight), index };
    })
    .filter(({ tag, q }) => tag !== '' && q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    if (tag === '*') return DEFAULT_LOCALE;
    const locale = localeOfTag(tag);
    if (locale !== undefined) return locale;
  }
  return undefined;
};

/** What the language of a page or a message can be decided from. */
export interface LocaleClues {
  /** The person's saved `locale` preference (null: "from the browser"). */
  readonly preference?: Locale | null | undefined;
  /** The language switch's cookie, as sent (anything). */
  readonly cookie?: string | undefined;
  /** The request's `Accept-Language`. */
  readonly acceptLanguage?: string | undefined;
}

/**
 * The language to use: the person's preference, else the switch's cookie (a visitor's choice),
 * else the browser's `Accept-Language`, else English.
 */
export const chooseLocale = (clues: LocaleClues): Locale => {
  if (clues.preference !== null && clues.preference !== undefined) return clues.preference;
  if (isLocale(clues.cookie)) return clues.cookie;
  return localeFromAcceptLanguage(clues.acceptLanguage) ?? DEFAULT_LOCALE;
};

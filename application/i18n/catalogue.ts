/**
 * Tidings' own words in each language: one typed catalogue per language, and the few functions
 * that read them.
 *
 * Why a typed catalogue and not an i18n library: the job is two languages, plain `{name}`
 * placeholders and plurals, and `Intl` already does the hard parts (plural rules, dates and times
 * in a zone). The catalogues are used in two places, the server's templates and the pages' own
 * browser scripts, which are plain ES modules served without a bundler; a library would have to
 * be shipped to the browser as well, while a catalogue is data the page carries as JSON. Typing
 * every catalogue as `Record<MessageKey, string>` makes a missing or extra key a compile error,
 * which a library's runtime lookup only finds when the page is shown.
 */
import type { Locale } from '../../domain/recipient/recipientPreferences.js';
import { en, type MessageKey } from './en.js';
import { zhCN } from './zhCN.js';

export type { MessageKey } from './en.js';

/** One language's strings. */
export type Catalogue = Readonly<Record<MessageKey, string>>;

/** Every catalogue by its locale. */
export const catalogues: Readonly<Record<Locale, Catalogue>> = { 'zh-CN': zhCN, en };

/** Values a template's `{name}` placeholders are filled with. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** The `{name}` placeholders of a template, in order. */
export const placeholdersOf = (template: string): string[] =>
  [...template.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((match) => match[1] ?? '');

/**
 * A template split at its placeholders: the text between them, and each placeholder's value
 * (`fill(name)`), in order. Callers that need markup (a name in bold) pass elements; a
 * placeholder without a value stays as written, so a mistake shows rather than vanishes.
 */
export const splitTemplate = <V>(
  template: string,
  fill: (name: string) => V | undefined,
): (string | V)[] => {
  const parts: (string | V)[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)) {
    const value = fill(match[1] ?? '');
    if (value === undefined) continue;
    if (match.index > last) parts.push(template.slice(last, match.index));
    parts.push(value);
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return parts;
};

/** The text of `key` in `locale`, its placeholders filled from `params`. */
export const translate = (locale: Locale, key: MessageKey, params: MessageParams = {}): string =>
  splitTemplate(catalogues[locale][key], (name) =>
    params[name] === undefined ? undefined : String(params[name]),
  ).join('');

/** The keys that come in plural forms, without their `.one`/`.other`. */
export type CountedKey = MessageKey extends infer K
  ? K extends `${infer Base}.other`
    ? Base
    : never
  : never;

/**
 * The plural form of `base` for `count` (`Intl.PluralRules` of the locale: English has `one` and
 * `other`, Chinese `other` only), with `{count}` and `params` filled in.
 */
export const translateCount = (
  locale: Locale,
  base: CountedKey,
  count: number,
  params: MessageParams = {},
): string => {
  const form = new Intl.PluralRules(locale).select(count) === 'one' ? 'one' : 'other';
  const key = `${base}.${form}` as MessageKey;
  return translate(locale, key in catalogues[locale] ? key : (`${base}.other` as MessageKey), {
    count,
    ...params,
  });
};

/** A time as the person reads it: date and time in their language and time zone. */
export const formatDateTime = (
  locale: Locale,
  iso: string,
  timeZone: string | null | undefined,
  style: { readonly dateStyle?: 'medium' | 'long'; readonly timeStyle?: 'short' } = {
    dateStyle: 'medium',
    timeStyle: 'short',
  },
): string =>
  new Intl.DateTimeFormat(locale, {
    ...style,
    ...(timeZone === null || timeZone === undefined ? {} : { timeZone }),
  }).format(new Date(iso));

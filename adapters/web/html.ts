/**
 * HTML built from template strings. Every interpolated value goes through {@link escapeHtml}
 * unless it is itself the result of {@link html} (already safe), so a title such as
 * `<script>alert(1)</script>` always reaches the browser as text.
 */

const brand: unique symbol = Symbol('SafeHtml');

/** Markup that is safe to send as is: built by {@link html} from escaped values. */
export interface SafeHtml {
  readonly [brand]: true;
  readonly text: string;
}

/** What a template may interpolate. Arrays are joined; `undefined`, `null` and `false` vanish. */
export type HtmlValue =
  SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const replacements: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * The one escaping function: safe in element content and in quoted attribute values (the only
 * two places the templates interpolate into).
 */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"'`]/g, (char) => replacements[char] ?? char);

const isSafe = (value: unknown): value is SafeHtml =>
  typeof value === 'object' && value !== null && brand in value;

const render = (value: HtmlValue): string => {
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return escapeHtml(String(value));
  if (isSafe(value)) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  // Reachable only around the types (an object that is neither): escaped, never markup.
  return escapeHtml(Object.prototype.toString.call(value));
};

/** Wraps a string the caller vouches for (a constant, never input) as markup. */
export const trusted = (text: string): SafeHtml => ({ [brand]: true, text });

/** The tagged template: `html\`<p>${title}</p>\`` escapes `title`. */
export const html = (strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml => {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return trusted(text);
};

import type { ModerationInput, PolicyVerdict, SyncModerationPolicy } from './policy.js';
import { PASS } from './policy.js';

/** Limits of {@link limitsPolicy}; lengths count characters (Unicode code points). */
export interface MessageLimits {
  readonly maxTitle: number;
  readonly maxSubtitle: number;
  readonly maxBody: number;
  /** URL schemes a link may use, without the colon. */
  readonly urlSchemes: readonly string[];
}

export const DEFAULT_LIMITS: MessageLimits = {
  maxTitle: 256,
  maxSubtitle: 256,
  maxBody: 4000,
  urlSchemes: ['http', 'https'],
};

/** Counts code points, so an emoji or a rare CJK character is one character, not two. */
export const characterCount = (text: string): number => {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const following = text.charCodeAt(i + 1);
      if (following >= 0xdc00 && following <= 0xdfff) i++;
    }
    count++;
  }
  return count;
};

/** C0/C1 control characters except tab and line feed (which a message body may use). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;
/** A link has no business with any control character or white space. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_OR_SPACE_IN_URL = /[\u0000-\u0020\u007F-\u009F]/u;

const codePointName = (char: string): string =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

const reject = (reason: string): PolicyVerdict => ({ kind: 'reject', reason });

/**
 * Rejects messages outside the limits, with a reason naming the field and the limit:
 * title ≤ 256, subtitle ≤ 256 and body ≤ 4,000 characters (code points); no control characters
 * other than `\n` and `\t` in the texts (a carriage return included: line breaks are `\n`); a url
 * must parse, use http or https, and hold no control character or white space (the URL parser
 * would silently drop some of them, so `java\nscript:` is refused before it can become
 * `javascript:`). The first problem found is reported.
 */
export const limitsPolicy = (
  limits: Partial<MessageLimits> = {},
  name = 'limits',
): SyncModerationPolicy => {
  const { maxTitle, maxSubtitle, maxBody, urlSchemes } = { ...DEFAULT_LIMITS, ...limits };
  const schemes = new Set(urlSchemes.map((scheme) => `${scheme.toLowerCase()}:`));
  const texts: readonly (readonly ['title' | 'subtitle' | 'body', number])[] = [
    ['title', maxTitle],
    ['subtitle', maxSubtitle],
    ['body', maxBody],
  ];

  return {
    name,
    answersAtOnce: true,
    check: (input: ModerationInput): PolicyVerdict => {
      for (const [field, max] of texts) {
        const text = input[field];
        if (text === undefined) continue;
        const control = CONTROL_IN_TEXT.exec(text);
        if (control !== null) {
          return reject(`${field} contains a control character (${codePointName(control[0])})`);
        }
        const length = characterCount(text);
        if (length > max) {
          return reject(`${field} is too long: ${length} characters, the limit is ${max}`);
        }
      }
      if (input.url !== undefined) {
        const control = CONTROL_OR_SPACE_IN_URL.exec(input.url);
        if (control !== null) {
          return reject(
            `url contains a control character or white space (${codePointName(control[0])})`,
          );
        }
        let protocol: string;
        try {
          protocol = new URL(input.url).protocol;
        } catch {
          return reject('url is not a valid absolute URL');
        }
        if (!schemes.has(protocol)) {
          return reject(
            `url scheme "${protocol.slice(0, -1)}" is not allowed (allowed: ${urlSchemes.join(', ')})`,
          );
        }
      }
      return PASS;
    },
  };
};

import type { OutgoingMessage } from '../channel.js';
import { encodingOf, segmentsOf } from './smsSegments.js';

/**
 * The most SMS one message may cost: three parts, 459 GSM characters or 201 UTF-16 units
 * (docs/sms.md "The text"). One part (70 characters of Chinese) is too short for a title and a
 * useful body; more than three multiplies the operator's bill for what a notification should say
 * in a glance.
 */
export const SMS_MAX_SEGMENTS = 3;

/** The longest app name put in front, in code points; a longer one is cut so the message keeps room. */
export const SMS_APP_NAME_MAX = 30;

/**
 * The mark of a cut: `…` in a UCS-2 text. A GSM text gets `...` instead, since `…` is not in the
 * GSM alphabet and would switch the whole text to UCS-2, leaving it less than half the room.
 */
const ellipsisFor = (text: string): string => (encodingOf(text) === 'gsm7' ? '...' : '…');

/** A cut text, and how many code points of the original start it kept. */
interface Cut {
  readonly text: string;
  readonly kept: number;
}

/**
 * The longest start of `text`, cut at a code-point boundary, trailing spaces dropped, ended with
 * the ellipsis and followed by `suffix`, that costs at most `maxSegments`; `undefined` when not
 * even the ellipsis and the suffix fit. The ellipsis is chosen from the whole uncut text, so a cut
 * never changes the encoding. The cost of a start grows with its length, hence the binary search.
 */
const cutToFit = (text: string, suffix: string, maxSegments: number): Cut | undefined => {
  const chars = Array.from(text);
  const ellipsis = ellipsisFor(text + suffix);
  const candidate = (kept: number): string =>
    `${chars.slice(0, kept).join('').trimEnd()}${ellipsis}${suffix}`;
  if (segmentsOf(candidate(0)) > maxSegments) return undefined;
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (segmentsOf(candidate(middle)) <= maxSegments) low = middle;
    else high = middle - 1;
  }
  return { text: candidate(low), kept: low };
};

/** `text` itself when it is not longer than `max` code points, otherwise cut to `max` with the ellipsis. */
const cutCodePoints = (text: string, max: number): string => {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const ellipsis = ellipsisFor(text);
  return `${chars.slice(0, max - Array.from(ellipsis).length).join('')}${ellipsis}`;
};

const present = (text: string | undefined): text is string =>
  text !== undefined && text.trim() !== '';

/**
 * The app's name in brackets, cut to {@link SMS_APP_NAME_MAX}; its id when the name is blank. An
 * SMS has no sender field Tidings controls (the gateway's number sends every message), so the
 * name in front is the only way a person can tell which app is speaking.
 */
const prefixOf = (message: OutgoingMessage): string =>
  `[${cutCodePoints(present(message.appName) ? message.appName.trim() : message.appId, SMS_APP_NAME_MAX)}] `;

/** `Title - Subtitle: `, `Title: `, `Subtitle: ` or nothing. */
const headOf = (message: OutgoingMessage): string => {
  const parts = [message.title, message.subtitle].filter(present).map((part) => part.trim());
  return parts.length === 0 ? '' : `${parts.join(' - ')}: `;
};

/**
 * The text of the SMS for a message: `[App name] Title - Subtitle: body url`, kept within
 * {@link SMS_MAX_SEGMENTS}. When it is longer, it is cut from the end (the body first, then the
 * title, never the app name in front), at a code-point boundary, ending with `…` (`...` in a GSM
 * text); the URL stays whole after the cut, because half a link opens the wrong page, unless it
 * leaves no room for anything but the app name, when it is dropped. Pure: the same message gives
 * the same text.
 */
export const smsTextOf = (message: OutgoingMessage): string => {
  const prefix = prefixOf(message);
  const main = `${prefix}${headOf(message)}${message.body.trim()}`;
  const suffix = present(message.url) ? ` ${message.url.trim()}` : '';
  const whole = `${main}${suffix}`;
  if (segmentsOf(whole) <= SMS_MAX_SEGMENTS) return whole;
  if (suffix !== '') {
    const withUrl = cutToFit(main, suffix, SMS_MAX_SEGMENTS);
    // Keeping the link is worth it only while some of the message itself is left beside it.
    if (withUrl !== undefined && withUrl.kept > Array.from(prefix).length) return withUrl.text;
  }
  // Without the link the message may fit whole (a huge URL was all that was too long).
  if (segmentsOf(main) <= SMS_MAX_SEGMENTS) return main;
  // The prefix is at most SMS_APP_NAME_MAX + 3 code points, far below one part, so this fits.
  return cutToFit(main, '', SMS_MAX_SEGMENTS)?.text ?? prefix.trimEnd();
};

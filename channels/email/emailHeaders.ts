import { createHash } from 'node:crypto';
import type { OutgoingMessage, RecallTarget } from '../channel.js';

/**
 * Header values made from a message. Everything here is pure and deterministic, so a retry sends
 * the very same headers, and every step of a thread computes the same root id on its own.
 */

/** Most characters of the subject's text after the `[App]` prefix; RFC 5322 suggests 78 a line. */
export const SUBJECT_TEXT_MAX = 100;

/** Most characters of the app's name in the subject's `[App]` prefix. */
export const SUBJECT_APP_MAX = 40;

const ELLIPSIS = '…';

/**
 * C0 and C1 controls, DEL, and the Unicode line and paragraph separators: none may reach a
 * header, where a CR or LF would start a new header (injection) and the rest are invisible.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` as one line: every control character and run of white space becomes one space. */
export const singleLine = (text: string): string =>
  text.replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();

/** `text` cut to at most `max` code points (never inside a surrogate pair), ending with `…` when cut. */
export const cutChars = (text: string, max: number): string => {
  const chars = Array.from(text);
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}${ELLIPSIS}`;
};

/** The first line of `body` with any content, or `''`. */
const firstLine = (body: string): string =>
  body.split(/\r\n|\r|\n/).find((line) => singleLine(line) !== '') ?? '';

/** The app's name for people: its name, or its id when the name is blank. */
export const appLabel = (message: Pick<OutgoingMessage, 'appId' | 'appName'>): string => {
  const name = singleLine(message.appName);
  return name === '' ? singleLine(message.appId) : name;
};

/**
 * `[App] title`, or `[App] first line of the body` without a title: one line, the app's name cut
 * to {@link SUBJECT_APP_MAX} and the text to {@link SUBJECT_TEXT_MAX} characters.
 */
export const subjectOf = (message: OutgoingMessage): string => {
  const title = singleLine(message.title ?? '');
  const text = cutChars(
    title === '' ? singleLine(firstLine(message.body)) : title,
    SUBJECT_TEXT_MAX,
  );
  const prefix = `[${cutChars(appLabel(message), SUBJECT_APP_MAX)}]`;
  return text === '' ? prefix : `${prefix} ${text}`;
};

const sha256 = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

/** Ids that can go into a Message-ID's left part as they are (atext, no dots to get wrong). */
const PLAIN_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The `Message-ID` of a message: `<tidings-{messageId}@{domain}>`, or
 * `<tidings-sha256-{hash}@{domain}>` for an id that is not plain letters, digits, `_` and `-`
 * (or is over 100 characters), so the header is always valid and the same on every retry.
 */
export const messageIdFor = (messageId: string, domain: string): string =>
  PLAIN_ID.test(messageId)
    ? `<tidings-${messageId}@${domain}>`
    : `<tidings-sha256-${sha256(messageId)}@${domain}>`;

/** `thread` when it has any content; an empty or blank thread is no thread. */
export const threadOf = (message: RecallTarget): string | undefined =>
  message.thread !== undefined && message.thread.trim() !== '' ? message.thread : undefined;

/**
 * The root id of an app's thread: `<thread-{hash}@{domain}>`, the hash the base64url SHA-256 of
 * the JSON array `[appId, thread]` (an array, so no app id and thread can be confused with
 * another pair sharing a separator). Every step of the thread refers to it, and no mail ever
 * carries it as its own `Message-ID`: the root is virtual, so no step has to be first (see
 * docs/email.md "Threading"). Scoped by the app, so two apps using one thread name for the same
 * person make two threads.
 */
export const threadRootFor = (appId: string, thread: string, domain: string): string =>
  `<thread-${sha256(JSON.stringify([appId, thread]))}@${domain}>`;

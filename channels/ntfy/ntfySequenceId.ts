import { createHash } from 'node:crypto';
import type { RecallTarget } from '../channel.js';

/**
 * What ntfy accepts as a sequence id (its `sequenceIDRegex`, the same rule as topics): 1–64
 * ASCII letters, digits, `-` and `_`. Anything else is answered `400 sequence ID invalid`, and
 * the whole message is lost with it. Written so that it compiles the same with the `u` and the
 * `v` flag (the devices page's form checks the topic with it).
 */
export const NTFY_ID = '[A-Za-z0-9_\\-]{1,64}';

/** {@link NTFY_ID}, the whole value. */
export const NTFY_ID_PATTERN = new RegExp(`^${NTFY_ID}$`, 'u');

/** base64url SHA-256 of the UTF-8 bytes: 43 characters, all within {@link NTFY_ID_PATTERN}. */
const digest = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

/** The prefixes of derived ids; a message id that starts with one is derived too, to stay apart. */
const DERIVED = /^[tm]-/;

/** `thread` when it has any content; an empty or blank thread is no thread (as for Bark). */
const threadOf = (message: RecallTarget): string | undefined =>
  message.thread !== undefined && message.thread.trim() !== '' ? message.thread : undefined;

/**
 * The ntfy sequence id of a message; a later message with the same one replaces the notification
 * in place, and a recall deletes it by the same id.
 *
 * - In a thread: `t-` and the hash of the pair (app id, thread), 45 characters. The thread is
 *   scoped by the app, as Bark's id is (a topic, like a Bark device, is shared by every app of
 *   the person), so two apps using one thread name never replace or delete each other's
 *   notification. It is always hashed: threads are free text (Chinese, spaces, `/`, `:`), and
 *   hashing every one keeps the mapping stable with no raw form to collide with a hashed one. The
 *   pair is hashed as JSON, so no app id and thread can be split differently into the same text.
 * - Without one: the message id itself when ntfy accepts it and it does not look derived;
 *   otherwise `m-` and its hash.
 */
export const ntfySequenceIdFor = (message: RecallTarget): string => {
  const thread = threadOf(message);
  // A JSON pair, not `<appId>:<thread>`: ("a", "b:c") and ("a:b", "c") must not meet.
  if (thread !== undefined) return `t-${digest(JSON.stringify([message.appId, thread]))}`;
  const id = message.messageId;
  return NTFY_ID_PATTERN.test(id) && !DERIVED.test(id) ? id : `m-${digest(id)}`;
};

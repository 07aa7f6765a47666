import { createHash } from 'node:crypto';
import type { Channel, OutgoingMessage, RecallTarget } from '../channel.js';
import { fitPayload } from './barkPayload.js';
import { sendBark } from './barkSend.js';

/** A recipient's Bark settings: which bark-server, and which device on it. */
export interface BarkSettings {
  /** Base URL of the bark-server (`https://api.day.app`, or a self-hosted one with a prefix). */
  readonly serverUrl: string;
  /** The key the Bark app shows; one key is one device. Secret. */
  readonly deviceKey: string;
}

/** Bark's interruption levels that apps may ask for. `critical` is never sent (see {@link renderBark}). */
export type BarkLevel = 'active' | 'timeSensitive' | 'passive';

/** The JSON body of a push (`POST /push`), field names as bark-server reads them. */
export interface BarkPush {
  readonly device_key: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly body: string;
  readonly level: BarkLevel;
  readonly group: string;
  readonly id: string;
  readonly url?: string;
}

/** The JSON body of a recall: removes the notification with `id` and its Bark history entry. */
export interface BarkRecall {
  readonly device_key: string;
  readonly id: string;
  readonly delete: '1';
}

/** One request to a bark-server. Holds the device key: never log it whole. */
export interface BarkRequest {
  readonly url: string;
  readonly body: BarkPush | BarkRecall;
}

/** Longest id Apple accepts as a collapse id (`apns-collapse-id`), in UTF-8 bytes. */
export const BARK_ID_MAX_BYTES = 64;

const levels: ReadonlySet<string> = new Set<BarkLevel>(['active', 'timeSensitive', 'passive']);

/**
 * The Bark `id` for a thread or message id: the value itself when it fits Apple's 64-byte
 * collapse id, otherwise `sha256-` and the base64url SHA-256 of its UTF-8 bytes (50 bytes). The
 * hash keeps it stable — every step of a long thread gets the same id, so they still replace each
 * other, and a recall finds the notification again — at a 2^-256 chance of two threads sharing
 * one.
 */
export const barkIdFor = (value: string): string =>
  Buffer.byteLength(value, 'utf8') <= BARK_ID_MAX_BYTES
    ? value
    : `sha256-${createHash('sha256').update(value, 'utf8').digest('base64url')}`;

/** `thread` when it has any content; an empty or blank thread is no thread. */
const threadOf = (message: RecallTarget): string | undefined =>
  message.thread !== undefined && message.thread.trim() !== '' ? message.thread : undefined;

/**
 * The notification id a message gets on the device; recall must use the very same. A thread's id
 * is scoped by the app: ids are per device, not per app, so an unscoped thread name would let one
 * app replace or recall another app's notification (a deliberate departure from docs/bark.md's
 * "thread → id", which did not consider several apps on one phone).
 */
const notificationId = (message: RecallTarget): string => {
  const thread = threadOf(message);
  return barkIdFor(thread === undefined ? message.messageId : `${message.appId}:${thread}`);
};

/** `POST {serverUrl}/push`; trailing slashes of the server URL are dropped (`//push` is not a route). */
const pushUrl = (settings: BarkSettings): string =>
  `${settings.serverUrl.replace(/\/+$/, '')}/push`;

/**
 * The Bark request for a message, following "Mapping in Tidings" in `docs/bark.md`:
 *
 * - `level`: the message's hint; `active` when there is none. Only `active`, `timeSensitive` and
 *   `passive` are ever sent: `critical` (rings through mute) and any other value are replaced by
 *   `active`, so no app can make a phone ring in a silent room.
 * - with a `thread`: `group` = the thread and `id` = `<appId>:<thread>`, so the steps of one work
 *   order replace each other on the lock screen ({@link notificationId}). An id longer than 64
 *   UTF-8 bytes becomes a stable hash-derived one ({@link barkIdFor}); the group stays the thread.
 * - without one (or with a blank one): `group` = the app's name (its id if the name is blank) and
 *   `id` = the message id ({@link barkIdFor} too, should it ever exceed 64 bytes).
 * - `title`, `subtitle` (when non-empty) and `url` are passed on; `body` always is.
 * - the push is kept within Apple's 4 KiB payload ({@link fitPayload}): the body is cut first, at
 *   a code-point boundary and ending with `…`; only if that is not enough the subtitle and title
 *   are cut, the url dropped and an oversized group replaced by the id.
 *
 * Ids are per device, not per app, which is why a thread's id carries the app's id: two apps that
 * use the same thread name for the same person never replace or recall each other's notification.
 */
export const renderBark = (message: OutgoingMessage, settings: BarkSettings): BarkRequest => {
  const thread = threadOf(message);
  const level: BarkLevel =
    message.level !== undefined && levels.has(message.level) ? message.level : 'active';
  const fields = fitPayload({
    ...(message.title === undefined || message.title === '' ? {} : { title: message.title }),
    ...(message.subtitle === undefined || message.subtitle === ''
      ? {}
      : { subtitle: message.subtitle }),
    body: message.body,
    level,
    group: thread ?? (message.appName.trim() === '' ? message.appId : message.appName),
    id: notificationId(message),
    ...(message.url === undefined || message.url === '' ? {} : { url: message.url }),
  });
  return { url: pushUrl(settings), body: { device_key: settings.deviceKey, ...fields, level } };
};

/**
 * The Bark request that takes a delivered message back: `{ device_key, id, delete: "1" }` with the
 * id {@link renderBark} gave it. bark-server turns it into a silent push that removes the
 * notification and its history entry. For a message in a thread that is the thread's current
 * notification — by then possibly a later step that replaced this one.
 */
export const renderBarkRecall = (message: RecallTarget, settings: BarkSettings): BarkRequest => ({
  url: pushUrl(settings),
  body: { device_key: settings.deviceKey, id: notificationId(message), delete: '1' },
});

/** Options of {@link createBarkChannel}. */
export interface BarkChannelOptions {
  /** Time limit of one attempt, connection included; default 5000 ms. */
  readonly timeoutMs?: number;
}

/**
 * The `bark` channel: pushes to an iOS device through a bark-server. Settings: `serverUrl`
 * (required, not secret) and `deviceKey` (required, secret).
 */
export const createBarkChannel = (
  options: BarkChannelOptions = {},
): Channel<BarkSettings, BarkRequest> => {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    kind: 'bark',
    name: 'Bark (iOS)',
    settings: [
      {
        name: 'serverUrl',
        description: 'Base URL of the bark-server, e.g. https://api.day.app',
        type: 'url',
        secret: false,
        required: true,
      },
      {
        name: 'deviceKey',
        description: 'The device key shown in the Bark app (one key per device)',
        type: 'string',
        secret: true,
        required: true,
      },
    ],
    render: renderBark,
    renderRecall: renderBarkRecall,
    send: (request, context) => sendBark(request, context, timeoutMs),
  };
};

/** The `bark` channel with a 5 s time limit per attempt. */
export const barkChannel: Channel<BarkSettings, BarkRequest> = createBarkChannel();

import type { Channel, OutgoingMessage, RecallTarget } from '../channel.js';
import { fitMessage } from './ntfyMessage.js';
import { sendNtfy } from './ntfySend.js';
import { NTFY_ID, NTFY_ID_PATTERN, ntfySequenceIdFor } from './ntfySequenceId.js';

/** A recipient's ntfy settings: which server, which topic on it, and the token to publish with. */
export interface NtfySettings {
  /** Base URL of the ntfy server; {@link NTFY_DEFAULT_SERVER} when absent or empty. */
  readonly serverUrl?: string;
  /** The topic the person's ntfy app subscribes to. */
  readonly topic: string;
  /** An access token (`tk_…`) for a protected topic; none when absent or empty. Secret. */
  readonly token?: string;
}

/** The public ntfy server. */
export const NTFY_DEFAULT_SERVER = 'https://ntfy.sh';

/** ntfy priorities Tidings sends: 4 high, 3 default, 2 low (silent on the phone). */
export type NtfyPriority = 2 | 3 | 4;

/** The JSON body of a publish (`POST {serverUrl}/`), field names as ntfy reads them. */
export interface NtfyPublish {
  readonly topic: string;
  readonly message: string;
  readonly title?: string;
  readonly priority: NtfyPriority;
  readonly tags?: readonly string[];
  readonly click?: string;
  readonly sequence_id: string;
}

/**
 * One request to an ntfy server, or the reason there can be none. Holds the token: never log it.
 *
 * - `publish`: `POST {url}` with {@link NtfyPublish} as JSON.
 * - `delete`: `DELETE {url}` (`{serverUrl}/{topic}/{sequenceId}`), which removes the notification.
 * - `invalid`: the settings cannot make a request ntfy would take (a topic outside ntfy's rule);
 *   `send` rejects it as `misconfigured` without sending.
 */
export type NtfyRequest =
  | {
      readonly kind: 'publish';
      readonly url: string;
      readonly token?: string;
      readonly body: NtfyPublish;
    }
  | { readonly kind: 'delete'; readonly url: string; readonly token?: string }
  | { readonly kind: 'invalid'; readonly reason: string };

const priorities: Readonly<Record<string, NtfyPriority>> = {
  timeSensitive: 4,
  active: 3,
  passive: 2,
};

const baseOf = (settings: NtfySettings): string =>
  (settings.serverUrl === undefined || settings.serverUrl === ''
    ? NTFY_DEFAULT_SERVER
    : settings.serverUrl
  ).replace(/\/+$/, '');

const tokenOf = (settings: NtfySettings): { readonly token?: string } =>
  settings.token === undefined || settings.token === '' ? {} : { token: settings.token };

/** The refusal of a topic ntfy would answer `400 topic invalid` for; the topic is not quoted. */
const invalidTopic = (settings: NtfySettings): NtfyRequest | undefined =>
  NTFY_ID_PATTERN.test(settings.topic)
    ? undefined
    : {
        kind: 'invalid',
        reason: `the ntfy topic is not valid (${Array.from(settings.topic).length} characters): a topic is 1–64 letters, digits, "-" or "_"`,
      };

/**
 * The ntfy publish for a message, following "The mapping" in `docs/ntfy.md`:
 *
 * - the JSON form, `POST {serverUrl}/` with the topic in the body: every field is JSON, so titles
 *   in any script, newlines and quotes need no header encoding (RFC 2047) and no header can be
 *   split or injected.
 * - `title` when not empty; `message` = the body, after the subtitle and a blank line when there
 *   is one (ntfy has no subtitle), cut to 4,096 UTF-8 bytes ({@link fitMessage}).
 * - `priority` from the level hint: `timeSensitive` 4, `active` (and none) 3, `passive` 2. 5
 *   (max, which overrides Do Not Disturb on Android) is never sent.
 * - `tags`: the app's name, so the person sees which app speaks (ntfy shows tags under the
 *   title; a tag that is an emoji short code shows as the emoji). Its commas become spaces: ntfy
 *   joins the JSON tags with "," and splits them again, so "Acme, Inc." would be two tags.
 * - `click`: the message's url, opened on tap.
 * - `sequence_id`: {@link ntfySequenceIdFor}, so the steps of a work order replace each other.
 *
 * A topic outside ntfy's rule gives an `invalid` request, which `send` rejects as misconfigured.
 */
export const renderNtfy = (message: OutgoingMessage, settings: NtfySettings): NtfyRequest => {
  const invalid = invalidTopic(settings);
  if (invalid !== undefined) return invalid;
  const text =
    message.subtitle === undefined || message.subtitle === ''
      ? message.body
      : `${message.subtitle}\n\n${message.body}`;
  const appName = message.appName.replace(/\s*,[\s,]*/g, ' ').trim();
  return {
    kind: 'publish',
    url: `${baseOf(settings)}/`,
    ...tokenOf(settings),
    body: {
      topic: settings.topic,
      message: fitMessage(text),
      ...(message.title === undefined || message.title === '' ? {} : { title: message.title }),
      priority: (message.level === undefined ? undefined : priorities[message.level]) ?? 3,
      ...(appName === '' ? {} : { tags: [appName] }),
      ...(message.url === undefined || message.url === '' ? {} : { click: message.url }),
      sequence_id: ntfySequenceIdFor(message),
    },
  };
};

/**
 * The ntfy request that takes a delivered message back: `DELETE {serverUrl}/{topic}/{sequenceId}`
 * with the sequence id {@link renderNtfy} gave it (ntfy 2.16+ publishes a `message_delete` event
 * and the apps remove the notification). For a message in a thread that is the thread's current
 * notification, possibly a later step that replaced this one.
 */
export const renderNtfyRecall = (message: RecallTarget, settings: NtfySettings): NtfyRequest =>
  invalidTopic(settings) ?? {
    kind: 'delete',
    url: `${baseOf(settings)}/${settings.topic}/${ntfySequenceIdFor(message)}`,
    ...tokenOf(settings),
  };

/** Options of {@link createNtfyChannel}. */
export interface NtfyChannelOptions {
  /** Time limit of one attempt, connection included; default 5000 ms. */
  readonly timeoutMs?: number;
}

/**
 * The `ntfy` channel: publishes to a topic on an ntfy server (ntfy.sh or self-hosted), which the
 * person's ntfy app (Android, iOS, web) subscribes to. Settings: `serverUrl` (url, optional,
 * default ntfy.sh), `topic` (required) and `token` (optional, secret).
 */
export const createNtfyChannel = (
  options: NtfyChannelOptions = {},
): Channel<NtfySettings, NtfyRequest> => {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    kind: 'ntfy',
    name: 'ntfy (Android, iOS, web)',
    settings: [
      {
        name: 'serverUrl',
        description: 'Base URL of the ntfy server; https://ntfy.sh unless you run your own',
        type: 'url',
        secret: false,
        required: false,
        default: NTFY_DEFAULT_SERVER,
      },
      {
        name: 'topic',
        description:
          'The topic your ntfy app subscribes to: 1–64 letters, digits, "-" or "_"; hard to guess, since anyone who knows it can read it',
        type: 'string',
        pattern: NTFY_ID,
        secret: false,
        required: true,
      },
      {
        name: 'token',
        description: 'An access token (tk_…) when the topic is protected',
        type: 'string',
        secret: true,
        required: false,
      },
    ],
    render: renderNtfy,
    renderRecall: renderNtfyRecall,
    send: (request, context) => sendNtfy(request, context, timeoutMs),
  };
};

/** The `ntfy` channel with a 5 s time limit per attempt. */
export const ntfyChannel: Channel<NtfySettings, NtfyRequest> = createNtfyChannel();

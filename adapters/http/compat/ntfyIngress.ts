import type { IncomingHttpHeaders } from 'node:http';
import * as E from 'fp-ts/lib/Either.js';
import { MAX_DELAY_SECONDS } from '../../../application/messages/messageDraft.js';
import {
  badRequest,
  BINDING_KEY,
  checkedDraft,
  queryOf,
  utf8Text,
  type CompatFailure,
  type CompatMessage,
  type Parsed,
} from './compatRequest.js';

/** What an ntfy publish is read from. */
export interface NtfyRequest {
  readonly headers: IncomingHttpHeaders;
  /** The request target, query included. */
  readonly url: string;
  readonly body: Buffer;
}

/** ntfy's message when a publish carries none (its docs: "triggered"). */
const EMPTY_MESSAGE = 'triggered';

const ntfyNames: Readonly<Record<string, string>> = {
  key: 'topic',
  body: 'message',
  title: 'title',
  url: 'click',
  thread: 'sequence id',
  level: 'priority',
};

const PRIORITY_LINK = 'https://ntfy.sh/docs/publish/#message-priority';
const DELAY_LINK = 'https://ntfy.sh/docs/publish/#scheduled-delivery';
const JSON_LINK = 'https://ntfy.sh/docs/publish/#publish-as-json';

/** ntfy's priorities by name and number. */
const priorities: Readonly<Record<string, number>> = {
  '1': 1,
  min: 1,
  '2': 2,
  low: 2,
  '3': 3,
  default: 3,
  '4': 4,
  high: 4,
  '5': 5,
  max: 5,
  urgent: 5,
};

/** docs/api.md: 4–5 break through as `timeSensitive`, 1–2 are `passive`, 3 is Bark's default. */
const levelOf = (priority: number): 'timeSensitive' | 'passive' | undefined =>
  priority >= 4 ? 'timeSensitive' : priority <= 2 ? 'passive' : undefined;

/**
 * An RFC 2047 encoded word in UTF-8 (`=?UTF-8?B?5Lit5paH?=`), as ntfy's clients send non-ASCII
 * titles in headers; other text is returned as it is.
 */
const decodeEncodedWords = (value: string): string =>
  value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (word, encoding: string, text: string) => {
    const bytes =
      encoding.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9a-f]{2})/gi, (_m, hex: string) =>
                String.fromCharCode(parseInt(hex, 16)),
              ),
            'latin1',
          );
    return utf8Text(bytes) ?? word;
  });

/**
 * The first of `names` given as a header, else as a query parameter (ntfy takes every header as
 * a parameter too, `?title=` `?t=`); Node hands header bytes over as Latin-1, so they are read
 * back as the UTF-8 they are. Undefined when absent, a failure when not UTF-8.
 */
const option = (
  request: NtfyRequest,
  query: URLSearchParams,
  names: readonly string[],
): E.Either<CompatFailure, string | undefined> => {
  for (const name of names) {
    const header = request.headers[name.toLowerCase()];
    const raw = Array.isArray(header) ? header.join(',') : header;
    if (raw !== undefined) {
      const text = utf8Text(Buffer.from(raw, 'latin1'));
      if (text === undefined) {
        return E.left(badRequest(`invalid request: the ${name} header is not UTF-8`, 40011));
      }
      return E.right(decodeEncodedWords(text.trim()));
    }
  }
  for (const name of names) {
    const value = query.get(name.toLowerCase().replace(/^x-/, ''));
    if (value !== null) return E.right(value);
  }
  return E.right(undefined);
};

/** A delay as ntfy takes it: `30s`, `10m`, `2h`, `1d`, or a Unix timestamp. */
const delayOf = (text: string, now: Date): E.Either<CompatFailure, { delaySeconds: number }> => {
  const duration = /^(\d+)\s*(s|sec|m|min|h|d)$/i.exec(text.trim());
  const unit = duration?.[2]?.toLowerCase();
  let seconds: number | undefined;
  if (duration !== null && unit !== undefined) {
    const scale = unit.startsWith('s')
      ? 1
      : unit.startsWith('m')
        ? 60
        : unit === 'h'
          ? 3600
          : 86400;
    seconds = Number(duration[1]) * scale;
  } else if (/^\d{9,11}$/.test(text.trim())) {
    seconds = Number(text.trim()) - Math.floor(now.getTime() / 1000);
    if (seconds < 0) {
      return E.left(
        badRequest(
          'invalid delay parameter: too small, please refer to the docs',
          40005,
          DELAY_LINK,
        ),
      );
    }
  }
  if (seconds === undefined) {
    return E.left(
      badRequest(
        'invalid delay parameter: unable to parse delay (give 30s, 10m, 2h, 1d or a Unix time)',
        40004,
        DELAY_LINK,
      ),
    );
  }
  if (seconds > MAX_DELAY_SECONDS) {
    return E.left(
      badRequest(
        `invalid delay parameter: too large, at most ${MAX_DELAY_SECONDS / 86400} days`,
        40006,
        DELAY_LINK,
      ),
    );
  }
  return E.right({ delaySeconds: seconds });
};

/** What an ntfy publish carries besides its topic and message. */
interface NtfyOptions {
  readonly title?: string | undefined;
  readonly priority?: string | number | undefined;
  readonly click?: string | undefined;
  readonly delay?: string | undefined;
  readonly sequenceId?: string | undefined;
}

/** The draft of a publish: the message, its options, the priority checked and mapped. */
const publishOf = (key: string, message: string, options: NtfyOptions, now: Date): Parsed => {
  let priority: number | undefined;
  if (options.priority !== undefined && options.priority !== '') {
    priority = priorities[String(options.priority).trim().toLowerCase()];
    if (priority === undefined) {
      return E.left(badRequest('invalid priority parameter', 40007, PRIORITY_LINK));
    }
  }
  const delay =
    options.delay === undefined || options.delay === '' ? E.right({}) : delayOf(options.delay, now);
  if (E.isLeft(delay)) return delay;
  const draft = checkedDraft(
    {
      key,
      body: message === '' ? EMPTY_MESSAGE : message,
      title: options.title === '' ? undefined : options.title,
      url: options.click === '' ? undefined : options.click,
      thread: options.sequenceId === '' ? undefined : options.sequenceId,
      level: priority === undefined ? undefined : levelOf(priority),
      ...delay.right,
    },
    ntfyNames,
  );
  if (E.isLeft(draft)) return draft;
  return E.right({ draft: draft.right, ...(priority === undefined ? {} : { priority }) });
};

/**
 * Reads `POST|PUT /:topic` as ntfy does: the message is the body (or the `X-Message` / `m`
 * header or parameter), UTF-8 whatever the content type says (curl sends text as a form);
 * `Title`, `Priority`, `Click`, `Delay` and `X-Sequence-ID` in any of ntfy's spellings, as
 * headers or query parameters. Tags, icons, actions, attachments and e-mail have no counterpart
 * and are dropped.
 */
export const parseNtfyPublish = (request: NtfyRequest, key: string, now: Date): Parsed => {
  const query = queryOf(request.url);
  const read = (...names: string[]) => option(request, query, names);
  const fields = {
    message: read('X-Message', 'Message', 'm'),
    title: read('X-Title', 'Title', 'ti', 't'),
    priority: read('X-Priority', 'Priority', 'prio', 'p'),
    click: read('X-Click', 'Click'),
    delay: read('X-Delay', 'Delay', 'X-At', 'At', 'X-In', 'In'),
    sequenceId: read('X-Sequence-ID', 'Sequence-ID', 'SID'),
  };
  for (const field of Object.values(fields)) if (E.isLeft(field)) return field;
  const value = (field: E.Either<CompatFailure, string | undefined>): string | undefined =>
    E.isRight(field) ? field.right : undefined;
  let message = value(fields.message);
  if (message === undefined) {
    message = utf8Text(request.body);
    if (message === undefined) {
      return E.left(badRequest('invalid message: message must be UTF-8 encoded', 40011));
    }
  }
  return publishOf(
    key,
    message,
    {
      title: value(fields.title),
      priority: value(fields.priority),
      click: value(fields.click),
      delay: value(fields.delay),
      sequenceId: value(fields.sequenceId),
    },
    now,
  );
};

/**
 * Reads `POST /` with ntfy's JSON (`{ topic, message, title, priority, click, delay }`),
 * whatever the content type (ntfy reads a root publish as JSON). A topic that is not a binding
 * key is refused as an unknown one: `unknown`.
 */
export const parseNtfyJson = (
  body: Buffer,
  now: Date,
): E.Either<CompatFailure | 'unknown', CompatMessage> => {
  const text = utf8Text(body);
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return E.left(
      badRequest('invalid request: request body must be message JSON', 40017, JSON_LINK),
    );
  }
  const json = parsed as Record<string, unknown>;
  const text1 = (name: string): string | undefined => {
    const member = json[name];
    return typeof member === 'string'
      ? member
      : typeof member === 'number'
        ? String(member)
        : undefined;
  };
  const topic = text1('topic');
  if (topic === undefined || topic === '') {
    return E.left(badRequest('invalid request: topic invalid', 40009));
  }
  if (!BINDING_KEY.test(topic)) return E.left('unknown');
  return publishOf(
    topic,
    text1('message') ?? '',
    {
      title: text1('title'),
      priority: typeof json['priority'] === 'number' ? json['priority'] : text1('priority'),
      click: text1('click'),
      delay: text1('delay') ?? text1('in') ?? text1('at'),
      sequenceId: text1('sequence_id'),
    },
    now,
  );
};

/** ntfy's answer to a publish: the message as JSON. */
export const ntfyAccepted = (
  message: { readonly messageId: string },
  published: CompatMessage,
  at: Date,
) => ({
  id: message.messageId,
  time: Math.floor(at.getTime() / 1000),
  event: 'message',
  topic: published.draft.key,
  message: published.draft.body,
  ...(published.draft.title === undefined ? {} : { title: published.draft.title }),
  ...(published.priority === undefined ? {} : { priority: published.priority }),
  ...(published.draft.url === undefined ? {} : { click: published.draft.url }),
});

/** ntfy's error answer (`{ code, http, error, link? }`); a code of its own where ntfy has one. */
export const ntfyRefused = (failure: CompatFailure) => ({
  code: failure.ntfyCode ?? ntfyCodeOf(failure.status),
  http: failure.status,
  error: failure.message,
  ...(failure.link === undefined ? {} : { link: failure.link }),
});

/** ntfy's codes by status for failures it has no code of its own for. */
const ntfyCodeOf = (status: number): number =>
  status === 429 ? 42901 : status === 403 ? 40301 : status >= 500 ? 50001 : status * 100;

/**
 * The answer to a topic that reaches nobody here — unknown, or of an app without compatible
 * ingress — which is what an ntfy server that denies writing to a topic answers.
 */
export const ntfyUnknownKey = (): CompatFailure => ({
  status: 403,
  message: 'forbidden',
  ntfyCode: 40301,
  link: 'https://ntfy.sh/docs/publish/#authentication',
});

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an ntfy server (binwiederhier/ntfy 2.16+) on 127.0.0.1, answering the way
 * its `server/server.go` and `server/errors.go` do for publishing:
 *
 * - `POST|PUT /` with a JSON body `{ topic, message?, title?, tags?, priority?, click?,
 *   sequence_id?, … }` (unknown fields ignored, like Go's decoder; `tags` joined with "," and
 *   split again, as ntfy does, so a tag with a comma is two); `POST|PUT /{topic}` with the
 *   message as the body and `X-Title`, `X-Priority`, `X-Tags`, `X-Click`, `X-Sequence-ID` (and
 *   their aliases, also as query parameters; RFC 2047 encoded words decoded); `POST|PUT
 *   /{topic}/{sequenceId}`.
 * - `DELETE /{topic}/{sequenceId}` (or `GET …/delete`) publishes a `message_delete` event, `PUT
 *   /{topic}/{sequenceId}/clear` (or `read`, or `GET`) a `message_clear` event; `GET /v1/health`.
 * - 200 answers are the message as JSON (`id`, `time`, `expires`, `event`, `topic`, …, with
 *   `sequence_id` when it differs from `id`); errors are ntfy's `{ code, http, error, link? }` with
 *   `Content-Type: application/json`, e.g. 400 `40009 invalid request: topic invalid`, 400 `40010`
 *   for a reserved name (`docs`, `static`, `file`, `app`, `account`, `settings`, …), 400 `40049
 *   invalid request: sequence ID invalid`, 400 `40007` a bad priority, 400 `40017` a body that is
 *   not message JSON, 413 `41303` JSON over the limit, 404 `40401 page not found`.
 * - auth as ntfy checks it: an `Authorization: Bearer` token it does not know is 401 `40101`
 *   before anything else; a topic the caller may not write is 403 `40301`.
 * - a message over `messageSizeLimit` (4,096 bytes) becomes an attachment (`attachment.txt`, the
 *   message replaced by "You received a file: attachment.txt"), or 400 `40014` without
 *   attachments.
 * - with `rateLimit`, requests past the burst answer 429 `42901` (with `Retry-After` when
 *   `retryAfterSeconds` is set: ntfy itself sends none, a proxy in front of it may).
 *
 * Scripts ({@link NtfyStandIn.failTimes}, {@link NtfyStandIn.respond}, {@link NtfyStandIn.delay})
 * stand for whatever sits in front of the server (a proxy answering 503, a slow link); they apply
 * to every request after the request is recorded.
 */

/** One HTTP request as the stand-in received it, whatever it answered. */
export interface NtfyReceivedRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  /** The parsed JSON body, when it parsed. */
  readonly json?: unknown;
}

/** A scripted answer: a status with ntfy's error JSON (or a raw body), plus extra headers. */
export interface NtfyScriptedAnswer {
  readonly status: number;
  /** The error JSON's `error`; the status text when absent. Ignored with `rawBody`. */
  readonly error?: string;
  /** Sent as is (`text/html`) instead of ntfy's JSON, like a proxy's error page. */
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A message or event in the topic's cache, as a subscriber would receive it. */
export interface NtfyStandInMessage {
  readonly id: string;
  readonly time: number;
  readonly expires: number;
  readonly event: 'message' | 'message_delete' | 'message_clear';
  readonly topic: string;
  readonly sequence_id?: string;
  readonly message?: string;
  readonly title?: string;
  readonly priority?: number;
  readonly tags?: readonly string[];
  readonly click?: string;
  readonly attachment?: {
    readonly name: string;
    readonly type: string;
    readonly size: number;
    readonly url: string;
  };
}

/** A notification a subscribed phone shows now. */
export interface NtfyStandInNotification {
  /** The sequence id that addresses it (the first message's id when none was given). */
  readonly sequenceId: string;
  readonly message: NtfyStandInMessage;
}

export interface NtfyStandIn {
  /** `http://127.0.0.1:<port>`: the `serverUrl` to configure. */
  readonly url: string;
  /** Every request received, in order (cleared by {@link reset}). */
  readonly requests: readonly NtfyReceivedRequest[];
  /** Every message and event published to `topic`, in order. */
  messagesOf(topic: string): readonly NtfyStandInMessage[];
  /**
   * What a subscriber of `topic` shows: one notification per sequence id, a later message of the
   * sequence replacing the earlier one in place; deleted and cleared ones are gone.
   */
  notificationsOf(topic: string): readonly NtfyStandInNotification[];
  /** The next `times` requests answer `answer` (503 by default). */
  failTimes(times: number, answer?: NtfyScriptedAnswer): void;
  /** Every request answers `answer` from now on, until {@link reset}. */
  respond(answer: NtfyScriptedAnswer): void;
  /** Every answer is held back `ms` milliseconds. */
  delay(ms: number): void;
  /** Forgets requests, scripts, delays, messages and the rate limit's count. */
  reset(): void;
  close(): Promise<void>;
}

export interface NtfyStandInOptions {
  /**
   * Access control like ntfy's `auth-file`: `defaultAccess` for anonymous callers (`read-write`,
   * ntfy's default, or `deny-all`), and the tokens it knows with the topics each may write (`*`
   * for all). Without it, every topic is open and any token is accepted.
   */
  readonly auth?: {
    readonly defaultAccess: 'read-write' | 'deny-all';
    readonly tokens: Readonly<Record<string, '*' | readonly string[]>>;
  };
  /** Requests allowed before 429; without it, no limit. */
  readonly rateLimit?: { readonly burst: number; readonly retryAfterSeconds?: number };
  /** ntfy's `message-size-limit`; 4,096 bytes. */
  readonly messageSizeLimit?: number;
  /** Whether an oversized message becomes an attachment (as on ntfy.sh); true. */
  readonly attachments?: boolean;
  /** Largest JSON publish body; 16,384 bytes as in ntfy. */
  readonly jsonBodyLimit?: number;
}

/** ntfy's error answer. */
interface HttpError {
  readonly code: number;
  readonly http: number;
  readonly error: string;
  readonly link?: string;
}

const DOCS = 'https://ntfy.sh/docs';
const errors = {
  topicInvalid: { code: 40009, http: 400, error: 'invalid request: topic invalid' },
  topicDisallowed: { code: 40010, http: 400, error: 'invalid request: topic name is not allowed' },
  priorityInvalid: {
    code: 40007,
    http: 400,
    error: 'invalid priority parameter',
    link: `${DOCS}/publish/#message-priority`,
  },
  attachmentsDisallowed: {
    code: 40014,
    http: 400,
    error: 'invalid request: attachments not allowed',
    link: `${DOCS}/config/#attachments`,
  },
  messageJsonInvalid: {
    code: 40017,
    http: 400,
    error: 'invalid request: request body must be message JSON',
    link: `${DOCS}/publish/#publish-as-json`,
  },
  sequenceIdInvalid: { code: 40049, http: 400, error: 'invalid request: sequence ID invalid' },
  unauthorized: {
    code: 40101,
    http: 401,
    error: 'unauthorized',
    link: `${DOCS}/publish/#authentication`,
  },
  forbidden: {
    code: 40301,
    http: 403,
    error: 'forbidden',
    link: `${DOCS}/publish/#authentication`,
  },
  notFound: { code: 40401, http: 404, error: 'page not found' },
  jsonTooLarge: { code: 41303, http: 413, error: 'JSON body too large' },
  tooManyRequests: {
    code: 42901,
    http: 429,
    error: 'limit reached: too many requests, please be nice',
    link: `${DOCS}/publish/#limitations`,
  },
} satisfies Record<string, HttpError>;

/** ntfy's `topicRegex`; sequence ids follow the same rule (`sequenceIDRegex`). */
const ID_PATTERN = /^[-_A-Za-z0-9]{1,64}$/;
/** Names ntfy keeps for its own pages (`disallowedTopics`). */
const DISALLOWED_TOPICS = new Set([
  'docs',
  'static',
  'file',
  'app',
  'metrics',
  'account',
  'settings',
  'signup',
  'login',
  'v1',
]);
const MESSAGE_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** ntfy.sh keeps messages 12 hours. */
const CACHE_SECONDS = 12 * 3600;

const newMessageId = (): string =>
  Array.from(randomBytes(12), (byte) => MESSAGE_ID_CHARS[byte % MESSAGE_ID_CHARS.length]).join('');

const priorityNames: Readonly<Record<string, number>> = {
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

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`), which ntfy accepts in any header. */
const decodeEncodedWords = (value: string): string =>
  value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_match, encoding: string, text: string) => {
    if (encoding.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text
      .replace(/_/g, ' ')
      .replace(/=([0-9A-Fa-f]{2})/g, (_hex, code: string) =>
        String.fromCharCode(parseInt(code, 16)),
      );
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });

/** The first of `names` given as a header or query parameter (ntfy's `readParam`). */
const readParam = (
  headers: IncomingHttpHeaders,
  query: Readonly<Record<string, string>>,
  ...names: string[]
): string | undefined => {
  for (const name of names) {
    const header = headers[name.toLowerCase()];
    const value = Array.isArray(header) ? header[0] : header;
    if (value !== undefined && value !== '') return decodeEncodedWords(value.trim());
  }
  for (const name of names) {
    const value = query[name.toLowerCase()];
    if (value !== undefined && value !== '') return value.trim();
  }
  return undefined;
};

/** What one publish asks for, from the JSON or the header form. */
interface Publication {
  readonly topic: string;
  readonly message: string;
  readonly title?: string;
  readonly priority?: string | number;
  readonly tags?: readonly string[];
  readonly click?: string;
  readonly sequenceId?: string;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Tags as ntfy stores them: the header form's comma-separated list split on commas, trimmed,
 * without empty ones. ntfy turns the JSON form's array into that header (joined with ","), so a
 * JSON tag holding a comma becomes two tags there as well.
 */
const splitTags = (joined: string): string[] =>
  joined
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');

/** The JSON form's fields, or undefined when the body is not message JSON. */
const publicationOfJson = (json: unknown): Publication | undefined => {
  if (!isRecord(json)) return undefined;
  const { topic, message, title, priority, tags, click, sequence_id: sequenceId } = json;
  const optionalString = (value: unknown): value is string | undefined =>
    value === undefined || typeof value === 'string';
  if (typeof topic !== 'string' || !optionalString(message) || !optionalString(title)) {
    return undefined;
  }
  if (!optionalString(click) || !optionalString(sequenceId)) return undefined;
  if (priority !== undefined && typeof priority !== 'number') return undefined;
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
    return undefined;
  }
  const split = tags === undefined ? [] : splitTags(tags.join(','));
  return {
    topic,
    message: message ?? '',
    ...(title === undefined || title === '' ? {} : { title }),
    ...(priority === undefined ? {} : { priority }),
    ...(split.length === 0 ? {} : { tags: split }),
    ...(click === undefined || click === '' ? {} : { click }),
    ...(sequenceId === undefined || sequenceId === '' ? {} : { sequenceId }),
  };
};

/** Starts the stand-in on 127.0.0.1 and a free port. */
export const startNtfyServer = async (options: NtfyStandInOptions = {}): Promise<NtfyStandIn> => {
  const requests: NtfyReceivedRequest[] = [];
  const messages = new Map<string, NtfyStandInMessage[]>();
  const once: NtfyScriptedAnswer[] = [];
  let always: NtfyScriptedAnswer | undefined;
  let delayMs = 0;
  let counted = 0;
  const timers = new Set<NodeJS.Timeout>();
  const messageSizeLimit = options.messageSizeLimit ?? 4096;
  const jsonBodyLimit = options.jsonBodyLimit ?? 16_384;
  let base = '';

  const send = (
    response: ServerResponse,
    status: number,
    body: string,
    headers: Readonly<Record<string, string>>,
  ): void => {
    const write = (): void => {
      if (response.destroyed) return;
      response.writeHead(status, { 'Access-Control-Allow-Origin': '*', ...headers });
      response.end(body);
    };
    if (delayMs <= 0) {
      write();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      write();
    }, delayMs);
    timers.add(timer);
  };

  const sendJson = (
    response: ServerResponse,
    status: number,
    value: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    send(response, status, `${JSON.stringify(value)}\n`, {
      'Content-Type': 'application/json',
      ...headers,
    });
  };

  const fail = (
    response: ServerResponse,
    error: HttpError,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    sendJson(response, error.http, error, headers);
  };

  /** Who may write `topic`: 403 unless the default or the caller's token allows it. */
  const mayWrite = (topic: string, token: string | undefined): boolean => {
    const { auth } = options;
    if (auth === undefined) return true;
    if (token === undefined) return auth.defaultAccess === 'read-write';
    const topics = auth.tokens[token];
    return topics === '*' || (topics?.includes(topic) ?? false);
  };

  const append = (message: NtfyStandInMessage): void => {
    const list = messages.get(message.topic) ?? [];
    list.push(message);
    messages.set(message.topic, list);
  };

  const stamp = (): { id: string; time: number; expires: number } => {
    const time = Math.floor(Date.now() / 1000);
    return { id: newMessageId(), time, expires: time + CACHE_SECONDS };
  };

  const publish = (response: ServerResponse, publication: Publication, token?: string): void => {
    const { topic } = publication;
    if (!ID_PATTERN.test(topic)) {
      fail(response, errors.topicInvalid);
      return;
    }
    if (DISALLOWED_TOPICS.has(topic)) {
      fail(response, errors.topicDisallowed);
      return;
    }
    if (!mayWrite(topic, token)) {
      fail(response, errors.forbidden);
      return;
    }
    if (publication.sequenceId !== undefined && !ID_PATTERN.test(publication.sequenceId)) {
      fail(response, errors.sequenceIdInvalid);
      return;
    }
    let priority: number | undefined;
    if (typeof publication.priority === 'number') {
      if (!Number.isInteger(publication.priority) || publication.priority < 0) {
        fail(response, errors.priorityInvalid);
        return;
      }
      if (publication.priority > 5) {
        fail(response, errors.priorityInvalid);
        return;
      }
      priority = publication.priority === 0 ? undefined : publication.priority;
    } else if (publication.priority !== undefined) {
      priority = priorityNames[publication.priority.toLowerCase()];
      if (priority === undefined) {
        fail(response, errors.priorityInvalid);
        return;
      }
    }
    const stamped = stamp();
    let text = publication.message === '' ? 'triggered' : publication.message;
    let attachment: NtfyStandInMessage['attachment'];
    const size = Buffer.byteLength(publication.message, 'utf8');
    if (size > messageSizeLimit) {
      if (options.attachments === false) {
        fail(response, errors.attachmentsDisallowed);
        return;
      }
      attachment = {
        name: 'attachment.txt',
        type: 'text/plain; charset=utf-8',
        size,
        url: `${base}/file/${stamped.id}.txt`,
      };
      text = 'You received a file: attachment.txt';
    }
    const message: NtfyStandInMessage = {
      ...stamped,
      event: 'message',
      topic,
      ...(publication.sequenceId === undefined || publication.sequenceId === stamped.id
        ? {}
        : { sequence_id: publication.sequenceId }),
      message: text,
      ...(publication.title === undefined ? {} : { title: publication.title }),
      ...(priority === undefined ? {} : { priority }),
      ...(publication.tags === undefined ? {} : { tags: publication.tags }),
      ...(publication.click === undefined ? {} : { click: publication.click }),
      ...(attachment === undefined ? {} : { attachment }),
    };
    append(message);
    sendJson(response, 200, message);
  };

  const sequenceEvent = (
    response: ServerResponse,
    event: 'message_delete' | 'message_clear',
    topic: string,
    sequenceId: string,
    token: string | undefined,
  ): void => {
    if (!mayWrite(topic, token)) {
      fail(response, errors.forbidden);
      return;
    }
    const message: NtfyStandInMessage = {
      ...stamp(),
      event,
      topic,
      sequence_id: sequenceId,
    };
    append(message);
    sendJson(response, 200, message);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const parsedUrl = new URL(request.url ?? '/', 'http://stand-in');
    const method = request.method ?? 'GET';
    const path = parsedUrl.pathname;
    const query: Record<string, string> = {};
    for (const [key, value] of parsedUrl.searchParams) query[key.toLowerCase()] = value;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    requests.push({
      method,
      path,
      query,
      headers: request.headers,
      raw,
      ...(json === undefined ? {} : { json }),
    });

    const scripted = once.shift() ?? always;
    if (scripted !== undefined) {
      if (scripted.rawBody !== undefined) {
        send(response, scripted.status, scripted.rawBody, {
          'Content-Type': 'text/html',
          ...scripted.headers,
        });
      } else {
        const error: HttpError = {
          code: scripted.status * 100 + 1,
          http: scripted.status,
          error: scripted.error ?? http.STATUS_CODES[scripted.status] ?? 'error',
        };
        fail(response, error, scripted.headers);
      }
      return;
    }

    // ntfy authenticates before it routes: a token it does not know is refused everywhere.
    const authorization = request.headers.authorization;
    let token: string | undefined;
    if (authorization !== undefined) {
      const bearer = /^Bearer (\S+)$/i.exec(authorization);
      const known =
        options.auth === undefined || Object.hasOwn(options.auth.tokens, bearer?.[1] ?? '');
      if (bearer === null || !known) {
        fail(response, errors.unauthorized);
        return;
      }
      token = bearer[1];
    }

    if (method === 'GET' && path === '/v1/health') {
      sendJson(response, 200, { healthy: true });
      return;
    }

    if (options.rateLimit !== undefined) {
      counted += 1;
      if (counted > options.rateLimit.burst) {
        const { retryAfterSeconds } = options.rateLimit;
        fail(
          response,
          errors.tooManyRequests,
          retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
        );
        return;
      }
    }

    const segments = path.split('/').slice(1);
    const isPublish = method === 'POST' || method === 'PUT';
    const [first = '', second, third] = segments;

    if (isPublish && path === '/') {
      if (Buffer.byteLength(raw, 'utf8') > jsonBodyLimit) {
        fail(response, errors.jsonTooLarge);
        return;
      }
      const publication = publicationOfJson(json);
      if (publication === undefined) {
        fail(response, errors.messageJsonInvalid);
        return;
      }
      publish(response, publication, token);
      return;
    }

    const topicLike = /^[-_A-Za-z0-9]{1,64}$/;
    const fromHeaders = (topic: string, pathSequenceId?: string): Publication => {
      const title = readParam(request.headers, query, 'x-title', 'title', 'ti', 't');
      const priority = readParam(request.headers, query, 'x-priority', 'priority', 'prio', 'p');
      const tags = readParam(request.headers, query, 'x-tags', 'tags', 'tag', 'ta');
      const click = readParam(request.headers, query, 'x-click', 'click');
      const sequenceId =
        pathSequenceId ?? readParam(request.headers, query, 'x-sequence-id', 'sequence-id', 'sid');
      return {
        topic,
        message: raw,
        ...(title === undefined ? {} : { title }),
        ...(priority === undefined ? {} : { priority }),
        ...(tags === undefined ? {} : { tags: splitTags(tags) }),
        ...(click === undefined ? {} : { click }),
        ...(sequenceId === undefined ? {} : { sequenceId }),
      };
    };

    if (segments.length === 1 && topicLike.test(first)) {
      if (isPublish) {
        publish(response, fromHeaders(first), token);
        return;
      }
    }
    if (segments.length === 2 && topicLike.test(first) && second !== undefined) {
      if (isPublish) {
        publish(response, fromHeaders(first, second), token);
        return;
      }
      if (method === 'DELETE') {
        if (!ID_PATTERN.test(second)) {
          fail(response, errors.sequenceIdInvalid);
          return;
        }
        sequenceEvent(response, 'message_delete', first, second, token);
        return;
      }
    }
    if (segments.length === 3 && topicLike.test(first) && second !== undefined) {
      const action = third;
      if (method === 'GET' && action === 'delete') {
        sequenceEvent(response, 'message_delete', first, second, token);
        return;
      }
      if ((method === 'PUT' || method === 'GET') && (action === 'clear' || action === 'read')) {
        sequenceEvent(response, 'message_clear', first, second, token);
        return;
      }
    }
    fail(response, errors.notFound);
  };

  const server = http.createServer((request, response) => {
    response.on('error', () => undefined);
    handle(request, response).catch(() => {
      if (!response.headersSent) {
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end(
          `${JSON.stringify({ code: 50001, http: 500, error: 'internal server error' })}\n`,
        );
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    requests,
    messagesOf: (topic) => messages.get(topic) ?? [],
    notificationsOf: (topic) => {
      const shown = new Map<string, NtfyStandInMessage>();
      for (const message of messages.get(topic) ?? []) {
        const sequenceId = message.sequence_id ?? message.id;
        if (message.event === 'message') {
          // A Map keeps the first insertion's place, so an update replaces in place.
          shown.set(sequenceId, message);
        } else {
          shown.delete(sequenceId);
        }
      }
      return [...shown].map(([sequenceId, message]) => ({ sequenceId, message }));
    },
    failTimes: (times, answer = { status: 503 }) => {
      for (let i = 0; i < times; i += 1) once.push(answer);
    },
    respond: (answer) => {
      always = answer;
    },
    delay: (ms) => {
      delayMs = ms;
    },
    reset: () => {
      requests.length = 0;
      messages.clear();
      once.length = 0;
      always = undefined;
      delayMs = 0;
      counted = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
};

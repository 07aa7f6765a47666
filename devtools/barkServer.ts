import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for bark-server (Finb/bark-server, v2 API) on 127.0.0.1, answering the way its
 * `router.go`, `route_push.go`, `route_auth.go`, `apns/apns.go` and bbolt database do:
 *
 * - `POST /push` with a JSON body (API v2; `application/json` in any case, query arguments
 *   override body fields) or a form body; `GET|POST /:device_key[/:title[/:subtitle]]/:body`
 *   (the compatibility routes; path segments win over everything else).
 * - answers are bark-server's envelope `{ code, message, timestamp }` with HTTP status = code
 *   (`data` only for batch pushes), `Content-Type: application/json`, `Server: Bark`.
 * - `device key is empty` (400), then `failed to get device token: failed to get [KEY] device
 *   token from database` (400) for a key it does not know, then the APNs step: a payload over
 *   4096 bytes (as bark-server would build it) is `500 push failed: PayloadTooLarge`; otherwise
 *   `200 success`. All-empty title, subtitle and body become "Empty Message".
 * - `delete: "1"` (or 1) with an `id` becomes a silent push that removes the notification with
 *   that id from the device (see {@link BarkStandIn.notificationsOf}); bark-server answers 200.
 * - `device_keys` (a list, or a comma-separated string) is a batch: 200 with one
 *   `{ code, device_key, message? }` per key in `data`.
 * - unknown routes answer fiber's `404 Cannot METHOD /path` envelope; with `basicAuth` set,
 *   requests without those credentials get `418 I'm a teapot` in plain text, like bark-server
 *   with `BARK_SERVER_BASIC_AUTH_USER`/`_PASSWORD`.
 *
 * Differences that do not matter to a client: `request bind failed` quotes JavaScript's JSON
 * error rather than Go's; Apple is not contacted, so an invalidated token is only what a script
 * makes of it.
 *
 * Scripts ({@link BarkStandIn.failTimes}, {@link BarkStandIn.respond},
 * {@link BarkStandIn.delay}) stand for whatever sits in front of or behind the server (a proxy
 * answering 503, APNs failing). They apply to a key as soon as the key is read, before the
 * known-device check.
 */

/** One HTTP request as the stand-in received it, whatever it answered. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  /** The parsed JSON body, when it was JSON. */
  readonly json?: unknown;
}

/** A scripted answer: status, and an envelope message, or a raw body, plus extra headers. */
export interface ScriptedAnswer {
  readonly status: number;
  /** The envelope's `message`; a default per status when absent. Ignored with `rawBody`. */
  readonly message?: string;
  /** Sent as is (`text/html`) instead of the envelope, like a proxy's error page. */
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A notification currently shown on a device. */
export interface StandInNotification {
  readonly id?: string;
  readonly title: string;
  readonly subtitle: string;
  readonly body: string;
  /** Every other field the push carried (`group`, `level`, `url`…), as bark-server passes them on. */
  readonly ext: Readonly<Record<string, unknown>>;
}

export interface BarkStandIn {
  /** `http://127.0.0.1:<port>`: the `serverUrl` to configure. */
  readonly url: string;
  /** Every request received, in order (cleared by {@link reset}). */
  readonly requests: readonly ReceivedRequest[];
  /** Registers a device key, as if a Bark app had registered with this server. */
  addDevice(key: string): void;
  /**
   * What `key`'s device shows now: each accepted push adds a notification, replacing one with the
   * same id (Apple's collapse id); a delete push removes the one with its id.
   */
  notificationsOf(key: string): readonly StandInNotification[];
  /** The next `times` pushes for `key` answer `status` (500 `push failed: …` by default). */
  failTimes(
    key: string,
    times: number,
    status?: number,
    message?: string,
    extra?: Omit<ScriptedAnswer, 'status' | 'message'>,
  ): void;
  /** Every push for `key` answers `status` from now on, until {@link reset}. */
  respond(
    key: string,
    status: number,
    message?: string,
    extra?: Omit<ScriptedAnswer, 'status' | 'message'>,
  ): void;
  /** Every answer to a push for `key` is held back `ms` milliseconds. */
  delay(key: string, ms: number): void;
  /** Forgets requests, scripts, delays and notifications; keeps the registered devices. */
  reset(): void;
  close(): Promise<void>;
}

export interface BarkStandInOptions {
  /** Device keys known from the start. */
  readonly devices?: readonly string[];
  /** Require these Basic auth credentials, answering 418 without them (like bark-server). */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

/** A result of bark-server's `push()`: the code and, when it failed, the message. */
interface PushResult {
  readonly code: number;
  readonly message?: string;
  readonly scripted?: ScriptedAnswer;
}

const APNS_PAYLOAD_MAXIMUM = 4096;

/** JSON as Go's `encoding/json` writes it: HTML-safe escapes for `<`, `>`, `&`, U+2028, U+2029. */
const goJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Go's `fmt.Sprintf("%v", value)` for what a JSON body can hold. */
const goFormat = (value: unknown): string => {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([k, v]) => `${k}:${goFormat(v)}`).join(' ')}]`;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
};

const defaultMessage = (status: number): string =>
  status === 500 ? 'push failed: ServiceUnavailable' : (http.STATUS_CODES[status] ?? 'error');

/** bark-server's `push()`: one message for one device key. */
const pushOne = (params: Readonly<Record<string, unknown>>, state: StandInState): PushResult => {
  let id: string | undefined;
  let deviceKey = '';
  let title = '';
  let subtitle = '';
  let body = '';
  let sound = '1107';
  const ext: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') {
      switch (key.toLowerCase()) {
        case 'id':
          id = value;
          ext['id'] = value;
          break;
        case 'device_key':
          deviceKey = value;
          break;
        case 'subtitle':
          subtitle = value;
          break;
        case 'title':
          title = value;
          break;
        case 'body':
          body = value;
          break;
        case 'sound':
          sound = value.endsWith('.caf') ? value : `${value}.caf`;
          break;
        default:
          ext[key.toLowerCase()] = value;
      }
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      Object.assign(ext, value);
    } else {
      ext[key] = value;
    }
  }

  if (deviceKey === '') return { code: 400, message: 'device key is empty' };
  if (title === '' && body === '' && subtitle === '') body = 'Empty Message';

  const scripted = state.takeScript(deviceKey);
  if (scripted !== undefined) return { code: scripted.status, scripted };

  if (!state.devices.has(deviceKey)) {
    return {
      code: 400,
      message: `failed to get device token: failed to get [${deviceKey}] device token from database`,
    };
  }

  const isDelete = ext['delete'] === '1' || ext['delete'] === 1;
  const custom = Object.fromEntries(
    Object.entries(ext).map(([key, value]) => [key.toLowerCase(), goFormat(value)]),
  );
  const group = ext['group'];
  const aps = isDelete
    ? { 'content-available': 1, 'mutable-content': 1 }
    : {
        alert: {
          ...(title === '' ? {} : { title }),
          ...(subtitle === '' ? {} : { subtitle }),
          ...(body === '' ? {} : { body }),
        },
        sound,
        category: 'myNotificationCategory',
        ...(group === undefined ? {} : { 'thread-id': goFormat(group) }),
        'mutable-content': 1,
      };
  const payload = goJson({ ...custom, aps });
  if (Buffer.byteLength(payload, 'utf8') > APNS_PAYLOAD_MAXIMUM) {
    return { code: 500, message: 'push failed: PayloadTooLarge' };
  }

  const shown = state.notifications.get(deviceKey) ?? [];
  const others = id === undefined || id === '' ? shown : shown.filter((n) => n.id !== id);
  state.notifications.set(
    deviceKey,
    isDelete
      ? others
      : [...others, { ...(id === undefined ? {} : { id }), title, subtitle, body, ext }],
  );
  return { code: 200 };
};

interface StandInState {
  readonly devices: Set<string>;
  readonly notifications: Map<string, StandInNotification[]>;
  takeScript(key: string): ScriptedAnswer | undefined;
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

/** Go's `url.QueryUnescape`: `+` is a space, then percent-decoding. */
const queryUnescape = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '));

/** Starts the stand-in on 127.0.0.1 and a free port. */
export const startBarkServer = async (options: BarkStandInOptions = {}): Promise<BarkStandIn> => {
  const devices = new Set(options.devices ?? []);
  const requests: ReceivedRequest[] = [];
  const notifications = new Map<string, StandInNotification[]>();
  const once = new Map<string, ScriptedAnswer[]>();
  const always = new Map<string, ScriptedAnswer>();
  const delays = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const state: StandInState = {
    devices,
    notifications,
    takeScript: (key) => {
      const queued = once.get(key);
      const next = queued?.shift();
      if (next !== undefined) return next;
      return always.get(key);
    },
  };

  const send = (
    response: ServerResponse,
    status: number,
    body: string,
    headers: Readonly<Record<string, string>>,
    delayMs: number,
  ): void => {
    const write = (): void => {
      if (response.destroyed) return;
      response.writeHead(status, { Server: 'Bark', ...headers });
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

  const envelope = (code: number, message: string, data?: unknown): string =>
    JSON.stringify({
      code,
      message,
      ...(data === undefined ? {} : { data }),
      timestamp: Math.floor(Date.now() / 1000),
    });

  const answerResult = (response: ServerResponse, result: PushResult, delayMs: number): void => {
    const { scripted } = result;
    if (scripted?.rawBody !== undefined) {
      send(
        response,
        scripted.status,
        scripted.rawBody,
        { 'Content-Type': 'text/html', ...scripted.headers },
        delayMs,
      );
      return;
    }
    const message =
      scripted?.message ??
      (result.code === 200 ? 'success' : (result.message ?? defaultMessage(result.code)));
    send(
      response,
      result.code,
      envelope(result.code, message),
      { 'Content-Type': 'application/json', ...scripted?.headers },
      delayMs,
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const parsedUrl = new URL(request.url ?? '/', 'http://stand-in');
    const method = request.method ?? 'GET';
    const path = parsedUrl.pathname;
    const query: Record<string, string> = {};
    for (const [key, value] of parsedUrl.searchParams) query[key.toLowerCase()] = value;
    const contentType = (request.headers['content-type'] ?? '').toLowerCase();
    const isJson = contentType.startsWith('application/json');
    let json: unknown;
    let jsonError: string | undefined;
    if (isJson) {
      try {
        json = JSON.parse(raw);
      } catch (error) {
        jsonError = raw === '' ? 'unexpected end of JSON input' : (error as Error).message;
      }
    }
    requests.push({
      method,
      path,
      query,
      headers: request.headers,
      raw,
      ...(json === undefined ? {} : { json }),
    });

    const jsonAnswer = (code: number, message: string, data?: unknown): void => {
      send(
        response,
        code,
        envelope(code, message, data),
        { 'Content-Type': 'application/json' },
        0,
      );
    };

    if (options.basicAuth !== undefined) {
      const expected = `Basic ${Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`).toString('base64')}`;
      const free = ['/ping', '/register', '/healthz'].some((prefix) => path.startsWith(prefix));
      if (!free && request.headers.authorization !== expected) {
        send(response, 418, "I'm a teapot", { 'Content-Type': 'text/plain; charset=utf-8' }, 0);
        return;
      }
    }

    // Routing like fiber with bark-server's routes: /push first, then the compat routes.
    const segments = path
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .filter((s) => s !== '');
    const isPushRoute =
      method === 'POST' && segments.length === 1 && segments[0]?.toLowerCase() === 'push';
    const isCompat =
      (method === 'GET' || method === 'POST') && segments.length >= 1 && segments.length <= 4;
    if (!isPushRoute && !isCompat) {
      jsonAnswer(404, `Cannot ${method} ${path}`);
      return;
    }

    let params: Record<string, unknown> = {};
    if (isJson) {
      if (jsonError !== undefined) {
        jsonAnswer(400, `request bind failed: ${jsonError}`);
        return;
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        jsonAnswer(
          400,
          `request bind failed: json: cannot unmarshal ${Array.isArray(json) ? 'array' : typeof json} into Go value of type map[string]interface {}`,
        );
        return;
      }
      params = { ...(json as Record<string, unknown>) };
      Object.assign(params, query);
    } else {
      Object.assign(params, query);
      if (contentType.startsWith('application/x-www-form-urlencoded')) {
        for (const [key, value] of new URLSearchParams(raw)) params[key.toLowerCase()] = value;
      }
    }
    if (!isPushRoute) {
      try {
        const [key = '', ...rest] = segments;
        params['device_key'] = key;
        const named =
          rest.length === 1
            ? ['body']
            : rest.length === 2
              ? ['title', 'body']
              : ['title', 'subtitle', 'body'];
        rest.forEach((segment, index) => {
          params[named[index] ?? 'body'] = queryUnescape(segment);
        });
      } catch (error) {
        jsonAnswer(400, `url path parse failed: ${(error as Error).message}`);
        return;
      }
    }

    const delayOf = (key: unknown): number =>
      typeof key === 'string' ? (delays.get(key) ?? 0) : 0;

    const batch = isJson ? params['device_keys'] : undefined;
    if (batch !== undefined) {
      delete params['device_keys'];
      let keys: string[];
      if (typeof batch === 'string') keys = batch.split(',');
      else if (Array.isArray(batch)) keys = batch.map(goFormat);
      else {
        jsonAnswer(400, 'invalid type for device_keys');
        return;
      }
      if (keys.length > 0) {
        const data = keys.map((key) => {
          const result = pushOne({ ...params, device_key: key }, state);
          const message = result.scripted?.message ?? result.message;
          return {
            ...(result.code === 200 ? {} : { message: message ?? defaultMessage(result.code) }),
            code: result.code,
            device_key: key,
          };
        });
        const delayMs = Math.max(0, ...keys.map(delayOf));
        send(
          response,
          200,
          envelope(200, 'success', data),
          { 'Content-Type': 'application/json' },
          delayMs,
        );
        return;
      }
    }

    const result = pushOne(params, state);
    answerResult(response, result, delayOf(params['device_key']));
  };

  const server = http.createServer((request, response) => {
    response.on('error', () => undefined);
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'Content-Type': 'application/json', Server: 'Bark' });
        response.end(envelope(500, error instanceof Error ? error.message : String(error)));
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

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addDevice: (key) => {
      devices.add(key);
    },
    notificationsOf: (key) => notifications.get(key) ?? [],
    failTimes: (key, times, status = 500, message, extra = {}) => {
      const queued = once.get(key) ?? [];
      for (let i = 0; i < times; i += 1) {
        queued.push({ ...extra, status, ...(message === undefined ? {} : { message }) });
      }
      once.set(key, queued);
    },
    respond: (key, status, message, extra = {}) => {
      always.set(key, { ...extra, status, ...(message === undefined ? {} : { message }) });
    },
    delay: (key, ms) => {
      delays.set(key, ms);
    },
    reset: () => {
      requests.length = 0;
      notifications.clear();
      once.clear();
      always.clear();
      delays.clear();
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

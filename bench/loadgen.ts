/**
 * The load generator of the pipeline benchmarks: plain `node:http` with a keep-alive agent (one
 * socket per request in flight), a closed loop with bounded concurrency, and an open loop that
 * sends at a fixed rate whatever the answers do. Beside them, {@link flood}: a closed loop by
 * autocannon (a generator far faster than the pipeline, as issue 17 asks the backlog to be tested
 * with), and {@link sampleMetrics}, which reads a server's `/metrics` while a run goes on.
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';

/** An answer: status, headers and the body as text. */
export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface RequestOptions {
  /** Serialised as JSON unless it is already a string. */
  readonly body?: unknown;
  readonly token?: string;
  readonly cookie?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

class StaleSocketError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/** An HTTP client bound to one base URL, with keep-alive sockets. */
export class LoadClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(base: string, maxSockets = 256) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /**
   * One request. A keep-alive socket the server closed just as it was reused fails with
   * ECONNRESET before the server read anything; such a request is sent again once (Node's advice
   * for `request.reusedSocket`).
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpReply> {
    try {
      return await this.send(method, path, options);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      return this.send(method, path, options);
    }
  }

  private send(method: string, path: string, options: RequestOptions): Promise<HttpReply> {
    const payload =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.cookie !== undefined) headers['cookie'] = options.cookie;
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
          response.on('error', reject);
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          request.reusedSocket && error.code === 'ECONNRESET' ? new StaleSocketError(error) : error,
        );
      });
      request.end(payload);
    });
  }

  /** A request whose answer must have `expected` status; returns the parsed JSON body. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's shape
  async json<T>(
    method: string,
    path: string,
    expected: number,
    options: RequestOptions = {},
  ): Promise<{ body: T; headers: IncomingHttpHeaders }> {
    const reply = await this.request(method, path, options);
    if (reply.status !== expected) {
      throw new Error(
        `${method} ${path}: expected ${expected}, got ${reply.status}: ${reply.text.slice(0, 300)}`,
      );
    }
    return { body: (reply.text === '' ? {} : JSON.parse(reply.text)) as T, headers: reply.headers };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Runs `send(0 … total-1)` with at most `concurrency` in flight (a closed loop: a lane sends its
 * next request when the previous one is answered). Resolves with the wall time in seconds.
 */
export const closedLoop = async (
  total: number,
  concurrency: number,
  send: (index: number) => Promise<void>,
): Promise<number> => {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await send(index);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return Number(process.hrtime.bigint() - start) / 1e9;
};

/**
 * The message ids of the person's inbox (`GET /v1/me/inbox`, 100 a page, newest first), a page
 * at a time: a caller that has found what it looks for stops reading.
 */
export async function* inboxPages(client: LoadClient, cookie: string): AsyncGenerator<string[]> {
  let cursor: string | null = null;
  do {
    const page: { body: { items: { messageId: string }[]; nextCursor: string | null } } =
      await client.json(
        'GET',
        `/v1/me/inbox?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`,
        200,
        { cookie },
      );
    yield page.body.items.map((item) => item.messageId);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
}

/**
 * A closed loop for `seconds`: every lane keeps one request in flight until the time is up,
 * numbering them from `first`. Resolves with how many were sent and the wall time they took.
 */
export const closedLoopFor = async (
  seconds: number,
  concurrency: number,
  send: (index: number) => Promise<void>,
  first = 0,
): Promise<{ requests: number; seconds: number }> => {
  const end = performance.now() + seconds * 1000;
  let next = first;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const index = next;
      next += 1;
      await send(index);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { requests: next - first, seconds: (performance.now() - start) / 1000 };
};

/**
 * Sends `send(i)` at a steady `perSecond` for `seconds` (an open loop: the schedule does not wait
 * for answers, so a slow server meets the same offered load). Resolves when every request has
 * been answered, with how late the pacer was (ms, at worst and at p99: a request sent late by a
 * busy generator is a request the server met later than offered), to show the rate was real.
 */
export const openLoop = async (
  perSecond: number,
  seconds: number,
  send: (index: number) => Promise<void>,
): Promise<{ maxLagMs: number; p99LagMs: number; sent: number }> => {
  const total = Math.round(perSecond * seconds);
  const intervalMs = 1000 / perSecond;
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  const lags: number[] = [];
  let sent = 0;
  let maxLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && started + sent * intervalMs <= now) {
        const lag = now - (started + sent * intervalMs);
        lags.push(lag);
        maxLagMs = Math.max(maxLagMs, lag);
        pending.push(send(sent));
        sent += 1;
      }
      if (sent >= total) {
        resolve();
        return;
      }
      const wait = Math.max(0, started + sent * intervalMs - performance.now());
      setTimeout(tick, wait);
    };
    tick();
  });
  await Promise.all(pending);
  return { maxLagMs, p99LagMs: quantile(lags, 0.99), sent };
};

/** The `q`-quantile (0…1) of `values` (nearest rank). */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
};

/** One request of autocannon's sequence (its README, "API"); only what {@link flood} uses. */
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
  onResponse?: (
    status: number,
    body: string,
    context: object,
    headers: Readonly<Record<string, string | string[]>>,
  ) => void;
}

interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

// autocannon is CommonJS and ships no types: required, and typed by the interfaces above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** A {@link flood}: where, how hard, what to send. */
export interface FloodOptions {
  /** The server's base URL. */
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Connections, each with one request in flight (a closed loop). */
  readonly connections: number;
  readonly seconds: number;
  /** The JSON body of the `index`th request. */
  readonly body: (index: number) => unknown;
  /** Each answer, when it is complete (`at` is `performance.now()`). */
  readonly onAnswer?: (status: number, body: string, at: number) => void;
  /** A request unanswered this long counts as a timeout and its connection is made again. */
  readonly timeoutSeconds?: number;
}

/** What a {@link flood} got back. */
export interface FloodResult {
  readonly seconds: number;
  readonly answered: number;
  /** Answers by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** 503 and 429 answers: the server shedding load. */
  readonly refused: number;
  /** Refusals without a Retry-After of whole seconds ≥ 0 (RFC 9110 §10.2.3, delay form). */
  readonly refusedWithoutRetryAfter: number;
  readonly retryAfterMin: number | undefined;
  readonly retryAfterMax: number | undefined;
  /** `performance.now()` of the first refusal. */
  readonly firstRefusalAt: number | undefined;
  /** The body of the first refusal (it says how far behind the server was). */
  readonly firstRefusal: string | undefined;
  /** Connection errors (timeouts included) and timeouts, as autocannon counts them. */
  readonly errors: number;
  readonly timeouts: number;
}

/** A header of autocannon's answer, whatever its case. */
const headerOf = (
  headers: Readonly<Record<string, string | string[]>>,
  name: string,
): string | undefined => {
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  return undefined;
};

/**
 * POSTs JSON bodies to one path as fast as the server answers, `connections` at once, for
 * `seconds`, with autocannon in this process. Requests still unanswered when the time is up are
 * dropped unseen: the server may have accepted them.
 */
export const flood = async (options: FloodOptions): Promise<FloodResult> => {
  let index = 0;
  let answered = 0;
  let refused = 0;
  let refusedWithoutRetryAfter = 0;
  let retryAfterMin: number | undefined;
  let retryAfterMax: number | undefined;
  let firstRefusalAt: number | undefined;
  let firstRefusal: string | undefined;
  const statuses: Record<string, number> = {};
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: options.timeoutSeconds ?? 10,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers: { ...options.headers, 'content-type': 'application/json' },
        setupRequest: (request) => {
          const body = JSON.stringify(options.body(index));
          index += 1;
          return { ...request, body };
        },
        onResponse: (status, body, _context, headers) => {
          const at = performance.now();
          answered += 1;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 503 || status === 429) {
            refused += 1;
            if (firstRefusalAt === undefined) {
              firstRefusalAt = at;
              firstRefusal = body;
            }
            const retryAfter = headerOf(headers, 'retry-after');
            if (retryAfter === undefined || !/^\d+$/.test(retryAfter)) {
              refusedWithoutRetryAfter += 1;
            } else {
              const seconds = Number(retryAfter);
              retryAfterMin = Math.min(retryAfterMin ?? seconds, seconds);
              retryAfterMax = Math.max(retryAfterMax ?? seconds, seconds);
            }
          }
          options.onAnswer?.(status, body, at);
        },
      },
    ],
  });
  return {
    seconds: result.duration,
    answered,
    statuses,
    refused,
    refusedWithoutRetryAfter,
    retryAfterMin,
    retryAfterMax,
    firstRefusalAt,
    firstRefusal,
    errors: result.errors,
    timeouts: result.timeouts,
  };
};

/** One reading of a server's `/metrics`: the gauges asked for, at `performance.now()`. */
export interface MetricsSample {
  readonly at: number;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * Reads `base`/metrics every `everyMs` until stopped, keeping the unlabelled samples named in
 * `names`; a reading that fails (the server busy past `everyMs`) is skipped, not waited for twice.
 */
export const sampleMetrics = (
  base: string,
  names: readonly string[],
  everyMs = 1_000,
): { readonly samples: readonly MetricsSample[]; stop(): Promise<void> } => {
  const samples: MetricsSample[] = [];
  let reading = Promise.resolve();
  const read = async (): Promise<void> => {
    try {
      const text = await fetch(`${base}/metrics`, {
        signal: AbortSignal.timeout(everyMs * 5),
      }).then((response) => response.text());
      const values: Record<string, number> = {};
      for (const name of names) {
        const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        if (found?.[1] !== undefined) values[name] = Number(found[1]);
      }
      samples.push({ at: performance.now(), values });
    } catch {
      // skipped: the next reading comes at its time
    }
  };
  let busy = false;
  const start = (): void => {
    if (busy) return;
    busy = true;
    reading = read().finally(() => {
      busy = false;
    });
  };
  const timer = setInterval(start, everyMs);
  start();
  return {
    samples,
    stop: async () => {
      clearInterval(timer);
      await reading;
    },
  };
};

/**
 * How far back a backlog reached at worst, in acceptance time: for each accepted message, the
 * time (s) from the acceptance of the oldest message accepted before it whose push had not
 * arrived yet. What admission on the delivery lag bounds (every message still waiting was
 * accepted within about the limit of the newest one), whatever the rates; without it the span
 * grows with the run. Both maps hold `performance.now()` times by message id.
 */
export const backlogSpanSeconds = (
  acceptedAt: ReadonlyMap<string, number>,
  pushedAt: ReadonlyMap<string, number>,
): number => {
  const order = [...acceptedAt].sort((a, b) => a[1] - b[1]);
  let oldest = 0;
  let span = 0;
  for (const [, at] of order) {
    // A message pushed by now stays pushed: the oldest waiting one only moves forward.
    while (oldest < order.length && (pushedAt.get(order[oldest]?.[0] ?? '') ?? Infinity) <= at)
      oldest += 1;
    const waiting = order[oldest];
    if (waiting !== undefined && waiting[1] < at) span = Math.max(span, at - waiting[1]);
  }
  return span / 1000;
};

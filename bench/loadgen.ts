/**
 * The load generator of the pipeline benchmarks: plain `node:http` with a keep-alive agent (one
 * socket per request in flight), a closed loop with bounded concurrency, and an open loop that
 * sends at a fixed rate whatever the answers do.
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

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
 * Sends `send(i)` at a steady `perSecond` for `seconds` (an open loop: the schedule does not wait
 * for answers, so a slow server meets the same offered load). Resolves when every request has
 * been answered, with how late the pacer was at worst (ms), to show the offered rate was real.
 */
export const openLoop = async (
  perSecond: number,
  seconds: number,
  send: (index: number) => Promise<void>,
): Promise<{ maxLagMs: number; sent: number }> => {
  const total = Math.round(perSecond * seconds);
  const intervalMs = 1000 / perSecond;
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  let sent = 0;
  let maxLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && started + sent * intervalMs <= now) {
        maxLagMs = Math.max(maxLagMs, now - (started + sent * intervalMs));
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
  return { maxLagMs, sent };
};

/** The `q`-quantile (0…1) of `values` (nearest rank). */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
};

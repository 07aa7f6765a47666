import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type {
  HttpClient,
  HttpRequest,
  HttpResult,
  RefusalReason,
} from '../../channels/httpClient.js';
import { cachedDestinationCheck, destinationProblemOf, guardedLookup } from './destinationGuard.js';
import type { DestinationProblem, DestinationReason, GuardOptions } from './destinationGuard.js';

/** Options of {@link createGuardedHttpClient}. */
export interface GuardedHttpClientOptions extends GuardOptions {
  /** Whole-exchange time limit; default 5000 ms (0: none). A request may set its own. */
  readonly timeoutMs?: number;
  /**
   * Largest answer body accepted, as received and once decompressed; default 1 MiB (a hostile
   * server must not fill memory).
   */
  readonly maxResponseBytes?: number;
}

/** The channels' port, plus what its owner needs: letting go of the kept-alive connections. */
export interface GuardedHttpClient extends HttpClient {
  /** Closes every connection once its request is done; the client sends nothing after. */
  close(): Promise<void>;
}

/**
 * The guard's reasons are the port's: a reason added to the guard and not to the port fails to
 * compile here rather than reaching a channel as something it cannot name.
 */
const refusalReason = (reason: DestinationReason): RefusalReason => reason;

const refusal = (problem: DestinationProblem): HttpResult => ({
  kind: 'refused',
  reason: refusalReason(problem.reason),
  detail: problem.detail,
});

const invalidUrl: DestinationProblem = {
  reason: 'invalid_url',
  detail: 'the destination must be an absolute http(s) URL',
};

/**
 * The headers the client adds when the request names none of the same name (any case). `Accept`
 * is the one the axios-based client sent, so a peer answers the same way; `Host`, `Connection`
 * and, with a body, `Content-Length` come from undici.
 */
const DEFAULT_HEADERS: readonly (readonly [lower: string, name: string, value: string])[] = [
  ['accept', 'Accept', 'application/json, text/plain, */*'],
  ['user-agent', 'User-Agent', 'Tidings'],
  ['accept-encoding', 'Accept-Encoding', 'gzip, deflate, br'],
];

/** Header values sent as they are: byte strings without surrounding spaces or tabs. */
const CLEAN_VALUE = /^(?![\t ])[\t\x20-\x7e\x80-\xff]*(?<![\t ])$/;
const NOT_BYTE_STRING = /[^\t\x20-\x7e\x80-\xff]+/g;

/**
 * A value as it can go on the wire: characters a header cannot carry (controls, CR, LF, beyond
 * Latin-1) removed and surrounding spaces and tabs trimmed — as the axios client did, so a
 * stray newline in a setting can never start a header of its own.
 */
const byteString = (value: string): string =>
  CLEAN_VALUE.test(value)
    ? value
    : value.replace(NOT_BYTE_STRING, '').replace(/^[\t ]+|[\t ]+$/g, '');

/**
 * The request headers as undici gets them, a flat `[name, value, …]` list: the request's own
 * (a number sent as its digits, as axios did; any other non-string value left out, so a plugin
 * written in JavaScript cannot send `[object Object]`), then each default the request does not
 * name.
 */
const outgoingHeaders = (given: Readonly<Record<string, unknown>> | undefined): string[] => {
  const out: string[] = [];
  /** One bit per entry of DEFAULT_HEADERS the request names. */
  let named = 0;
  if (given !== undefined) {
    for (const name of Object.keys(given)) {
      const value = given[name];
      if (typeof value !== 'string' && typeof value !== 'number') continue;
      const lower = name.toLowerCase();
      const index = DEFAULT_HEADERS.findIndex(([known]) => known === lower);
      if (index !== -1) named |= 1 << index;
      out.push(name, byteString(String(value)));
    }
  }
  DEFAULT_HEADERS.forEach(([, name, value], index) => {
    if ((named & (1 << index)) === 0) out.push(name, value);
  });
  return out;
};

/**
 * Headers Node keeps only the first of when a peer sends several (`IncomingMessage.headers`), as
 * the axios client answered them; every other repeat is joined with `, ` (RFC 9110 §5.3).
 */
const SINGLE = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * The answer's headers as the port has them (undici gives lower-case names, repeats as lists),
 * as own properties only: a peer's `__proto__` header is a header, not a prototype.
 */
const answerHeaders = (headers: IncomingHttpHeaders): Record<string, string> => {
  const entries: [string, string][] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string') entries.push([name, value]);
    else if (Array.isArray(value)) {
      entries.push([name, SINGLE.has(name) ? (value[0] ?? '') : value.join(', ')]);
    }
  }
  return Object.fromEntries(entries);
};

const stripBOM = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** An answer larger than the client accepts (the axios client's words, which logs may match). */
const tooLarge = (limit: number): HttpResult => ({
  kind: 'failed',
  code: 'ERR_BAD_RESPONSE',
  message: `maxContentLength size of ${limit} exceeded`,
});

/**
 * The body decoded as its `content-encoding` says (gzip, deflate with or without its zlib header,
 * br; anything else is left as it came), at most `limit` bytes of it.
 */
const decoded = (body: Buffer, encoding: string | undefined, limit: number): Buffer => {
  if (encoding === undefined || body.length === 0) return body;
  const options = {
    maxOutputLength: Math.max(1, limit + 1),
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  };
  switch (encoding.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, options);
    case 'deflate':
      // A zlib header's first byte has compression method 8 in its low four bits; raw deflate
      // (which some servers send as `deflate`) does not.
      return (body[0] ?? 0) % 16 === 8
        ? zlib.inflateSync(body, options)
        : zlib.inflateRawSync(body, options);
    case 'br':
      return zlib.brotliDecompressSync(body, {
        maxOutputLength: options.maxOutputLength,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      });
    default:
      return body;
  }
};

/** undici's codes for a connection, head or body that took too long. */
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Node's own verdict on a request's headers, for the error undici gives only as "invalid header
 * key" / "invalid X header": `ERR_INVALID_HTTP_TOKEN` or `ERR_INVALID_CHAR`, naming the header.
 */
const headerProblem = (request: HttpRequest): HttpResult | undefined => {
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, byteString(value));
    } catch (error) {
      return { kind: 'failed', code: codeOf(error) ?? 'ERR_UNKNOWN', message: messageOf(error) };
    }
  }
  return undefined;
};

/**
 * One exchange through undici's dispatcher: the answer collected whole, one timer for all of it,
 * settled once.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  /** Set once the head of the answer is in: an error after it means the answer was cut short. */
  private headers: IncomingHttpHeaders | undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  resolve: (result: HttpResult) => void = noop;

  constructor(
    private readonly request: HttpRequest,
    private readonly timeoutMs: number,
    private readonly limit: number,
  ) {
    if (timeoutMs > 0) this.timer = setTimeout(onTimeout, timeoutMs, this);
  }

  private settle(result: HttpResult): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.resolve(result);
    return true;
  }

  timedOut(): void {
    if (this.settle({ kind: 'timed_out', timeoutMs: this.timeoutMs })) {
      // Before the request has a connection there is nothing to abort yet: onRequestStart does.
      this.controller?.abort(new Error('timed out'));
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.done) controller.abort(new Error('already settled'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.settle(tooLarge(this.limit));
      controller.abort(new Error('answer too large'));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.done) return;
    const headers = this.headers ?? {};
    let body: string;
    try {
      const raw =
        this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      const encoding = headers['content-encoding'];
      const bytes = decoded(raw, typeof encoding === 'string' ? encoding : undefined, this.limit);
      // The header describes bytes the channel never sees.
      if (bytes !== raw) delete headers['content-encoding'];
      if (bytes.length > this.limit) {
        this.settle(tooLarge(this.limit));
        return;
      }
      body = stripBOM(bytes.toString('utf8'));
    } catch (error) {
      this.settle(
        codeOf(error) === 'ERR_BUFFER_TOO_LARGE'
          ? tooLarge(this.limit)
          : { kind: 'failed', code: 'ERR_BAD_RESPONSE', message: messageOf(error) },
      );
      return;
    }
    this.settle({
      kind: 'answered',
      status: this.status,
      headers: answerHeaders(headers),
      body,
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.done) return;
    this.settle(this.resultOf(error));
  }

  /** What an error that ended the exchange before its answer was whole amounts to. */
  private resultOf(error: Error): HttpResult {
    const problem = destinationProblemOf(error);
    if (problem !== undefined) return refusal(problem);
    const code = codeOf(error) ?? 'ERR_UNKNOWN';
    if (TIMEOUT_CODES.has(code)) return { kind: 'timed_out', timeoutMs: this.timeoutMs };
    if (this.headers !== undefined) {
      return {
        kind: 'failed',
        code: 'ERR_BAD_RESPONSE',
        message: `the answer was cut short: ${error.message}`,
      };
    }
    if (code === 'UND_ERR_INVALID_ARG') {
      return (
        headerProblem(this.request) ?? {
          kind: 'failed',
          code: 'ERR_BAD_REQUEST',
          message: error.message,
        }
      );
    }
    // The peer closed the connection before answering: what Node calls a socket hang-up.
    if (code === 'UND_ERR_SOCKET') {
      return { kind: 'failed', code: 'ECONNRESET', message: error.message };
    }
    return { kind: 'failed', code, message: error.message };
  }
}

const noop = (): void => undefined;

function onTimeout(exchange: Exchange): void {
  exchange.timedOut();
}

/**
 * The HTTP client every channel sends with (docs/plugins.md): the channels' port on an undici
 * `Agent` of its own (keep-alive connections, HTTP/1.1, no proxy: the global dispatcher and the
 * environment's proxy settings are never used). It keeps all the guard promises:
 *
 * - before anything is sent, the URL is judged as `checkDestination` does, through the
 *   verdicts {@link cachedDestinationCheck} remembers: scheme, credentials, IP literals (the
 *   only check they get: Node connects to a literal without a lookup) and, for names, their
 *   DNS answers. A refusal is `refused` and opens no socket.
 * - the Agent's connector resolves every name through {@link guardedLookup} when it opens a
 *   connection, so a name that now resolves to an internal address (DNS rebinding) is refused
 *   (`refused`, nothing sent) before the socket connects; a kept-alive connection goes to the
 *   address that was checked when it was opened.
 * - no redirect is followed (undici's dispatcher never does: a 3xx is an answer), every status
 *   is an answer. An idle connection is closed after the server's keep-alive hint, or 4 s.
 * - one timer for the whole exchange, connecting and reading the body included: `timeoutMs`
 *   (default 5 s; a request may set its own), `timed_out` when it fires.
 * - answers over `maxResponseBytes` (default 1 MiB; counted as received and once decompressed)
 *   are `failed` `ERR_BAD_RESPONSE`, and the connection is dropped.
 *
 * The request goes out with the channel's headers (values reduced to what a header can carry,
 * see `byteString`), plus `Accept`, `User-Agent: Tidings` and `Accept-Encoding` unless given;
 * the answer's body is decompressed (gzip, deflate, br) and decoded as UTF-8. Failures keep
 * the network's code (`ECONNREFUSED`, `ENOTFOUND`…); a peer that closes without answering is
 * `ECONNRESET`, an answer cut short `ERR_BAD_RESPONSE`, a header Node would refuse
 * `ERR_INVALID_HTTP_TOKEN` / `ERR_INVALID_CHAR`. `request` never rejects.
 */
export const createGuardedHttpClient = (options: GuardedHttpClientOptions): GuardedHttpClient => {
  const defaultTimeout = options.timeoutMs ?? 5000;
  const limit = options.maxResponseBytes ?? 1_048_576;
  const check = cachedDestinationCheck(options);
  const dispatcher = new Agent({
    connect: { lookup: guardedLookup(options.allowlist, options.lookup), timeout: defaultTimeout },
    allowH2: false,
    // The exchange's own timer limits the whole of it; undici's would only limit parts.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  const send = (request: HttpRequest, url: URL, timeoutMs: number): Promise<HttpResult> => {
    const exchange = new Exchange(request, timeoutMs, limit);
    const answer = new Promise<HttpResult>((resolve) => {
      exchange.resolve = resolve;
    });
    try {
      // Reports every failure, a request undici refuses included, to the exchange.
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: request.method,
          headers: outgoingHeaders(request.headers),
          body: request.body ?? null,
        },
        exchange,
      );
    } catch (error) {
      // Not expected (undici hands its errors to the exchange); `request` still never rejects.
      exchange.onResponseError(
        undefined,
        error instanceof Error ? error : new Error(String(error)),
      );
    }
    return answer;
  };

  return {
    request: (request) => {
      const timeoutMs = request.timeoutMs ?? defaultTimeout;
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return Promise.resolve(refusal(invalidUrl));
      }
      const verdict = check(url);
      if (verdict === undefined) return send(request, url, timeoutMs);
      if (!(verdict instanceof Promise)) return Promise.resolve(refusal(verdict));
      return verdict.then((problem) =>
        problem === undefined ? send(request, url, timeoutMs) : refusal(problem),
      );
    },
    close: () => dispatcher.close(),
  };
};

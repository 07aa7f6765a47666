import axios, { AxiosError, AxiosHeaders } from 'axios';
import type {
  AxiosAdapter,
  AxiosResponse,
  InternalAxiosRequestConfig,
  RawAxiosHeaders,
  ResponseType,
} from 'axios';
import buildFullPath from 'axios/unsafe/core/buildFullPath.js';
import settle from 'axios/unsafe/core/settle.js';
import buildURL from 'axios/unsafe/helpers/buildURL.js';
import { sanitizeByteStringHeaderValue } from 'axios/unsafe/helpers/sanitizeHeaderValue.js';
import ZlibHeaderTransformStream from 'axios/unsafe/helpers/ZlibHeaderTransformStream.js';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

/**
 * Judges the URL a request is about to go to, `fullPath` (`baseURL` and `url` joined, before the
 * `params` are added): answers it, parsed, when the request may go there, and throws or rejects
 * — typically with a `ForbiddenDestinationError` — when it may not. The adapter connects to the
 * URL it answers and to nothing else. It may answer at once (a remembered verdict) or with a
 * promise. `fullUrl` gives the complete URL (query included) for error messages.
 */
export type DestinationGate = (fullPath: string, fullUrl: () => string) => URL | Promise<URL>;

/** What {@link createGuardedHttpAdapter} connects with. */
export interface GuardedHttpAdapterOptions {
  /** Agents whose `lookup` checks every address at connect time; used for every request. */
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  /** Runs on the exact URL about to be requested, before anything is sent. */
  readonly gate: DestinationGate;
  /**
   * Applies the client's fixed options (agents, no redirects, no proxy…) to a config again
   * before it goes to axios's http adapter, which, unlike the lean path, reads them from the
   * config: a `transformRequest` runs after the request interceptor and could have changed them.
   */
  readonly enforce: (config: InternalAxiosRequestConfig) => void;
}

/** The body types the lean path writes (what `transformRequest` leaves of a string or Buffer). */
type PlainBody = string | Buffer | undefined | null;

const zlibOptions = {
  flush: zlib.constants.Z_SYNC_FLUSH,
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
};
const brotliOptions = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

/** What axios 1.x advertises on Node 20 (brotli, no zstd). */
const ACCEPT_ENCODING = 'gzip, compress, deflate, br';

const noop = (): void => undefined;

/** An own property of the config: values planted on `Object.prototype` are ignored, as in axios. */
const own = <K extends keyof InternalAxiosRequestConfig>(
  config: InternalAxiosRequestConfig,
  key: K,
): InternalAxiosRequestConfig[K] | undefined =>
  Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;

/**
 * True when the request uses nothing but what the lean path implements; anything else (streams,
 * forms, blobs, progress callbacks, rate limits, cancellation, `auth`, `family`,
 * `responseType: 'stream'`) goes to axios's own http adapter, with the same agents and options.
 */
const isPlain = (config: InternalAxiosRequestConfig): boolean => {
  const data: unknown = own(config, 'data');
  return (
    (data === undefined || data === null || typeof data === 'string' || Buffer.isBuffer(data)) &&
    own(config, 'responseType') !== 'stream' &&
    own(config, 'onUploadProgress') === undefined &&
    own(config, 'onDownloadProgress') === undefined &&
    own(config, 'maxRate') === undefined &&
    own(config, 'cancelToken') === undefined &&
    own(config, 'signal') === undefined &&
    own(config, 'auth') === undefined &&
    own(config, 'family') === undefined &&
    own(config, 'httpVersion') === 1 &&
    own(config, 'transitional')?.advertiseZstdAcceptEncoding !== true
  );
};

/** The decoders axios's http adapter would put behind a response with this `content-encoding`. */
const decodersFor = (encoding: string): Transform[] | undefined => {
  switch (encoding.toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      return [zlib.createUnzip(zlibOptions)];
    case 'deflate':
      return [new ZlibHeaderTransformStream(), zlib.createUnzip(zlibOptions)];
    case 'br':
      return [zlib.createBrotliDecompress(brotliOptions)];
    default:
      return undefined;
  }
};

const stripBOM = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

const USER_AGENT = `axios/${axios.VERSION}`;

/** Header values Node accepts as they are: byte strings without surrounding spaces or tabs. */
const CLEAN_VALUE = /^(?![\t ])[\t\x20-\x7e\x80-\xff]*(?<![\t ])$/;

const byteString = (value: unknown): string | string[] =>
  typeof value === 'string' && CLEAN_VALUE.test(value)
    ? value
    : sanitizeByteStringHeaderValue(value);

/**
 * The request headers as Node gets them, in one pass: what axios's http adapter makes of the
 * (normalised) `headers` with `set('User-Agent', 'axios/<version>', false)`,
 * `setContentLength(<length>, false)` when there is a body, `set('Accept-Encoding', …, false)`
 * and `toByteStringHeaderObject`. A header the caller gave, under any case, keeps its name, place
 * and value — and is left out when that value is `null` or `false`; one given as `undefined`
 * takes the default, in its place; the defaults nobody gave come last, in that order. Values go
 * through axios's own byte-string sanitiser unless they are clean already.
 */
export const outgoingHeaders = (
  headers: AxiosHeaders,
  contentLength: string | undefined,
): Record<string, string | string[]> => {
  const out: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >;
  let userAgent = false;
  let length = contentLength === undefined;
  let encoding = false;
  const given = headers as unknown as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    let value = given[name];
    switch (name.toLowerCase()) {
      // `set(name, value, false)` fills a header that is absent or `undefined`, never one that
      // is `null` or `false` (those mean "do not send").
      case 'user-agent':
        userAgent = true;
        if (value === undefined) value = USER_AGENT;
        break;
      case 'content-length':
        if (!length) {
          length = true;
          if (value === undefined) value = contentLength;
        }
        break;
      case 'accept-encoding':
        encoding = true;
        if (value === undefined) value = ACCEPT_ENCODING;
        break;
      default:
    }
    if (value !== undefined && value !== null && value !== false) out[name] = byteString(value);
  }
  if (!userAgent) out['User-Agent'] = USER_AGENT;
  if (!length && contentLength !== undefined) out['Content-Length'] = contentLength;
  if (!encoding) out['Accept-Encoding'] = ACCEPT_ENCODING;
  return out;
};

/**
 * The axios adapter of the guarded client: axios's own http adapter, minus the per-request work
 * this client never needs, for the requests outbound channels make — a string or Buffer body
 * (after `transformRequest`), any `responseType` but `stream`, no progress callbacks, rate limits,
 * cancellation or `auth`. Everything else is handed to axios's http adapter, after `enforce`.
 *
 * For every request, whichever path it takes, `gate` first judges the URL exactly as it will be
 * requested (`baseURL`, `url` and `allowAbsoluteUrls` joined by axios's `buildFullPath`, parsed
 * with the WHATWG parser like axios does), so nothing is sent to a destination it refuses — even
 * if a `transformRequest` rewrote the URL on the way.
 *
 * What the lean path keeps from axios's http adapter (1.x, `maxRedirects: 0`, no proxy):
 *
 * - the connection: `node:http` / `node:https` `request` with the given agents, always (the
 *   agents' guarded `lookup` checks every address at connect time), `insecureHTTPParser` off
 *   unless asked for; no redirect is followed (Node never does), a 3xx is a response.
 * - the request: the same headers (axios's normalised `AxiosHeaders`, byte-string sanitised,
 *   with its `User-Agent`, `Accept-Encoding` and `Content-Length`), the same path and query
 *   (`params` through axios's `buildURL`), the same body bytes, `maxBodyLength`.
 * - the response: `status`, `statusText`, `headers` as `AxiosHeaders`, `request`; the body
 *   decompressed (gzip, compress, deflate, br) unless `decompress: false`, refused once it
 *   exceeds `maxContentLength` (`AxiosError` `ERR_BAD_RESPONSE`, the connection destroyed), a
 *   Buffer for `arraybuffer` and decoded text (BOM stripped) otherwise; settled by
 *   `validateStatus` through axios's `settle`.
 * - errors: transport errors as `AxiosError.from(error)` (their `code`, and their cause — e.g.
 *   the guard's `ForbiddenDestinationError` from the lookup — kept); a response cut short as
 *   `ERR_BAD_RESPONSE` "stream has been aborted".
 * - `timeout`, stricter: one timer for the whole request — connecting, sending, waiting and
 *   reading the body — where axios stops its wall clock at the response headers and then only
 *   limits the time between two chunks. It fails with axios's error: `timeout of Nms exceeded`
 *   (or `timeoutErrorMessage`), code `ECONNABORTED`, or `ETIMEDOUT` with
 *   `transitional.clarifyTimeoutError`; the request is destroyed.
 *
 * What it leaves out: the per-request `socket.setKeepAlive(true, 60 s)` (the keep-alive agents
 * turn TCP keep-alive on for their sockets already; axios's call only switched the probe delay
 * between its 60 s and the agent's 1 s on every request: two system calls), the per-request
 * `socket.setTimeout` (the whole-request timer replaces it), and a second `normalize()` of the
 * request headers (`dispatchRequest` has just normalised them, after `transformRequest`).
 * Per-request state lives in one object, with listeners shared by all requests.
 */
export const createGuardedHttpAdapter = (options: GuardedHttpAdapterOptions): AxiosAdapter => {
  const fallback = axios.getAdapter('http');
  const { httpAgent, httpsAgent, gate, enforce } = options;

  const go = (config: InternalAxiosRequestConfig, url: URL): Promise<AxiosResponse> => {
    if (!isPlain(config)) {
      enforce(config);
      return fallback(config);
    }
    try {
      return send(config, url, httpAgent, httpsAgent);
    } catch (error) {
      // Node refusing the request outright (an invalid method or path), as axios rejects then.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  return (config) => {
    let judged: URL | Promise<URL>;
    try {
      const fullPath = buildFullPath(
        own(config, 'baseURL'),
        own(config, 'url'),
        own(config, 'allowAbsoluteUrls'),
        config,
      );
      judged = gate(fullPath, () =>
        buildURL(fullPath, own(config, 'params'), own(config, 'paramsSerializer')),
      );
    } catch (error) {
      // An AxiosError (a malformed URL) or the gate's refusal.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return judged instanceof URL ? go(config, judged) : judged.then((url) => go(config, url));
  };
};

const kExchange = Symbol('guardedHttpAdapter.exchange');

/** An emitter of one exchange (request, response, body) that knows its exchange. */
type Tagged<T> = T & { [kExchange]?: Exchange };

/** One request on the lean path and its answer, settled once. */
class Exchange {
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private response: AxiosResponse | undefined;
  private body: Readable | undefined;
  request: http.ClientRequest | undefined;
  /** Set by the promise executor, which runs at once. */
  resolve: (response: AxiosResponse) => void = noop;
  reject: (reason: unknown) => void = noop;

  constructor(
    private readonly config: InternalAxiosRequestConfig,
    private readonly method: string,
  ) {}

  /** Marks the exchange settled; false if it already was. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    return true;
  }

  fail(error: unknown): void {
    if (this.finish()) this.reject(error);
  }

  startTimer(timeout: number, configured: unknown): void {
    this.timer = setTimeout(onTimeout, timeout, this, configured);
  }

  timedOut(configured: unknown): void {
    const custom = own(this.config, 'timeoutErrorMessage');
    this.fail(
      new AxiosError(
        custom === undefined || custom === ''
          ? `timeout of ${String(configured)}ms exceeded`
          : custom,
        own(this.config, 'transitional')?.clarifyTimeoutError === true
          ? AxiosError.ETIMEDOUT
          : AxiosError.ECONNABORTED,
        this.config,
        this.request,
      ),
    );
    this.request?.destroy();
  }

  requestFailed(error: Error): void {
    this.fail(AxiosError.from(error, undefined, this.config, this.request));
  }

  respond(res: IncomingMessage): void {
    if (this.done) {
      res.destroy();
      return;
    }
    let body: Tagged<Readable> = res;
    if (own(this.config, 'decompress') !== false && res.headers['content-encoding'] !== undefined) {
      // No content, whatever the header says.
      if (this.method === 'HEAD' || res.statusCode === 204) delete res.headers['content-encoding'];
      const decoders = decodersFor(res.headers['content-encoding'] ?? '');
      if (decoders !== undefined) {
        delete res.headers['content-encoding'];
        pipeline([res, ...decoders], noop);
        body = decoders.at(-1) ?? res;
      }
    }
    this.body = body;
    this.response = {
      data: undefined,
      status: res.statusCode ?? 0,
      statusText: res.statusMessage ?? '',
      headers: new AxiosHeaders(res.headers as RawAxiosHeaders),
      config: this.config,
      request: this.request,
    };
    (res as Tagged<IncomingMessage>)[kExchange] = this;
    body[kExchange] = this;
    res.on('aborted', onAborted);
    body.on('data', onData);
    body.on('error', onBodyError);
    body.on('end', onEnd);
  }

  data(chunk: Buffer): void {
    if (this.done) return;
    this.received += chunk.length;
    const limit = own(this.config, 'maxContentLength') ?? -1;
    if (limit > -1 && this.received > limit) {
      this.fail(
        new AxiosError(
          `maxContentLength size of ${limit} exceeded`,
          AxiosError.ERR_BAD_RESPONSE,
          this.config,
          this.request,
        ),
      );
      this.body?.destroy();
      this.request?.destroy();
      return;
    }
    this.chunks.push(chunk);
  }

  aborted(): void {
    if (this.done) return;
    const error = new AxiosError(
      'stream has been aborted',
      AxiosError.ERR_BAD_RESPONSE,
      this.config,
      this.request,
      this.response,
    );
    this.fail(error);
    this.body?.destroy(error);
  }

  bodyFailed(error: Error): void {
    this.fail(AxiosError.from(error, undefined, this.config, this.request, this.response));
  }

  end(): void {
    const response = this.response;
    if (response === undefined || !this.finish()) return;
    try {
      const buffer =
        this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      const responseType: ResponseType | undefined = own(this.config, 'responseType');
      if (responseType === 'arraybuffer') {
        response.data = buffer;
      } else {
        const encoding = own(this.config, 'responseEncoding') as BufferEncoding | undefined;
        const text = buffer.toString(encoding);
        response.data = encoding === undefined || encoding === 'utf8' ? stripBOM(text) : text;
      }
    } catch (error) {
      this.reject(AxiosError.from(error, undefined, this.config, this.request, response));
      return;
    }
    settle(this.resolve, this.reject, response);
  }
}

// Listeners shared by every exchange: the emitter (`this`) carries its exchange.
function onTimeout(exchange: Exchange, configured: unknown): void {
  exchange.timedOut(configured);
}
function onRequestError(this: Tagged<http.ClientRequest>, error: Error): void {
  this[kExchange]?.requestFailed(error);
}
function onResponse(this: Tagged<http.ClientRequest>, res: IncomingMessage): void {
  const exchange = this[kExchange];
  if (exchange === undefined) res.destroy();
  else exchange.respond(res);
}
function onAborted(this: Tagged<IncomingMessage>): void {
  this[kExchange]?.aborted();
}
function onData(this: Tagged<Readable>, chunk: Buffer): void {
  this[kExchange]?.data(chunk);
}
function onBodyError(this: Tagged<Readable>, error: Error): void {
  this[kExchange]?.bodyFailed(error);
}
function onEnd(this: Tagged<Readable>): void {
  this[kExchange]?.end();
}

/** One request on the lean path; `url` has passed the gate. */
const send = (
  config: InternalAxiosRequestConfig,
  url: URL,
  httpAgent: http.Agent,
  httpsAgent: https.Agent,
): Promise<AxiosResponse> => {
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(
      new AxiosError(`Unsupported protocol ${url.protocol}`, AxiosError.ERR_BAD_REQUEST, config),
    );
  }
  const method = (own(config, 'method') ?? 'get').toUpperCase();
  const given = own(config, 'data') as PlainBody;
  // As axios does: a string is sent as its UTF-8 bytes. (Not as a string: Node would then write
  // the head with it in the string's encoding, and header values beyond ASCII would go out as
  // UTF-8 instead of Latin-1.)
  const data = typeof given === 'string' ? Buffer.from(given, 'utf8') : given;
  const length = data?.length ?? 0;
  if (data) {
    const maxBodyLength = own(config, 'maxBodyLength') ?? -1;
    if (maxBodyLength > -1 && length > maxBodyLength) {
      return Promise.reject(
        new AxiosError(
          'Request body larger than maxBodyLength limit',
          AxiosError.ERR_BAD_REQUEST,
          config,
        ),
      );
    }
  }

  let path: string;
  try {
    path = buildURL(
      url.pathname + url.search,
      own(config, 'params'),
      own(config, 'paramsSerializer'),
    ).replace(/^\?/, '');
  } catch (error) {
    return Promise.reject(AxiosError.from(error, AxiosError.ERR_BAD_REQUEST, config));
  }
  const exchange = new Exchange(config, method);
  const answer = new Promise<AxiosResponse>((resolve, reject) => {
    exchange.resolve = resolve;
    exchange.reject = reject;
  });

  const request: Tagged<http.ClientRequest> = (secure ? https : http).request({
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    path,
    method,
    headers: outgoingHeaders(AxiosHeaders.from(config.headers), data ? String(length) : undefined),
    agent: secure ? httpsAgent : httpAgent,
    insecureHTTPParser: Boolean(own(config, 'insecureHTTPParser')),
  });
  exchange.request = request;
  request[kExchange] = exchange;
  request.on('response', onResponse);
  request.on('error', onRequestError);

  const configured = own(config, 'timeout');
  if (configured) {
    const timeout = parseInt(String(configured), 10);
    if (Number.isNaN(timeout)) {
      exchange.fail(
        new AxiosError(
          'error trying to parse `config.timeout` to int',
          AxiosError.ERR_BAD_OPTION_VALUE,
          config,
          request,
        ),
      );
      request.destroy();
      return answer;
    }
    if (timeout > 0) exchange.startTimer(timeout, configured);
  }

  if (data) request.end(data);
  else request.end();
  return answer;
};

import { connect } from 'node:net';

/**
 * A raw HTTP/1.1 client over one TCP connection per request. The fuzzer needs to send what
 * well-behaved clients (fetch, node:http) refuse to: malformed percent-encoding and raw bytes in
 * the request target, invalid UTF-8 bodies, contradictory or malformed framing
 * (`Transfer-Encoding` with `Content-Length`, bad chunk sizes). It writes exactly the bytes it is
 * given and reads the whole answer until the server closes the connection.
 */

/** How the body is framed on the wire. */
export type Framing =
  /** `Content-Length` with the body's size (nothing when there is no body). */
  | { readonly kind: 'length' }
  /** `Transfer-Encoding: chunked`, the body cut into chunks of `chunkSize` bytes. */
  | { readonly kind: 'chunked'; readonly chunkSize: number }
  /** Exactly the headers given, and the body bytes as they are (the caller frames them). */
  | { readonly kind: 'raw' };

/** One request, byte for byte. */
export interface WireRequest {
  readonly method: string;
  /** The request target (path and query) exactly as sent; characters above U+00FF are not allowed. */
  readonly target: string;
  /** Header lines in order (a `Host` and `Connection: close` are added first). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
  readonly framing: Framing;
}

/** The server's answer. */
export interface WireAnswer {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, ` (`set-cookie` with `\n`). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** Milliseconds from connecting to the end of the answer. */
  readonly ms: number;
}

/** No answer at all: the connection failed, was closed early, or timed out. */
export class NoAnswer extends Error {
  constructor(
    message: string,
    /** What arrived before it broke off, if anything. */
    readonly received: Buffer,
  ) {
    super(message);
    this.name = 'NoAnswer';
  }
}

/** Where the server listens. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The endpoint of an `http://host:port` base URL. */
export const endpointOf = (base: string): Endpoint => {
  const url = new URL(base);
  if (url.protocol !== 'http:') throw new Error(`the fuzzer speaks plain HTTP only, not ${base}`);
  return { host: url.hostname, port: Number(url.port === '' ? 80 : url.port) };
};

/** The bytes of a request as they go on the wire. */
export const encodeRequest = (endpoint: Endpoint, request: WireRequest): Buffer => {
  const lines = [
    `${request.method} ${request.target} HTTP/1.1`,
    `Host: ${endpoint.host}:${endpoint.port}`,
    'Connection: close',
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
  ];
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  let payload: Buffer = Buffer.alloc(0);
  if (request.framing.kind === 'length') {
    if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
    payload = body ?? payload;
  } else if (request.framing.kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const size = Math.max(1, request.framing.chunkSize);
    const parts: Buffer[] = [];
    const whole = body ?? Buffer.alloc(0);
    for (let start = 0; start < whole.length; start += size) {
      const chunk = whole.subarray(start, start + size);
      parts.push(
        Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'),
        chunk,
        Buffer.from('\r\n'),
      );
    }
    parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
    payload = Buffer.concat(parts);
  } else {
    payload = body ?? payload;
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
};

const headEnd = (data: Buffer): number => data.indexOf('\r\n\r\n');

/** Decodes a chunked body; undefined while it is incomplete. */
const dechunk = (data: Buffer): Buffer | undefined => {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(
      data.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '',
      16,
    );
    if (!Number.isFinite(size)) throw new NoAnswer('the answer has a malformed chunk size', data);
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
};

/** Parses a complete answer; undefined while more bytes are needed. */
export const parseAnswer = (data: Buffer, closed: boolean, ms: number): WireAnswer | undefined => {
  const end = headEnd(data);
  if (end < 0) return undefined;
  const [statusLine = '', ...headerLines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) throw new NoAnswer(`not an HTTP answer: ${statusLine.slice(0, 80)}`, data);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(
      name,
      before === undefined ? value : `${before}${name === 'set-cookie' ? '\n' : ', '}${value}`,
    );
  }
  const rest = data.subarray(end + 4);
  const status = Number(match[1]);
  let body: Buffer | undefined;
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) {
    body = dechunk(rest);
  } else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'));
    body = rest.length >= length ? rest.subarray(0, length) : undefined;
  } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    body = Buffer.alloc(0);
  } else {
    body = closed ? rest : undefined;
  }
  return body === undefined ? undefined : { status, headers, body, ms };
};

/**
 * Sends one request and resolves with the answer, or rejects with {@link NoAnswer}. The body is
 * written in pieces and writing stops as soon as an answer has begun, as a careful client does
 * when a server refuses a body early (413) and closes.
 */
export const send = (
  endpoint: Endpoint,
  request: WireRequest,
  timeoutMs: number,
): Promise<WireAnswer> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const bytes = encodeRequest(endpoint, request);
    const received: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const receivedSoFar = (): Buffer => Buffer.concat(received);
    const finish = (closed: boolean, failure?: string): void => {
      if (settled) return;
      const data = receivedSoFar();
      let answer: WireAnswer | undefined;
      try {
        answer = parseAnswer(data, closed, performance.now() - started);
      } catch (error) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error instanceof NoAnswer ? error : new NoAnswer(String(error), data));
        return;
      }
      if (answer !== undefined) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      } else if (closed || failure !== undefined) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(
          new NoAnswer(
            failure ?? 'the server closed the connection without a complete answer',
            data,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      finish(false, `no complete answer within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      finish(false);
    });
    socket.on('end', () => {
      finish(true);
    });
    socket.on('close', () => {
      finish(true);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer began is the server refusing the rest of a body: keep the answer.
      finish(true, `connection failed: ${error.code ?? error.message}`);
    });
    socket.once('connect', () => {
      const piece = 16 * 1024;
      let at = 0;
      const writeMore = (): void => {
        while (at < bytes.length && !settled && received.length === 0) {
          const chunk = bytes.subarray(at, at + piece);
          at += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', writeMore);
            return;
          }
        }
      };
      writeMore();
    });
  });

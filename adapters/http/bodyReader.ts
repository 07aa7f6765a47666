import type { Request, RequestHandler, Response } from 'express';
import { MIMEType } from 'node:util';
import type { Logger } from '../../domain/shared/logger.js';
import { ProblemError, sendProblem } from './problem.js';
import { decodeUtf8KeepingFaults } from './utf8.js';

/**
 * How long the connection of a refused upload may stay open after its 413: Node closes it as soon
 * as the answer is flushed, so this only cuts a client that does not even read its answer.
 */
const CLOSE_GRACE_MS = 2_000;

/**
 * What a body may take on the wire beyond its limit, as chunk framing (sizes, extensions,
 * trailers): a quarter of the limit and 16 KiB. Ordinary framing is a few bytes per chunk; a
 * client that sends one byte per chunk with a kilobyte of extensions would otherwise write 1,000
 * times the limit before the body itself reached it.
 */
const wireLimitOf = (limit: number): number => limit + Math.floor(limit / 4) + 16 * 1024;

/** RFC 9110 section 10.1.1, matched as Node matches it (`100-continue` among the expectations). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** The body limits, in bytes: one for every path, and some paths with their own. */
export interface BodyLimits {
  readonly standard: number;
  /** Keyed by {@link routeKey}. */
  readonly byRoute: ReadonlyMap<string, number>;
}

/** Limits from `64kb`-style sizes (docs/api.md: 64 KiB, 1 MiB for `/v1/messages/batch`). */
export const bodyLimitsOf = (
  standard: string,
  byPath: Readonly<Record<string, string>>,
): BodyLimits => ({
  standard: parseSize(standard),
  byRoute: new Map(Object.entries(byPath).map(([path, size]) => [routeKey(path), parseSize(size)])),
});

/**
 * Reads every request body before routing, counting its bytes, whatever its content type and
 * whether it declares a length or comes chunked:
 * - over the route's limit (declared, or the moment more than the limit has arrived, or more
 *   than {@link wireLimitOf} on the wire with its chunk framing): 413 `payload_too_large` with
 *   `Connection: close`; nothing more is read and the connection is closed once the answer is
 *   out, so an endless upload costs at most about the limit on the wire; an HTTP/1.1 client that
 *   sent `Expect: 100-continue` gets `100 Continue` only when its declared length is within it
 *   (an HTTP/1.0 one never: RFC 9110 section 10.1.1);
 * - a client that goes away mid-body is logged at debug level and not answered (nobody is left to
 *   read it);
 * - `application/json` and `application/*+json` bodies become `request.body`: UTF-8 only (another
 *   charset, or a `Content-Encoding`, is 415 `unsupported_media_type`), an object or an array
 *   (else 400 `invalid_json`), an empty body reads as `{}`. Bytes that are not UTF-8 are kept as
 *   faults (see {@link decodeUtf8KeepingFaults}) for the routes to refuse, naming the field.
 * - a request `keepRaw` picks keeps its body as bytes for its route ({@link rawBodyOf}).
 * Other bodies are read and dropped, so an answer never leaves half a body on a kept-alive
 * connection.
 */
export const readBodies =
  (
    limits: BodyLimits,
    logger: Logger,
    /** Requests whose body is kept as bytes for their route ({@link rawBodyOf}), JSON or not. */
    keepRaw: (request: Request) => boolean = () => false,
  ): RequestHandler =>
  (request, response, next) => {
    if (!hasBody(request)) {
      next();
      return;
    }
    const limit = limits.byRoute.get(routeKey(request.path)) ?? limits.standard;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      refuseTooLarge(request, response, limit);
      return;
    }
    // The server leaves `Expect: 100-continue` to this reader (composition/listen.ts): the body is
    // wanted now that its declared length is within the limit.
    if (expectsContinue(request)) response.writeContinue();
    const chunks: Buffer[] = [];
    let received = 0;
    // The socket's count, not the body's: chunk framing costs bytes the body never shows. It is
    // per connection, so it is taken from where this request's body begins (a kept-alive
    // connection has read earlier requests; what came with the headers is not counted).
    const { socket } = request;
    const wireStart = socket.bytesRead;
    const wireLimit = wireLimitOf(limit);
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      const overWire = socket.bytesRead - wireStart > wireLimit;
      if (received > limit || overWire) {
        stop();
        chunks.length = 0;
        refuseTooLarge(
          request,
          response,
          limit,
          overWire ? ` (with its chunk framing, more than ${wireLimit} bytes on the wire)` : '',
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      try {
        if (keepRaw(request)) rawBodies.set(request, Buffer.concat(chunks, received));
        else if (isJson(request)) request.body = jsonOf(request, Buffer.concat(chunks, received));
      } catch (error) {
        next(error);
        return;
      }
      next();
    };
    const onGone = (): void => {
      if (request.complete) return;
      stop();
      logger.debug('request abandoned by the client during its body', {
        method: request.method,
        path: request.path,
        received,
      });
    };
    const stop = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onGone);
      request.off('close', onGone);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onGone);
    request.on('close', onGone);
  };

const rawBodies = new WeakMap<Request, Buffer>();

/**
 * The bytes of a body {@link readBodies} kept for its route (the compatible ingress reads Bark's
 * and ntfy's bodies itself); empty when the request had none.
 */
export const rawBodyOf = (request: Request): Buffer => rawBodies.get(request) ?? Buffer.alloc(0);

/** Whether the request has a body at all (RFC 9112 section 6.3: a length or a transfer coding). */
const hasBody = (request: Request): boolean => {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
};

/** Whether the client waits for `100 Continue` before it sends the body (HTTP/1.1 and later). */
const expectsContinue = (request: Request): boolean =>
  (request.httpVersionMajor > 1 ||
    (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1)) &&
  CONTINUE.test(request.headers.expect ?? '');

const isJson = (request: Request): boolean =>
  typeof request.is(['application/json', 'application/*+json']) === 'string';

/**
 * Answers 413 and stops reading. `Connection: close` makes Node end the connection once the answer
 * is flushed; the timer cuts a client that never reads it. The socket is held paused (Node's
 * request stream resumes it whenever it looks for more body, so it is paused again each time),
 * so what is read after the cut is at most the socket read in progress.
 *
 * No lingering close: a client that keeps sending past the cut has unread bytes in flight when
 * the connection closes, so its side may see a reset before it reads the 413. Reading on and
 * discarding (as nginx's lingering close does) would take the very upload the limit refuses; the
 * way to get the answer reliably is to declare the length with `Expect: 100-continue`.
 */
const refuseTooLarge = (request: Request, response: Response, limit: number, why = ''): void => {
  request.pause();
  // Node drains a request nobody has read from once it is answered (`IncomingMessage#_dump`);
  // reading nothing marks this one as read, so not a byte more is taken off the wire.
  request.read(0);
  const { socket } = request;
  const hold = (): void => {
    socket.pause();
  };
  hold();
  socket.on('resume', hold);
  response.setHeader('Connection', 'close');
  sendProblem(response, 'payload_too_large', `the body exceeds the limit of ${limit} bytes${why}`);
  const cut = setTimeout(() => {
    socket.destroy();
  }, CLOSE_GRACE_MS);
  cut.unref();
  socket.once('close', () => {
    clearTimeout(cut);
    socket.off('resume', hold);
  });
};

/** A JSON body as the routes take it; see {@link readBodies}. */
const jsonOf = (request: Request, bytes: Buffer): unknown => {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== 'identity') {
    throw new ProblemError('unsupported_media_type', 'send the body uncompressed');
  }
  if (!isUtf8Charset(request.headers['content-type'] ?? '')) {
    throw new ProblemError('unsupported_media_type', 'the body must be UTF-8 JSON');
  }
  // A byte order mark is allowed and is not part of the text (RFC 8259 section 8.1).
  const text = decodeUtf8KeepingFaults(bytes).replace(/^\uFEFF/, '');
  if (text.length === 0) return {};
  // Only an object or an array: a bare string or number is a client's mistake, not a body.
  const first = /^[\t\n\r ]*(.)/s.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw invalidJson();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidJson();
  }
};

const invalidJson = (): ProblemError =>
  new ProblemError('invalid_json', 'the body is not valid JSON');

/** No charset means UTF-8 for JSON (RFC 8259 section 8.1); a named one must be UTF-8. */
const isUtf8Charset = (contentType: string): boolean => {
  let charset: string | null;
  try {
    charset = new MIMEType(contentType).params.get('charset');
  } catch {
    return false;
  }
  return charset === null || ['utf-8', 'utf8'].includes(charset.toLowerCase());
};

/** Parses `64kb`-style sizes (the forms Tidings uses). */
const parseSize = (size: string): number => {
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(size.trim());
  if (match === null) throw new Error(`invalid body limit ${size}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
};

/**
 * A path as express matches routes (case-insensitive, a trailing slash ignored), so a limit set
 * for a route applies to every spelling that reaches it.
 */
const routeKey = (path: string): string => path.toLowerCase().replace(/(.)\/+$/, '$1');

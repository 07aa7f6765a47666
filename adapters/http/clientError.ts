import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../domain/shared/logger.js';
import { problem, type ProblemCode } from './problem.js';

/** How long a refused connection may take to read its answer before it is cut. */
const CLOSE_GRACE_MS = 1_000;

/** The problem for each error Node's HTTP parser or its timeouts report; any other is malformed. */
const problemOf = (
  error: NodeJS.ErrnoException,
  maxHeaderBytes: number,
): { readonly code: ProblemCode; readonly detail: string } => {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        code: 'headers_too_large',
        detail: `the request line and headers exceed ${maxHeaderBytes} bytes`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        code: 'request_timeout',
        detail: 'the request did not arrive within the time limit',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 'payload_too_large', detail: 'the chunk extensions are too large' };
    default: {
      const reason = (error as { reason?: unknown }).reason;
      return {
        code: 'malformed_request',
        detail: `the HTTP request is malformed${typeof reason === 'string' ? `: ${reason}` : ''}`,
      };
    }
  }
};

/** A complete HTTP/1.1 answer carrying a problem, written straight to the socket. */
const rawProblem = (
  code: ProblemCode,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): string => {
  const document = problem(code, detail);
  const body = JSON.stringify(document);
  const { status } = document;
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
};

/** Writes `answer` and closes the connection, cutting it if the peer does not read in time. */
const answerAndClose = (socket: Duplex, answer: string): void => {
  socket.end(answer);
  setTimeout(() => {
    socket.destroy();
  }, CLOSE_GRACE_MS).unref();
};

/**
 * Answers what Node's HTTP server refuses before express sees a request — a malformed message
 * (a bad `Transfer-Encoding`, an invalid header), headers over the size limit (431), headers or a
 * request that arrive too slowly (408) — with problem+json instead of Node's empty body, then
 * closes the connection. Nothing is written when an answer to that connection has already begun
 * (it would corrupt it) or the peer is gone. These are the client's doing: logged at debug.
 */
export const answerClientErrors = (
  server: Server,
  logger: Logger,
  maxHeaderBytes: number,
): void => {
  // The answer in progress on each connection, so a late error never writes into it.
  const answering = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (request, response: ServerResponse) => {
    const socket = request.socket;
    answering.set(socket, response);
    const done = (): void => {
      if (answering.get(socket) === response) answering.delete(socket);
    };
    response.once('finish', done).once('close', done);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const { code, detail } = problemOf(error, maxHeaderBytes);
    logger.debug('client error', { code: error.code, problem: code });
    const started = answering.get(socket)?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    answerAndClose(socket, rawProblem(code, detail));
  });
};

/**
 * Answers `CONNECT` (Node hands its connection over raw, and closes it unanswered when nobody
 * listens) with 405 `method_not_allowed`: Tidings is no proxy, so no resource takes it (an empty
 * `Allow` says so, RFC 9110 section 10.2.1). The client's doing: logged at debug.
 */
export const refuseConnect = (server: Server, logger: Logger): void => {
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    logger.debug('CONNECT refused', { target: request.url });
    // Node no longer watches a connection it handed over; an error on it must not go unheard.
    socket.on('error', () => {
      socket.destroy();
    });
    answerAndClose(
      socket,
      rawProblem('method_not_allowed', 'CONNECT is not served: this is no proxy', { Allow: '' }),
    );
  });
};

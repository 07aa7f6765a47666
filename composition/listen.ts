import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Settings } from '../adapters/config/settings.js';
import { answerClientErrors, refuseConnect } from '../adapters/http/clientError.js';
import type { Logger } from '../adapters/logging/logger.js';
import type { StopStack } from './stopStack.js';

/** Requests still running this long after a stop began are cut, so shutdown cannot hang. */
const FORCE_CLOSE_AFTER_MS = 10_000;

/**
 * How often Node looks for connections past their headers or request timeout. Its default, 30 s,
 * let a slow client hold a connection for up to 30 s past the limit; once a second keeps the
 * limits within a second, for the price of one walk over the open connections.
 */
const TIMEOUT_CHECK_EVERY_MS = 1_000;

/** Connections refused over the cap are reported at most this often, with their count. */
const DROP_REPORT_EVERY_MS = 60_000;

/**
 * Listens on the configured address with the HTTP limits of the settings (headers and request
 * timeouts, keep-alive, connections, header size), and answers the base URL it can be reached at.
 */
export const listenHttp = async (
  app: Express,
  settings: Settings,
  stops: StopStack,
  logger: Logger,
): Promise<string> => {
  const server = createServer(
    {
      headersTimeout: settings.httpHeadersTimeoutSeconds * 1000,
      requestTimeout: settings.httpRequestTimeoutSeconds * 1000,
      keepAliveTimeout: settings.httpKeepAliveTimeoutSeconds * 1000,
      connectionsCheckingInterval: TIMEOUT_CHECK_EVERY_MS,
      maxHeaderSize: settings.httpMaxHeaderBytes,
      // Node's own check answers a bare 400; the app answers malformed_request instead
      // (adapters/http/hostHeader.ts).
      requireHostHeader: false,
    },
    app,
  );
  server.maxConnections = settings.httpMaxConnections;
  // `Expect: 100-continue` goes to the app unanswered: the body reader sends the 100 only for a body
  // it will read, so an upload over the limit gets its 413 before the client sends a byte of it.
  server.on('checkContinue', (request, response) => {
    server.emit('request', request, response);
  });
  // Any other expectation is ignored, as RFC 9110 section 10.1.1 allows (417 is a "MAY"): the only
  // one defined is 100-continue, and a 417 would be an answer no operation documents. Node would
  // answer it 417 with an empty body.
  server.on('checkExpectation', (request, response) => {
    server.emit('request', request, response);
  });
  answerClientErrors(server, logger, settings.httpMaxHeaderBytes);
  refuseConnect(server, logger);
  reportDrops(server, logger, settings.httpMaxConnections);
  await listen(server, settings.port, settings.host);
  stops.push(() => closeServer(server));
  return urlOf(settings.host, (server.address() as AddressInfo).port);
};

/**
 * Warns when connections are refused because TIDINGS_HTTP_MAX_CONNECTIONS are open: at once for
 * the first, then at most once per `everyMs` with the count since the last warning, so drops
 * that come within `everyMs` of a warning are reported when it has passed, not only if another
 * drop follows.
 */
export const reportDrops = (
  server: Server,
  logger: Logger,
  max: number,
  everyMs = DROP_REPORT_EVERY_MS,
): void => {
  let dropped = 0;
  let reportedAt = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  const report = (): void => {
    pending = undefined;
    if (dropped === 0) return;
    logger.warn('connections refused: TIDINGS_HTTP_MAX_CONNECTIONS are open', {
      max,
      refused: dropped,
    });
    dropped = 0;
    reportedAt = Date.now();
  };
  server.on('drop', () => {
    dropped += 1;
    const wait = reportedAt + everyMs - Date.now();
    if (wait <= 0) {
      report();
      return;
    }
    // Unref'd: the timer must not keep a stopping process alive; the server's close reports it.
    pending ??= setTimeout(report, wait).unref();
  });
  server.once('close', () => {
    clearTimeout(pending);
    report();
  });
};

/** The URL of a listening address; a wildcard address is reached on the loopback. */
const urlOf = (listenHost: string, port: number): string => {
  const host = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
};

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('listening', () => {
      resolve();
    });
    server.once('error', reject);
    server.listen(port, host);
  });

/** Stops accepting connections, lets requests in flight finish, drops idle keep-alive sockets. */
const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, FORCE_CLOSE_AFTER_MS).unref();
  });

import express, { type Express, type Request, type Router } from 'express';
import type { Logger } from '../../domain/shared/logger.js';
import { bodyLimitsOf, readBodies } from './bodyReader.js';
import { requireHost } from './hostHeader.js';
import { methodNotAllowed } from './methodNotAllowed.js';
import { metricsMiddleware, type Metrics } from './metrics.js';
import { problemHandler, sendProblem } from './problem.js';
import { parseQuery } from './queryParser.js';
import { responseHeaders } from './responseHeaders.js';

/** One dependency the readiness probe looks at. */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves with a reason when not ready, `undefined` when fine. */
  check(): Promise<string | undefined>;
}

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: readonly ReadinessCheck[];
  /**
   * More of this node for `/readyz` to show beside the checks (several nodes: its leases and its
   * lag behind the shared log), under `node`.
   */
  readonly readinessDetails?: () => Promise<Record<string, unknown>>;
  /** Feature routers mounted in order (API routes arrive with later capabilities). */
  readonly routers?: readonly Router[];
  /** Default body limit; docs/api.md: 64 KiB. */
  readonly bodyLimit?: string;
  /** Exact paths with their own limit (docs/api.md: 1 MiB for `/v1/messages/batch`). */
  readonly bodyLimitOverrides?: Readonly<Record<string, string>>;
  /**
   * The proxies whose `X-Forwarded-For` / `-Proto` count (`TIDINGS_TRUST_PROXY`); none by
   * default, so the socket's address is the client's (the login limits count it).
   */
  readonly trustProxy?: false | number | readonly string[];
  /** Requests whose routes read their body bytes themselves (see `readBodies`). */
  readonly rawBodies?: (request: Request) => boolean;
}

/**
 * Builds the express application: health, readiness and metrics endpoints, the `Host` check, the
 * query parser and the body reader (body limits cut an upload as soon as it passes them, see
 * `readBodies`), the feature routers, a problem+json 405 for a served path asked with another
 * method (OPTIONS included), a problem+json 404 for unknown routes and the problem+json error
 * handler.
 */
export const createHttpApp = (options: HttpAppOptions): Express => {
  const app = express();
  app.disable('x-powered-by');
  const trustProxy = options.trustProxy ?? false;
  app.set('trust proxy', typeof trustProxy === 'object' ? [...trustProxy] : trustProxy);
  app.use(responseHeaders);
  app.use(metricsMiddleware(options.metrics));
  app.use(requestLog(options.logger));
  app.use(requireHost);
  app.set('query parser', parseQuery);
  // Before every route, the health endpoints too: no request's body goes unread or unlimited.
  app.use(
    readBodies(
      bodyLimitsOf(options.bodyLimit ?? '64kb', options.bodyLimitOverrides ?? {}),
      options.logger,
      options.rawBodies,
    ),
  );

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  app.get('/readyz', async (_request, response) => {
    const results = await Promise.all(
      options.readiness.map(async (check) => {
        try {
          return { name: check.name, problem: await check.check() };
        } catch (error) {
          return {
            name: check.name,
            problem: error instanceof Error ? error.message : String(error),
          };
        }
      }),
    );
    const failing = results.filter((result) => result.problem !== undefined);
    const checks = Object.fromEntries(results.map((r) => [r.name, r.problem ?? 'ok']));
    const node =
      options.readinessDetails === undefined
        ? {}
        : {
            node: await options
              .readinessDetails()
              .catch((error: unknown) => ({ error: String(error) })),
          };
    if (failing.length === 0) {
      response.json({ status: 'ready', checks, ...node });
    } else {
      sendProblem(
        response,
        'unavailable',
        failing.map((result) => `${result.name}: ${result.problem ?? ''}`).join('; '),
        { checks, ...node },
      );
    }
  });

  app.get('/metrics', async (_request, response) => {
    response
      .type(options.metrics.registry.contentType)
      .send(await options.metrics.registry.metrics());
  });

  const routers = options.routers ?? [];
  const notAllowed = methodNotAllowed([app.router, ...routers]);
  // express answers OPTIONS itself (200, text/plain, the methods) on a path a router serves.
  // Tidings serves no CORS and documents no OPTIONS, so it is a method like any other the path
  // does not take: 405 with Allow, before a router can answer it.
  app.use((request, response, next) => {
    if (request.method === 'OPTIONS') notAllowed(request, response, next);
    else next();
  });
  for (const router of routers) app.use(router);
  app.use(notAllowed);

  app.use((request, response) => {
    sendProblem(response, 'not_found', `no route for ${request.method} ${request.path}`);
  });
  app.use(problemHandler(options.logger));
  return app;
};

/** One structured line per answered request. */
const requestLog =
  (logger: Logger): express.RequestHandler =>
  (request, response, next) => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      logger.debug('request', {
        method: request.method,
        path: request.path,
        status: response.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    next();
  };

import express, { type Express, type Router } from 'express';
import type { Logger } from '../../domain/shared/logger.js';
import { methodNotAllowed } from './methodNotAllowed.js';
import { metricsMiddleware, type Metrics } from './metrics.js';
import { problemHandler, sendProblem } from './problem.js';
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
}

/**
 * Builds the express application: health, readiness and metrics endpoints, JSON parsing with the
 * body limit enforced from Content-Length before anything is read, the feature routers, a
 * problem+json 405 for a served path asked with another method, a problem+json 404 for unknown
 * routes and the problem+json error handler.
 */
export const createHttpApp = (options: HttpAppOptions): Express => {
  const app = express();
  app.disable('x-powered-by');
  const trustProxy = options.trustProxy ?? false;
  app.set('trust proxy', typeof trustProxy === 'object' ? [...trustProxy] : trustProxy);
  app.use(responseHeaders);
  app.use(metricsMiddleware(options.metrics));
  app.use(requestLog(options.logger));

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
    if (failing.length === 0) {
      response.json({ status: 'ready', checks });
    } else {
      sendProblem(
        response,
        'unavailable',
        failing.map((result) => `${result.name}: ${result.problem ?? ''}`).join('; '),
        { checks },
      );
    }
  });

  app.get('/metrics', async (_request, response) => {
    response
      .type(options.metrics.registry.contentType)
      .send(await options.metrics.registry.metrics());
  });

  const defaultLimit = options.bodyLimit ?? '64kb';
  const overrides = new Map(Object.entries(options.bodyLimitOverrides ?? {}));
  app.use(
    declaredSizeLimit(
      parseLimit(defaultLimit),
      new Map([...overrides].map(([path, limit]) => [routeKey(path), parseLimit(limit)])),
    ),
  );
  for (const [path, limit] of overrides) app.post(path, jsonParser(limit));
  app.use(jsonParser(defaultLimit));
  for (const router of options.routers ?? []) app.use(router);
  app.use(methodNotAllowed([app.router, ...(options.routers ?? [])]));

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

const jsonParser = (limit: string): express.RequestHandler =>
  express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] });

/** Parses `64kb`-style limits (the forms body-parser accepts that Tidings uses). */
const parseLimit = (limit: string): number => {
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(limit.trim());
  if (match === null) throw new Error(`invalid body limit ${limit}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
};

/**
 * Refuses any body whose declared length is over the limit, whatever its content type, before a
 * byte of it is read; the JSON parser enforces the same limit on bodies sent without a length.
 */
const declaredSizeLimit =
  (limit: number, overrides: ReadonlyMap<string, number>): express.RequestHandler =>
  (request, response, next) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    const applies = overrides.get(routeKey(request.path)) ?? limit;
    if (declared > applies) {
      response.setHeader('Connection', 'close');
      sendProblem(response, 'payload_too_large', `the body exceeds the limit of ${applies} bytes`);
      return;
    }
    next();
  };

/**
 * A path as express matches routes (case-insensitive, a trailing slash ignored), so a limit set
 * for a route applies to every spelling that reaches it.
 */
const routeKey = (path: string): string => path.toLowerCase().replace(/(.)\/+$/, '$1');

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { CommandError } from '../../domain/shared/commandHandler.js';
import { andThen, isPromise, type MaybePromise } from '../../application/shared/maybePromise.js';
import type { Actor } from '../../domain/shared/eventStore.js';
import type { Logger } from '../../domain/shared/logger.js';
import { recordOutcome, type IdempotencyStore } from './idempotency.js';
import {
  fieldProblems,
  problem,
  problemCatalogue,
  ProblemError,
  type FieldProblem,
} from './problem.js';
import type { RouteAuth, RouteSpec } from './routeSpec.js';
import { illFormedText } from './wellFormedText.js';

/** The name of the recipient session cookie. */
export const SESSION_COOKIE = 'tidings_session';

/** An authenticated app. */
export interface AppCaller {
  readonly kind: 'app';
  readonly appId: string;
  readonly name: string;
  readonly status: 'active' | 'suspended' | 'banned';
  readonly suspendedUntil?: string;
}

/** A logged-in person. */
export interface RecipientCaller {
  readonly kind: 'recipient';
  readonly recipientId: string;
  readonly username: string;
  /** Hash of the session id, so logout can end exactly this session. */
  readonly sessionHash: string;
}

export type Caller =
  | { readonly kind: 'none' }
  | { readonly kind: 'operator' }
  | { readonly kind: 'auditor' }
  | AppCaller
  | RecipientCaller;

type CallerFor<Auth extends RouteAuth> = Auth extends 'app'
  ? AppCaller
  : Auth extends 'recipient'
    ? RecipientCaller
    : Extract<Caller, { kind: Auth }>;

/** How each kind of credential is checked; the composition root supplies the lookups. */
export interface Authenticators {
  operator(token: string): boolean;
  auditor(token: string): boolean;
  app(secret: string): AppCaller | undefined;
  recipient(sessionId: string): RecipientCaller | undefined;
}

/** What a handler answers. */
export interface RouteReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Complete `Set-Cookie` values. */
  readonly cookies?: readonly string[];
  /**
   * False when the answer says "try again" in part (a batch with rate-limited or failed items):
   * it is not kept for an Idempotency-Key, so a retry with the key runs again.
   */
  readonly replayable?: boolean;
  /**
   * A body written as it is produced (an export), instead of `body`: each chunk is written when
   * the client has taken the one before, so a long answer needs no more memory than a chunk.
   */
  readonly stream?: {
    readonly contentType: string;
    readonly chunks: Iterable<string> | AsyncIterable<string>;
  };
}

/** What a handler receives: decoded input, the caller, and request facts. */
export interface RouteContext<Body, Query, Params, TCaller extends Caller> {
  readonly body: Body;
  readonly query: Query;
  readonly params: Params;
  readonly caller: TCaller;
  readonly headers: IncomingHttpHeaders;
  readonly ip: string;
  /** Unique per request; correlates every event the request causes. */
  readonly requestId: string;
  /** Time the request arrived (ISO 8601 UTC): the `now` of its commands. */
  readonly now: string;
  /** The actor to record on events, derived from the caller. */
  readonly actor: Actor;
  /** Whether the request came over TLS (directly or via a trusted proxy). */
  readonly secure: boolean;
  /**
   * The request's `Idempotency-Key`, on routes that honour one, and when it was first claimed
   * (see `IdempotencyStart`): derive ids from both, so every attempt names the same things.
   */
  readonly idempotency?: { readonly key: string; readonly since: string };
}

type Decoded<C, Fallback> = C extends t.Mixed ? t.TypeOf<C> : Fallback;

/** A route: its declaration (which also documents it) and its handler. */
export interface Route {
  readonly spec: RouteSpec;
  readonly handle: (
    context: RouteContext<unknown, unknown, unknown, Caller>,
  ) => Promise<RouteReply>;
}

/**
 * Declares a route. The handler's input types come from the spec's codecs, so what is validated
 * is exactly what the handler gets.
 */
export const defineRoute = <const Spec extends RouteSpec>(
  spec: Spec,
  handle: (
    context: RouteContext<
      Decoded<Spec['body'], undefined>,
      Decoded<Spec['query'], Record<string, never>>,
      Decoded<Spec['params'], Record<string, string>>,
      CallerFor<Spec['auth']>
    >,
  ) => Promise<RouteReply>,
): Route => ({ spec, handle: handle as Route['handle'] });

/** Turns a command's refusal into the problem the API answers with. */
export const commandProblem = (error: CommandError): ProblemError =>
  new ProblemError(error.code, error.message, error.details ?? {});

/** Unwraps a command result or throws its problem. */
export const orProblem = <A>(result: E.Either<CommandError, A>): A => {
  if (E.isLeft(result)) throw commandProblem(result.left);
  return result.right;
};

/** Where the routes that honour an `Idempotency-Key` keep its answers, and log failing to. */
export interface RouteIdempotency {
  readonly store: IdempotencyStore;
  readonly logger: Logger;
}

/**
 * Mounts routes on a new express router: authenticate, decode params, query and body (400
 * `validation_failed` listing every field problem), run the handler, send its reply. Errors go
 * to the problem+json handler.
 */
export const mountRoutes = (
  routes: readonly Route[],
  authenticators: Authenticators,
  idempotency?: RouteIdempotency,
): Router => {
  const router = Router();
  router.use(malformedParameterGuard(routes.map((route) => route.spec.path)));
  for (const route of routes) {
    router[route.spec.method](route.spec.path, (request, response, next) => {
      run(route, authenticators, idempotency, request, response).catch(next);
    });
  }
  return router;
};

/** One segment of a route path: literal text or a whole-segment `:name` parameter. */
type PathSegment = { readonly literal: string } | { readonly parameter: string };

const parameterSegment = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

const segmentsOf = (path: string): PathSegment[] =>
  path
    .split('/')
    .slice(1)
    .map((segment) => {
      const name = parameterSegment.exec(segment)?.[1];
      if (name !== undefined) return { parameter: name };
      if (segment.includes(':')) {
        throw new Error(`route ${path}: a parameter must be a whole path segment`);
      }
      return { literal: segment.toLowerCase() };
    });

const decodes = (segment: string): boolean => {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

/**
 * Refuses a request whose path parameter is not valid percent-encoding (a lone `%`, `%zz`, or
 * bytes that are not UTF-8 such as `%ff`, `%C0%AF` or the surrogate `%ED%A0%80`) with 400
 * `validation_failed` naming the parameter (`/params/appId`), before express's router tries to
 * decode it: the router throws a `URIError` there, which would reach the error handler as a bug.
 * Paths match as express matches them: literal segments case-insensitively, one trailing slash
 * ignored, a parameter taking one non-empty segment (the only form route specs use).
 */
const malformedParameterGuard = (paths: readonly string[]): RequestHandler => {
  const templates = paths.map(segmentsOf);
  return (request, _response, next) => {
    if (!request.path.includes('%')) {
      next();
      return;
    }
    const segments = request.path
      .replace(/(.)\/$/, '$1')
      .split('/')
      .slice(1);
    for (const template of templates) {
      if (template.length !== segments.length) continue;
      const problems: FieldProblem[] = [];
      const matches = template.every((part, index) => {
        const segment = segments[index] ?? '';
        if ('literal' in part) return segment.toLowerCase() === part.literal;
        if (segment === '') return false;
        if (!decodes(segment)) {
          problems.push({
            path: `/params/${part.parameter}`,
            message: 'is not valid percent-encoded UTF-8',
          });
        }
        return true;
      });
      if (matches && problems.length > 0) {
        next(new ProblemError('validation_failed', describe(problems), { errors: problems }));
        return;
      }
    }
    next();
  };
};

const run = async (
  route: Route,
  authenticators: Authenticators,
  idempotency: RouteIdempotency | undefined,
  request: Request,
  response: Response,
): Promise<void> => {
  const caller = authenticate(route.spec.auth, authenticators, request);
  const problems: FieldProblem[] = [];
  const decode = (codec: t.Mixed | undefined, value: unknown, where: string): unknown => {
    if (codec === undefined) return value;
    const result = codec.decode(value);
    if (E.isRight(result)) return result.right;
    problems.push(
      ...fieldProblems(result.left).map((p) => ({
        ...p,
        path: `${where}${p.path === '/' ? '' : p.path}`,
      })),
    );
    return undefined;
  };
  const params = decode(route.spec.params, { ...request.params }, '/params');
  const rawQuery = { ...(request.query as Record<string, unknown>) };
  // Text that is not well-formed Unicode would be stored altered (as U+FFFD): refused by name.
  if (route.spec.query !== undefined) problems.push(...illFormedText(rawQuery, '/query'));
  const query = decode(route.spec.query, rawQuery, '/query');
  let body: unknown = undefined;
  if (route.spec.body !== undefined) {
    const length = request.headers['content-length'];
    const sent =
      request.headers['transfer-encoding'] !== undefined ||
      (length !== undefined && length !== '0');
    if (!sent) {
      // No body at all reads as `{}`, so routes whose fields are all optional can be called bare.
      body = decode(route.spec.body, {}, '');
    } else if (!request.is('application/json') && !request.is('application/*+json')) {
      throw new ProblemError('unsupported_media_type', 'send the body as application/json');
    } else {
      problems.push(...illFormedText(request.body));
      body = decode(route.spec.body, request.body, '');
    }
  }
  if (problems.length > 0) {
    throw new ProblemError('validation_failed', describe(problems), { errors: problems });
  }
  const requestId = headerValue(request.headers['x-request-id']) ?? randomUUID();
  const now = new Date();
  // Awaited only when the store answers with a promise: most requests send no key, and an
  // in-process store's claim needs no turn of the event loop.
  const claiming = claimIdempotencyKey(route, caller, idempotency, request, body, now);
  const claim = isPromise(claiming) ? await claiming : claiming;
  if (claim?.replay !== undefined) {
    response.setHeader('Idempotent-Replayed', 'true');
    if (claim.replay.status >= 400) {
      response
        .status(claim.replay.status)
        .type('application/problem+json')
        .send(JSON.stringify(claim.replay.body));
    } else {
      response.status(claim.replay.status).json(claim.replay.body);
    }
    return;
  }
  let reply: RouteReply;
  try {
    reply = await route.handle({
      body,
      query: query ?? {},
      params: params ?? {},
      caller,
      headers: request.headers,
      ip: request.ip ?? 'unknown',
      requestId,
      now: now.toISOString(),
      actor: actorOf(caller),
      secure: request.secure,
      ...(claim === undefined ? {} : { idempotency: { key: claim.key, since: claim.since } }),
    });
  } catch (error) {
    // Settled before the error is answered, so that a retry after it finds the key released.
    const settled = claim?.settle(error);
    if (isPromise(settled)) await settled;
    throw error;
  }
  // Recorded before the answer leaves, so that a retry after it is replayed, not in flight.
  const recorded =
    reply.replayable === false ? claim?.release() : claim?.complete(reply.status, reply.body);
  if (isPromise(recorded)) await recorded;
  response.setHeader('X-Request-Id', requestId);
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
  if (reply.cookies !== undefined && reply.cookies.length > 0)
    response.setHeader('Set-Cookie', [...reply.cookies]);
  if (reply.stream !== undefined) await writeStream(response, reply.status, reply.stream);
  else if (reply.body === undefined) response.status(reply.status).end();
  else response.status(reply.status).json(reply.body);
};

/** Writes a streamed reply, waiting for the client whenever its buffer is full. */
const writeStream = async (
  response: Response,
  status: number,
  stream: NonNullable<RouteReply['stream']>,
): Promise<void> => {
  response.status(status).setHeader('Content-Type', stream.contentType);
  try {
    for await (const chunk of stream.chunks) {
      if (response.destroyed) return;
      if (!response.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            response.off('drain', done);
            response.off('close', done);
            resolve();
          };
          response.on('drain', done);
          response.on('close', done);
        });
      }
    }
  } catch (error) {
    // Before the first chunk the error is answered as any other; after it the status is sent, so
    // the connection is cut: the client sees a broken body, never a problem glued to half of it.
    if (!response.headersSent) throw error;
    response.destroy(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  response.end();
};

/** Codes that say "try again" rather than answer the request: never replayed. */
export const transientCodes: ReadonlySet<string> = new Set([
  'conflict',
  'rate_limited',
  'idempotency_in_flight',
]);

/**
 * A request's claim on its `Idempotency-Key`, and how its outcome is recorded. The recording
 * callbacks answer a promise only when the store does, and never fail: a failure to record is
 * logged ({@link recordOutcome}), and the request answers as it would have.
 */
interface IdempotencyClaim {
  readonly key: string;
  readonly since: string;
  readonly replay?: { readonly status: number; readonly body: unknown };
  /** Keeps the answer, to replay to every retry. */
  readonly complete: (status: number, body: unknown) => MaybePromise<void>;
  /** Keeps nothing: the answer said "try again" in part, so a retry runs. */
  readonly release: () => MaybePromise<void>;
  /** Keeps the problem the handler threw if it is an answer, else releases the key. */
  readonly settle: (error: unknown) => MaybePromise<void>;
}

/**
 * Handles an `Idempotency-Key` on a route that honours it (docs/api.md): the same key and body within
 * 24 h replay the first answer and run nothing; another body is 422; a request still running is
 * 409. Answers that say "try again" (5xx, conflicts, rate limits) are not kept. A promise only
 * when the store's claim is one.
 */
const claimIdempotencyKey = (
  route: Route,
  caller: Caller,
  idempotency: RouteIdempotency | undefined,
  request: Request,
  body: unknown,
  now: Date,
): MaybePromise<IdempotencyClaim | undefined> => {
  const header = request.headers['idempotency-key'];
  if (
    route.spec.idempotent !== true ||
    caller.kind !== 'app' ||
    idempotency === undefined ||
    header === undefined
  ) {
    return undefined;
  }
  const key = Array.isArray(header) ? header.join(',') : header;
  if (!isIdempotencyKey(key)) {
    throw new ProblemError(
      'validation_failed',
      'Idempotency-Key must be 1 to 128 visible ASCII characters',
      {
        errors: [
          {
            path: '/headers/idempotency-key',
            message: 'must be 1 to 128 visible ASCII characters',
          },
        ],
      },
    );
  }
  const { appId } = caller;
  const { store, logger } = idempotency;
  const record = (write: () => MaybePromise<void>): MaybePromise<void> =>
    recordOutcome(logger, { appId, key, path: request.path }, write);
  return andThen(store.begin(appId, key, { path: request.path, body }, now), (started) => {
    if (started.kind === 'reused') {
      throw new ProblemError(
        'idempotency_key_reused',
        'this Idempotency-Key was used with another request body',
      );
    }
    if (started.kind === 'in_flight') {
      throw new ProblemError(
        'idempotency_in_flight',
        'a request with this Idempotency-Key is still running; retry shortly',
        {},
        {
          'Retry-After': '1',
        },
      );
    }
    return {
      key,
      since: started.kind === 'new' ? started.since : now.toISOString(),
      ...(started.kind === 'replay'
        ? { replay: { status: started.status, body: started.body } }
        : {}),
      complete: (status, replyBody) =>
        record(() => store.complete(appId, key, status, replyBody ?? null)),
      release: () => record(() => store.abandon(appId, key)),
      settle: (error) =>
        record(() =>
          error instanceof ProblemError &&
          problemCatalogue[error.code].status < 500 &&
          !transientCodes.has(error.code)
            ? store.complete(
                appId,
                key,
                problemCatalogue[error.code].status,
                problem(error.code, error.message, error.extensions),
              )
            : store.abandon(appId, key),
        ),
    };
  });
};

/** Whether a sent `Idempotency-Key` is of the form docs/api.md allows: 1 to 128 visible ASCII characters. */
export const isIdempotencyKey = (key: string): boolean =>
  key.length > 0 && key.length <= 128 && /^[\x21-\x7e]+$/.test(key);

const describe = (problems: readonly FieldProblem[]): string =>
  problems
    .slice(0, 5)
    .map((problem) => `${problem.path === '' ? 'body' : problem.path} ${problem.message}`)
    .join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');

const authenticate = (
  auth: RouteAuth,
  authenticators: Authenticators,
  request: Request,
): Caller => {
  switch (auth) {
    case 'none':
      return { kind: 'none' };
    case 'operator':
    case 'auditor': {
      const token = bearer(request);
      if (token !== undefined && authenticators[auth](token)) return { kind: auth };
      throw unauthorized(`send the ${auth} token as Authorization: Bearer <token>`);
    }
    case 'app': {
      const secret = bearer(request);
      const app = secret === undefined ? undefined : authenticators.app(secret);
      if (app !== undefined) return app;
      throw unauthorized('send the app secret as Authorization: Bearer <secret>');
    }
    case 'recipient': {
      const session = cookie(request, SESSION_COOKIE);
      const recipient = session === undefined ? undefined : authenticators.recipient(session);
      if (recipient !== undefined) return recipient;
      throw unauthorized('log in first (POST /v1/auth/login)');
    }
    default: {
      const _exhaustive: never = auth;
      return _exhaustive;
    }
  }
};

const unauthorized = (detail: string): ProblemError =>
  new ProblemError('unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer' });

const actorOf = (caller: Caller): Actor => {
  switch (caller.kind) {
    case 'app':
      return { kind: 'app', id: caller.appId };
    case 'recipient':
      return { kind: 'recipient', id: caller.recipientId };
    case 'operator':
      return { kind: 'operator', id: 'operator' };
    case 'auditor':
    case 'none':
      return { kind: 'system', id: 'anonymous' };
    default: {
      const _exhaustive: never = caller;
      return _exhaustive;
    }
  }
};

const headerValue = (value: string | string[] | undefined): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && /^[\w.:-]{1,128}$/.test(first) ? first : undefined;
};

const bearer = (request: Request): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
};

/** Reads one cookie without a cookie library: the header is `name=value; name2=value2`. */
export const cookie = (request: Pick<Request, 'headers'>, name: string): string | undefined => {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
};

import type { ErrorRequestHandler, Response } from 'express';
import * as t from 'io-ts';
import type { Errors } from 'io-ts';
import type { Logger } from '../../domain/shared/logger.js';
import { isDatabaseUnreachable } from '../postgres/pgErrors.js';
import { isAppendTooLarge } from '../eventstoredb/appendTooLarge.js';

/**
 * The one catalogue of error codes the API answers with, each with its HTTP status and title
 * (docs/api.md, "Error codes"). Codes are stable: clients match on them.
 */
export const problemCatalogue = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  invalid_redirect_uri: { status: 400, title: 'The redirect URI is not registered for this app' },
  forbidden_destination: { status: 400, title: 'That destination may not be reached' },
  malformed_request: { status: 400, title: 'The HTTP request is malformed' },
  unauthorized: { status: 401, title: 'Missing or wrong credential' },
  app_suspended: { status: 403, title: 'The app is suspended' },
  app_banned: { status: 403, title: 'The app is banned' },
  forbidden: { status: 403, title: 'Not allowed' },
  read_only: { status: 403, title: 'This server shows the log as it was and takes no writes' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  conflict: { status: 409, title: 'A concurrent change got there first; retry' },
  already_exists: { status: 409, title: 'It exists already' },
  idempotency_in_flight: {
    status: 409,
    title: 'A request with this Idempotency-Key is in progress',
  },
  binding_revoked: { status: 410, title: 'The person unbound this app; stop sending' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with another body' },
  illegal_state: { status: 422, title: 'Not possible in the current state' },
  binding_blocked: { status: 422, title: 'The person blocked this app' },
  duplicate_complaint: { status: 422, title: 'A complaint about this message exists already' },
  rate_limited: { status: 429, title: 'Too many requests' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  internal_error: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Not ready' },
  overloaded: { status: 503, title: 'Delivery is behind; new messages wait' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalogue;

/** One field problem inside a validation failure. */
export interface FieldProblem {
  /** JSON pointer-like path, e.g. `/redirectUris/0`. */
  readonly path: string;
  readonly message: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ProblemCode;
  readonly errors?: readonly FieldProblem[];
  readonly [extension: string]: unknown;
}

/** An error the edge can throw from a handler and the error middleware turns into a problem. */
export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

/**
 * 429 `rate_limited`: `what` is over its limit (e.g. "too many messages from this app"); the
 * answer says when to come back, in its text, in `retryAfterSeconds` and in `Retry-After`.
 */
export const rateLimited = (what: string, retryAfterSeconds: number): ProblemError =>
  new ProblemError(
    'rate_limited',
    `${what}; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );

/** Builds the problem document for a code. */
export const problem = (
  code: ProblemCode,
  detail: string,
  extensions: Readonly<Record<string, unknown>> = {},
): Problem => {
  const entry = problemCatalogue[code];
  // Standard members first (easier to read), and extensions can never overwrite them.
  return {
    type: `https://tidings.dev/problems/${code.replaceAll('_', '-')}`,
    title: entry.title,
    status: entry.status,
    detail,
    code,
    ...Object.fromEntries(
      Object.entries(extensions).filter(
        ([name]) => !['type', 'title', 'status', 'detail', 'code'].includes(name),
      ),
    ),
  };
};

/** Sends a problem with the right status and content type. */
export const sendProblem = (
  response: Response,
  code: ProblemCode,
  detail: string,
  extensions: Readonly<Record<string, unknown>> = {},
): void => {
  const body = problem(code, detail, extensions);
  response.status(body.status).type('application/problem+json').send(JSON.stringify(body));
};

/**
 * Turns io-ts decode errors into field problems with paths (`/messages/3/title`). Keys that
 * io-ts adds for the members of unions and intersections are not fields, so they are left out.
 */
export const fieldProblems = (errors: Errors): FieldProblem[] => {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const keys = error.context.flatMap((entry, index) => {
      const parent = error.context[index - 1]?.type;
      const memberKey = parent instanceof t.UnionType || parent instanceof t.IntersectionType;
      return index === 0 || memberKey ? [] : [entry.key];
    });
    const path = `/${keys.join('/')}`;
    const expected = error.context.at(-1)?.type.name ?? 'valid';
    const message =
      error.message ?? (error.value === undefined ? 'is required' : `must be ${expected}`);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path, message });
  }
  return problems;
};

/**
 * The last middleware: every error becomes a problem+json answer. A `ProblemError` (the body
 * reader's too large, malformed JSON, wrong charset among them) answers its own code; anything
 * unexpected is logged and answered 500 without internals.
 */
export const problemHandler =
  (logger: Logger): ErrorRequestHandler =>
  (error: unknown, request, response, next) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ProblemError) {
      for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
      sendProblem(response, error.code, error.message, error.extensions);
      return;
    }
    if (isAppendTooLarge(error)) {
      // EventStoreDB takes at most this much per append: nothing was written.
      sendProblem(
        response,
        'payload_too_large',
        `the events of this request are ${error.size} bytes; the event store takes at most ${error.limit} per write`,
      );
      return;
    }
    if (isDatabaseUnreachable(error)) {
      // The shared database is down or cut off: nothing was accepted; the caller retries.
      logger.warn('database unreachable; answering 503', {
        method: request.method,
        path: request.path,
      });
      response.setHeader('Retry-After', '1');
      sendProblem(response, 'unavailable', 'the database cannot be reached; retry shortly');
      return;
    }
    if (error instanceof URIError) {
      // express's router could not decode a path parameter: the client's mistake. (Routes that
      // mountRoutes mounts are refused before this, naming the parameter.)
      sendProblem(response, 'validation_failed', 'the path is not valid percent-encoded UTF-8');
      return;
    }
    logger.error('unhandled error', { error, method: request.method, path: request.path });
    sendProblem(response, 'internal_error', 'something went wrong; it has been logged');
  };

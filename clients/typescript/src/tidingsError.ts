import type { components } from './schema.js';

/** A problem code of the API's catalogue (docs/api.md "Error codes"). */
export type ProblemCode = components['schemas']['Problem']['code'];

/** One field problem of a `validation_failed` answer: the JSON pointer and what is wrong. */
export type FieldProblem = components['schemas']['FieldProblem'];

/**
 * The code of an answer that was no problem+json at all (a proxy's HTML error page, say), so
 * `code` is always a string to match on.
 */
export const UNEXPECTED_RESPONSE = 'unexpected_response';

/** What a {@link TidingsError} is made of. */
export interface TidingsErrorFields {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors?: readonly FieldProblem[];
  readonly retryAfter?: number;
  readonly problem?: Readonly<Record<string, unknown>>;
}

/**
 * A refusal from Tidings: the `application/problem+json` answer of a failed request (RFC 9457).
 * Match on `code`, never on `detail` or `message`: codes are stable, texts are not.
 *
 * @example
 * try { await tidings.push({ openid, body }) }
 * catch (e) { if (e instanceof TidingsError && e.code === 'binding_revoked') forget(openid) }
 */
export class TidingsError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /**
   * The problem's `code` (a {@link ProblemCode}, or one a newer server added), or
   * {@link UNEXPECTED_RESPONSE} when the answer was not a problem.
   */
  readonly code: ProblemCode | (string & {});
  /** The problem's human-readable `detail`. */
  readonly detail: string;
  /** One entry per field problem when validation failed. */
  readonly errors?: readonly FieldProblem[];
  /** Seconds the server asked to wait (`Retry-After`) before trying again, when it said. */
  readonly retryAfter?: number;
  /** The whole problem body, extension members included (`state` of an `illegal_state`). */
  readonly problem?: Readonly<Record<string, unknown>>;

  constructor(fields: TidingsErrorFields) {
    super(`${fields.status} ${fields.code}: ${fields.detail}`);
    this.name = 'TidingsError';
    this.status = fields.status;
    this.code = fields.code;
    this.detail = fields.detail;
    if (fields.errors !== undefined) this.errors = fields.errors;
    if (fields.retryAfter !== undefined) this.retryAfter = fields.retryAfter;
    if (fields.problem !== undefined) this.problem = fields.problem;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isFieldProblem = (value: unknown): value is FieldProblem =>
  isRecord(value) && typeof value['path'] === 'string' && typeof value['message'] === 'string';

/**
 * The error of a failed answer, from its status, its parsed body (openapi-fetch parses JSON and
 * leaves anything else as text) and the seconds of its `Retry-After`.
 */
export const tidingsErrorOf = (
  status: number,
  body: unknown,
  retryAfter: number | undefined,
): TidingsError => {
  const retry = retryAfter === undefined ? {} : { retryAfter };
  if (!isRecord(body) || typeof body['code'] !== 'string') {
    const text = typeof body === 'string' ? body.slice(0, 200) : '';
    return new TidingsError({
      status,
      code: UNEXPECTED_RESPONSE,
      detail: text === '' ? `HTTP ${status} without a problem body` : text,
      ...retry,
    });
  }
  const errors = Array.isArray(body['errors']) ? body['errors'].filter(isFieldProblem) : undefined;
  return new TidingsError({
    status,
    code: body['code'],
    detail: typeof body['detail'] === 'string' ? body['detail'] : '',
    ...(errors === undefined ? {} : { errors }),
    ...retry,
    problem: body,
  });
};

import * as E from 'fp-ts/lib/Either.js';
import type { Invocation } from '../../../application/shared/invocation.js';
import type { Refusal } from '../../../application/shared/refusal.js';
import { ProblemError, rateLimited } from '../problem.js';
import { commandProblem, type Caller, type RouteContext } from '../routing.js';
import { commandContext } from './deps.js';

/** The problem a use case's refusal answers with (docs/api.md, "Error codes"). */
export const refusalProblem = (refusal: Refusal): ProblemError => {
  switch (refusal.code) {
    case 'rate_limited':
      return rateLimited(refusal.message, refusal.retryAfterSeconds);
    case 'invalid_redirect_uri':
    case 'forbidden_destination':
      return new ProblemError(refusal.code, refusal.message, refusal.details);
    case 'unauthorized':
      return new ProblemError(refusal.code, refusal.message);
    default:
      return commandProblem(refusal);
  }
};

/** Unwraps a use case's answer or throws the problem of its refusal. */
export const orRefusal = <A>(result: E.Either<Refusal, A>): A => {
  if (E.isLeft(result)) throw refusalProblem(result.left);
  return result.right;
};

/** A request as a use case sees it: its time, and its caller and id on every command. */
export const invocationOf = (
  request: Pick<RouteContext<unknown, unknown, unknown, Caller>, 'actor' | 'requestId' | 'now'>,
): Invocation => ({
  now: request.now,
  commandContext: (commandId, actor) =>
    commandContext(actor === undefined ? request : { ...request, actor }, commandId),
});

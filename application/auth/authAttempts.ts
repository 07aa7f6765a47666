import * as E from 'fp-ts/lib/Either.js';
import { andThen, type MaybePromise } from '../shared/maybePromise.js';
import type { FailureBudget, RateDecision } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';
import { canonicalName } from './username.js';

/** Failed logins and registrations, per client address and per username. */
export interface AuthFailureBudgets {
  readonly byIp: FailureBudget;
  readonly byUsername: FailureBudget;
}

/**
 * The failure budgets of logging in and registering, as the use cases take them. Each answer is
 * a promise only when a budget's is (budgets in the database the nodes share): with in-process
 * budgets an attempt is counted, and given back, within the call, as parallel requests see it.
 */
export interface AuthAttempts {
  /**
   * Takes an attempt from the address's and the username's failure budgets before the (slow)
   * password work, and refuses while either is spent: counted up front, parallel guesses cannot
   * all pass a look at a budget that only a finished failure would lower. A successful attempt
   * gives its tokens back ({@link AuthAttempts.succeeded}).
   */
  take(ip: string, username: string): MaybePromise<E.Either<Refusal, void>>;
  /** The attempt was not a failure: its address token comes back, the username starts afresh. */
  succeeded(ip: string, username: string): MaybePromise<void>;
}

const refusedBy = (decision: RateDecision): E.Either<Refusal, void> =>
  decision.allowed
    ? E.right(undefined)
    : E.left(rateLimited('too many failed attempts', decision.retryAfterSeconds));

/** The attempt budgets over the address's and the username's failure budgets. */
export const authAttempts = (budgets: AuthFailureBudgets): AuthAttempts => ({
  take: (ip, username) =>
    andThen(budgets.byIp.take(ip), (byIp) =>
      !byIp.allowed
        ? refusedBy(byIp)
        : andThen(budgets.byUsername.take(canonicalName(username)), (byName) =>
            byName.allowed
              ? refusedBy(byName)
              : // Refused by the name alone: the address's token does not count against it.
                andThen(budgets.byIp.give(ip), () => refusedBy(byName)),
          ),
    ),
  succeeded: (ip, username) =>
    andThen(budgets.byIp.give(ip), () => budgets.byUsername.reset(canonicalName(username))),
});

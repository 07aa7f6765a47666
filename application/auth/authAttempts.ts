import * as E from 'fp-ts/lib/Either.js';
import type { FailureBudget } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';
import { canonicalName } from './username.js';

/** Failed logins and registrations, per client address and per username. */
export interface AuthFailureBudgets {
  readonly byIp: FailureBudget;
  readonly byUsername: FailureBudget;
}

/** The failure budgets of logging in and registering, as the use cases take them. */
export interface AuthAttempts {
  /**
   * Takes an attempt from the address's and the username's failure budgets before the (slow)
   * password work, and refuses while either is spent: counted up front, parallel guesses cannot
   * all pass a look at a budget that only a finished failure would lower. A successful attempt
   * gives its tokens back ({@link AuthAttempts.succeeded}).
   */
  take(ip: string, username: string): E.Either<Refusal, void>;
  /** The attempt was not a failure: its address token comes back, the username starts afresh. */
  succeeded(ip: string, username: string): void;
}

/** The attempt budgets over the address's and the username's failure budgets. */
export const authAttempts = (budgets: AuthFailureBudgets): AuthAttempts => ({
  take: (ip, username) => {
    const byIp = budgets.byIp.take(ip);
    const byName = byIp.allowed ? budgets.byUsername.take(canonicalName(username)) : byIp;
    // Refused by the name alone: the address's token does not count against it.
    if (byIp.allowed && !byName.allowed) budgets.byIp.give(ip);
    const refused = byIp.allowed ? byName : byIp;
    return refused.allowed
      ? E.right(undefined)
      : E.left(rateLimited('too many failed attempts', refused.retryAfterSeconds));
  },
  succeeded: (ip, username) => {
    budgets.byIp.give(ip);
    budgets.byUsername.reset(canonicalName(username));
  },
});

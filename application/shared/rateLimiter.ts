/** The answer of a rate limiter: go ahead, or wait this long. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A rate limit by key (an app, a person); the HTTP adapter's token buckets are one. */
export interface RateLimiter {
  /** Takes one token from `key`'s allowance if it has one. */
  take(key: string): RateDecision;
}

/**
 * A budget of failures by key (a client address, a username): a rate limit whose token an
 * attempt that turned out not to fail gives back. The HTTP adapter's token buckets are one.
 */
export interface FailureBudget extends RateLimiter {
  /** Gives back a token taken for an attempt that did not count. */
  give(key: string): void;
  /** Forgets `key`'s failures: its allowance is full again. */
  reset(key: string): void;
}

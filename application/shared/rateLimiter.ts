import type { MaybePromise } from './maybePromise.js';

/** The answer of a rate limiter: go ahead, or wait this long. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * A rate limit by key (an app, a person); the HTTP adapter's token buckets are one. It answers at
 * once when its buckets are in this process, with a promise when they are in the database the
 * nodes share.
 */
export interface RateLimiter {
  /** Takes one token from `key`'s allowance if it has one. */
  take(key: string): MaybePromise<RateDecision>;
}

/**
 * A budget of failures by key (a client address, a username): a rate limit whose token an
 * attempt that turned out not to fail gives back. The HTTP adapter's token buckets are one.
 */
export interface FailureBudget extends RateLimiter {
  /** Gives back a token taken for an attempt that did not count. */
  give(key: string): MaybePromise<void>;
  /** Forgets `key`'s failures: its allowance is full again. */
  reset(key: string): MaybePromise<void>;
}

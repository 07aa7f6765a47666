/** The answer of a rate limiter: go ahead, or wait this long. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A rate limit by key (an app, a person); the HTTP adapter's token buckets are one. */
export interface RateLimiter {
  /** Takes one token from `key`'s allowance if it has one. */
  take(key: string): RateDecision;
}

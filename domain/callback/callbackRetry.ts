import { nextRetry, type RetryPolicy } from '../delivery/retryPolicy.js';

/**
 * How failed callbacks are retried (docs/api.md, "App callbacks"): backoff with jitter, for a
 * window that starts when the event is queued (or the app retries it by hand). All in ms.
 */
export interface CallbackRetryPolicy {
  readonly baseDelayMs: number;
  readonly factor: number;
  /** No wait is longer than this, a receiver's Retry-After included. */
  readonly maxDelayMs: number;
  /** Spread around the nominal wait, 0..1 (see {@link RetryPolicy}). */
  readonly jitter: number;
  /** No attempt is made later than this after the window's start: the delivery is given up. */
  readonly windowMs: number;
}

/**
 * 10 s after the first failure, doubling to at most an hour, each ±20%, for 24 h: about 30
 * attempts, most of them an hour apart, so a receiver that was down for a night still gets
 * everything in the morning.
 */
export const defaultCallbackRetryPolicy: CallbackRetryPolicy = {
  baseDelayMs: 10_000,
  factor: 2,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
  windowMs: 86_400_000,
};

/**
 * When to try again after failed attempt `attempt` (1-based), or `undefined` to give up: the
 * retry would fall outside the window. A Retry-After is a floor, capped at `maxDelayMs` (a
 * receiver cannot park its deliveries for longer). Pure: times in epoch ms, `random` in.
 */
export const nextCallbackAttempt = (
  policy: CallbackRetryPolicy,
  attempt: number,
  windowStart: number,
  now: number,
  random: () => number,
  retryAfterMs?: number,
): number | undefined => {
  const delivery: RetryPolicy = { ...policy, maxAttempts: Number.MAX_SAFE_INTEGER };
  // The doubling stops mattering long before the cap: keep the exponent small and finite.
  const decision = nextRetry(
    delivery,
    Math.min(attempt, 40),
    now,
    random,
    retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, policy.maxDelayMs),
  );
  if (!('retryAt' in decision)) return undefined;
  return decision.retryAt > windowStart + policy.windowMs ? undefined : decision.retryAt;
};

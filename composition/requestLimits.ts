import type { Settings } from '../adapters/config/settings.js';
import { TokenBuckets } from '../adapters/http/rateLimiter.js';
import type { FailureBudget, RateLimiter } from '../application/shared/rateLimiter.js';
import type { PgPool } from '../adapters/postgres/pool.js';
import { PgTokenBuckets } from '../adapters/postgres/pgRateLimits.js';

/** A failed login's token comes back after a minute. */
const AUTH_FAILURE_REFILL_PER_SECOND = 1 / 60;
/** Test pushes a person may send at once, and a test push's token comes back after a minute. */
const TEST_PUSH_BURST = 5;
const TEST_PUSH_REFILL_PER_SECOND = 1 / 60;
/** A registration's token comes back after three minutes. */
const REGISTRATION_REFILL_PER_SECOND = 1 / 180;

/**
 * The rate limits of the API, in the form the API routes take them: the ports, so that limits
 * the nodes share can stand in for this process's token buckets.
 */
export interface RequestLimits {
  readonly authFailures: { readonly byIp: FailureBudget; readonly byUsername: FailureBudget };
  readonly registrations: RateLimiter;
  readonly appRateLimit: RateLimiter;
  /** Test pushes per person (both test-push routes). */
  readonly testPushLimit: RateLimiter;
}

/** Bursts that tests set lower or higher than the settings, to reach a limit quickly or never. */
export interface LimitOverrides {
  readonly authFailureBurst?: { readonly perIp: number; readonly perUsername: number };
  readonly registrationBurst?: number;
  readonly testPushBurst?: number;
}

/**
 * The API's rate limits from the settings (and a test's overrides): this process's token
 * buckets, or, with several nodes, buckets in the shared database, so that a limit holds for the
 * deployment and not per node.
 */
export const requestLimitsOf = (
  settings: Settings,
  overrides: LimitOverrides,
  shared?: PgPool,
): RequestLimits => {
  const buckets = (
    limiter: string,
    options: { readonly burst: number; readonly refillPerSecond: number },
  ): FailureBudget =>
    shared === undefined ? new TokenBuckets(options) : new PgTokenBuckets(shared, limiter, options);
  return {
    authFailures: {
      byIp: buckets('login-ip', {
        burst: overrides.authFailureBurst?.perIp ?? settings.authFailureBurstPerIp,
        refillPerSecond: AUTH_FAILURE_REFILL_PER_SECOND,
      }),
      byUsername: buckets('login-username', {
        burst: overrides.authFailureBurst?.perUsername ?? settings.authFailureBurstPerUsername,
        refillPerSecond: AUTH_FAILURE_REFILL_PER_SECOND,
      }),
    },
    registrations: buckets('registrations', {
      burst: overrides.registrationBurst ?? settings.registrationBurst,
      refillPerSecond: REGISTRATION_REFILL_PER_SECOND,
    }),
    appRateLimit: buckets('app-messages', {
      burst: settings.appRateBurst,
      refillPerSecond: settings.appRatePerSecond,
    }),
    testPushLimit: buckets('test-pushes', {
      burst: overrides.testPushBurst ?? TEST_PUSH_BURST,
      refillPerSecond: TEST_PUSH_REFILL_PER_SECOND,
    }),
  };
};

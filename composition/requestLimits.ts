import type { Settings } from '../adapters/config/settings.js';
import { TokenBuckets } from '../adapters/http/rateLimiter.js';

/** A failed login's token comes back after a minute. */
const AUTH_FAILURE_REFILL_PER_SECOND = 1 / 60;
/** Test pushes a person may send at once, and a test push's token comes back after a minute. */
const TEST_PUSH_BURST = 5;
const TEST_PUSH_REFILL_PER_SECOND = 1 / 60;
/** A registration's token comes back after three minutes. */
const REGISTRATION_REFILL_PER_SECOND = 1 / 180;

/** The rate limits of the API, in the form the API routes take them. */
export interface RequestLimits {
  readonly authFailures: { readonly byIp: TokenBuckets; readonly byUsername: TokenBuckets };
  readonly registrations: TokenBuckets;
  readonly appRateLimit: TokenBuckets;
  /** Test pushes per person (both test-push routes). */
  readonly testPushLimit: TokenBuckets;
}

/** Bursts that tests set lower or higher than the settings, to reach a limit quickly or never. */
export interface LimitOverrides {
  readonly authFailureBurst?: { readonly perIp: number; readonly perUsername: number };
  readonly registrationBurst?: number;
  readonly testPushBurst?: number;
}

/** The API's rate limits from the settings (and a test's overrides). */
export const requestLimitsOf = (settings: Settings, overrides: LimitOverrides): RequestLimits => ({
  authFailures: {
    byIp: new TokenBuckets({
      burst: overrides.authFailureBurst?.perIp ?? settings.authFailureBurstPerIp,
      refillPerSecond: AUTH_FAILURE_REFILL_PER_SECOND,
    }),
    byUsername: new TokenBuckets({
      burst: overrides.authFailureBurst?.perUsername ?? settings.authFailureBurstPerUsername,
      refillPerSecond: AUTH_FAILURE_REFILL_PER_SECOND,
    }),
  },
  registrations: new TokenBuckets({
    burst: overrides.registrationBurst ?? settings.registrationBurst,
    refillPerSecond: REGISTRATION_REFILL_PER_SECOND,
  }),
  appRateLimit: new TokenBuckets({
    burst: settings.appRateBurst,
    refillPerSecond: settings.appRatePerSecond,
  }),
  testPushLimit: new TokenBuckets({
    burst: overrides.testPushBurst ?? TEST_PUSH_BURST,
    refillPerSecond: TEST_PUSH_REFILL_PER_SECOND,
  }),
});

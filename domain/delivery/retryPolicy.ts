/**
 * When to try a failed delivery again. Pure: the clock (`now`) and the randomness (`random`) come
 * in, so the same inputs always give the same answer and tests need no real time.
 */

/** How a channel's transient failures are retried. All durations in milliseconds. */
export interface RetryPolicy {
  /** Attempts in total, the first one included; after the last failure the delivery is abandoned. */
  readonly maxAttempts: number;
  /** Nominal wait after the first failed attempt. */
  readonly baseDelayMs: number;
  /** Each further failure multiplies the nominal wait by this. */
  readonly factor: number;
  /** No wait is ever longer than this, jitter and Retry-After included (see {@link nextRetry}). */
  readonly maxDelayMs: number;
  /**
   * Spread around the nominal wait, 0..1: 0.2 picks uniformly within ±20%, so deliveries that
   * failed together (a bark-server restart) do not all come back in the same second.
   */
  readonly jitter: number;
}

/**
 * Six attempts within about ten minutes: after a failure, wait 15 s, 30 s, 60 s, 120 s, 240 s
 * (before attempts 2, 3, 4, 5 and 6), each ±20%. Nominally 7 min 45 s from the first failure to
 * the last attempt; at most 9 min 18 s with all jitter upwards. Apple keeps an undelivered push
 * for 24 h, but a reminder that arrives much later than ten minutes is noise; the message is in
 * the inbox either way. `maxDelayMs` (5 min) leaves room for +20% on the last wait and bounds how
 * long a Retry-After may hold a delivery back.
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 15_000,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
};

/** Why a delivery is not tried again. */
export type AbandonReason =
  /** The attempt that just failed was the policy's last. */
  | 'attempts_exhausted'
  /** The peer asked for a wait (Retry-After) longer than the policy's `maxDelayMs`. */
  | 'retry_after_too_long';

/** What to do after a failed attempt: try again at `retryAt` (epoch ms), or give up. */
export type RetryDecision =
  { readonly retryAt: number } | { readonly abandon: true; readonly reason: AbandonReason };

const assertPolicy = (policy: RetryPolicy): void => {
  const { maxAttempts, baseDelayMs, factor, maxDelayMs, jitter } = policy;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`retry policy maxAttempts must be a positive integer, not ${maxAttempts}`);
  }
  if (
    !(baseDelayMs >= 0) ||
    !(factor >= 1) ||
    !(maxDelayMs >= 0) ||
    !(jitter >= 0 && jitter <= 1)
  ) {
    throw new RangeError(
      'retry policy needs baseDelayMs >= 0, factor >= 1, maxDelayMs >= 0 and jitter in 0..1',
    );
  }
};

/**
 * Decides what follows the failure of attempt `attempt` (1-based: the first try is 1).
 *
 * - When `attempt` was the policy's last, abandon (`attempts_exhausted`).
 * - Otherwise wait `baseDelayMs × factor^(attempt-1)`, spread by ±`jitter` (`random()` 0 gives
 *   the low end, values towards 1 the high end), and never more than `maxDelayMs`.
 * - A Retry-After (`retryAfterMs`, see {@link parseRetryAfter}) is a floor: the retry is never
 *   earlier than the peer asked, since an earlier one would only be refused again. It is not
 *   allowed to push the wait past `maxDelayMs`, which would let a peer park a delivery for as
 *   long as it likes; when the two cannot both hold, the delivery is abandoned
 *   (`retry_after_too_long`) and the message stays in the inbox.
 *
 * Throws a `RangeError` on a nonsensical policy or attempt number: those are bugs.
 */
export const nextRetry = (
  policy: RetryPolicy,
  attempt: number,
  now: number,
  random: () => number,
  retryAfterMs?: number,
): RetryDecision => {
  assertPolicy(policy);
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, not ${attempt}`);
  }
  if (attempt >= policy.maxAttempts) return { abandon: true, reason: 'attempts_exhausted' };
  const floor = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : 0;
  if (floor > policy.maxDelayMs) return { abandon: true, reason: 'retry_after_too_long' };

  const nominal = policy.baseDelayMs * policy.factor ** (attempt - 1);
  const spread = Math.min(1, Math.max(0, random())) * 2 - 1;
  const jittered = Math.min(policy.maxDelayMs, nominal * (1 + policy.jitter * spread));
  return { retryAt: now + Math.ceil(Math.max(jittered, floor)) };
};

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthPattern = months.join('|');
const time = '(\\d{2}):(\\d{2}):(\\d{2})';

/** IMF-fixdate, the one form senders must use: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const imfFixdate = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${monthPattern}) (\\d{4}) ${time} GMT$`,
);
/** Obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const rfc850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${monthPattern})-(\\d{2}) ${time} GMT$`,
);
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994`. */
const asctime = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${monthPattern}) ([ \\d]\\d) ${time} (\\d{4})$`,
);

const utc = (
  year: number,
  month: string,
  day: string,
  hours: string,
  minutes: string,
  seconds: string,
): number | undefined => {
  const [d, h, m, s] = [day, hours, minutes, seconds].map((part) => Number(part.trim())) as [
    number,
    number,
    number,
    number,
  ];
  const millis = Date.UTC(year, months.indexOf(month), d, h, m, s);
  // Date.UTC rolls 31 Feb over into March and 25:00 into the next day; such a date is garbage.
  const check = new Date(millis);
  const exists =
    check.getUTCDate() === d &&
    check.getUTCHours() === h &&
    check.getUTCMinutes() === m &&
    check.getUTCSeconds() === s;
  return exists ? millis : undefined;
};

/** RFC 9110: a two-digit year more than 50 years in the future means the most recent past one. */
const fullYear = (twoDigits: number, now: number): number => {
  const current = new Date(now).getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
};

const parseHttpDate = (text: string, now: number): number | undefined => {
  const fix = imfFixdate.exec(text);
  if (fix !== null) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = fix;
    return utc(Number(year), month, day, h, m, s);
  }
  const old = rfc850.exec(text);
  if (old !== null) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = old;
    return utc(fullYear(Number(year), now), month, day, h, m, s);
  }
  const asc = asctime.exec(text);
  if (asc !== null) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = asc;
    return utc(Number(year), month, day, h, m, s);
  }
  return undefined;
};

/**
 * The wait a `Retry-After` header asks for, in milliseconds from `now` (epoch ms), or
 * `undefined` when there is no usable header. RFC 9110 §10.2.3 allows delay-seconds (`120`) or
 * an HTTP-date in any of the three forms recipients must accept (IMF-fixdate, RFC 850,
 * asctime). A date in the past means "now" (0). Anything else — negative or fractional
 * numbers, other date formats, empty text — is ignored rather than guessed at.
 *
 * `header` is whatever the HTTP client's header map holds: a string, a number, or a list (the
 * first entry counts); other values give `undefined`.
 */
export const parseRetryAfter = (header: unknown, now: number): number | undefined => {
  const value: unknown = Array.isArray(header) ? (header as unknown[])[0] : header;
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0
      ? Math.min(value * 1000, Number.MAX_SAFE_INTEGER)
      : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, Number.MAX_SAFE_INTEGER);
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : Math.max(0, at - now);
};

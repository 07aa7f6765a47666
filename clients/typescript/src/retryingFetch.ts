/** The header that makes a POST of an app safe to repeat (docs/api.md "Conventions"). */
export const IDEMPOTENCY_KEY = 'Idempotency-Key';

/** The `fetch` the client is built on: openapi-fetch always hands it a `Request`. */
export type Fetch = (input: Request) => Promise<Response>;

/** What {@link retryingFetch} needs; every part is injected so a test can drive it. */
export interface RetryPolicy {
  /** Sends one attempt. */
  readonly fetch: Fetch;
  /** Attempts after the first. */
  readonly maxRetries: number;
  /** Waits between attempts. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A fresh Idempotency-Key for a POST that has none. */
  readonly idempotencyKey: () => string;
  /** The time in ms, to read a `Retry-After` given as an HTTP date. */
  readonly now: () => number;
  /** The first backoff when the server names no wait; it doubles with each retry. */
  readonly baseDelayMs: number;
  /** The longest wait the client sleeps through; a longer `Retry-After` is answered as is. */
  readonly maxDelayMs: number;
}

/**
 * Answers that mean "not done, try later": the rate limit and a server that is not ready. Both
 * leave nothing written, so any method may be sent again.
 */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * The wait a `Retry-After` header asks for, in ms: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3); undefined when absent or unreadable. A date in the past is no wait.
 */
export const retryAfterMs = (value: string | null, now: number): number | undefined => {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** The same wait in whole seconds (rounded up), as `TidingsError.retryAfter` gives it. */
export const retryAfterSeconds = (value: string | null, now: number): number | undefined => {
  const ms = retryAfterMs(value, now);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
};

/**
 * A POST gets one Idempotency-Key before its first attempt, so every retry carries the same key
 * and the server answers a retry of a request it already took with its first answer.
 */
const withIdempotencyKey = (request: Request, newKey: () => string): Request => {
  if (request.method !== 'POST' || request.headers.has(IDEMPOTENCY_KEY)) return request;
  const headers = new Headers(request.headers);
  headers.set(IDEMPOTENCY_KEY, newKey());
  return new Request(request, { headers });
};

const abortIfAsked = (signal: AbortSignal): void => {
  if (signal.aborted) throw signal.reason;
};

/**
 * A `fetch` that sends a request again on 429 and 503, after the `Retry-After` the server gave or
 * else an exponential backoff, up to `maxRetries` times. A request that failed on the network
 * (no answer at all) is sent again only when repeating it is safe: a GET or HEAD, or one carrying
 * an Idempotency-Key. The last answer, whatever it is, is returned; a `Retry-After` longer than
 * `maxDelayMs` is returned at once rather than slept through.
 */
export const retryingFetch =
  (policy: RetryPolicy): Fetch =>
  async (input) => {
    const request = withIdempotencyKey(input, policy.idempotencyKey);
    const repeatable =
      request.method === 'GET' || request.method === 'HEAD' || request.headers.has(IDEMPOTENCY_KEY);
    const backoff = (attempt: number): number =>
      Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
    for (let attempt = 0; ; attempt += 1) {
      const last = attempt >= policy.maxRetries;
      let response: Response;
      try {
        // Each attempt but the last sends a copy: a body can be read only once.
        response = await policy.fetch(last ? request : request.clone());
      } catch (error) {
        if (last || !repeatable || request.signal.aborted) throw error;
        await policy.sleep(backoff(attempt));
        abortIfAsked(request.signal);
        continue;
      }
      if (last || !RETRIED_STATUSES.has(response.status)) return response;
      const wait =
        retryAfterMs(response.headers.get('retry-after'), policy.now()) ?? backoff(attempt);
      if (wait > policy.maxDelayMs) return response;
      // The dropped answer's body is never read: cancel it so its connection is freed.
      await response.body?.cancel();
      await policy.sleep(wait);
      abortIfAsked(request.signal);
    }
  };

import { parseRetryAfter } from '../../domain/delivery/retryPolicy.js';
import type { SendOutcome } from '../channel.js';
import type { HttpAnswer, HttpResult } from '../httpClient.js';

const SNIPPET_CHARS = 200;

/** A short, single-line excerpt of a body or header for a reason string. */
const snippet = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length <= SNIPPET_CHARS ? line : `${chars.slice(0, SNIPPET_CHARS).join('')}…`;
};

/**
 * Statuses that say the endpoint is set up wrong rather than that this event was bad: 401 and
 * 403 (it checks something other than our signature, or the wrong secret), 404 (no such hook)
 * and 405 (it does not take POST). The person must fix the endpoint or the device.
 */
const MISCONFIGURED: readonly number[] = [401, 403, 404, 405];

/** Statuses that say "not now" rather than "no": timeouts, too early, too many. */
const TRANSIENT_4XX: readonly number[] = [408, 425, 429];

/**
 * Maps the endpoint's answer to an outcome, as docs/webhook.md "Your answer" tabulates:
 *
 * - 2xx → delivered.
 * - 3xx → rejected (`misconfigured`): redirects are never followed (Standard Webhooks says so, and
 *   the outbound guard would have to check the new address), and the URL redirects every time.
 * - 410 Gone → rejected (`device_unknown`): the endpoint says it is gone for good, so the device
 *   is marked broken and nothing more is sent to it until the person saves it again.
 * - 401, 403, 404, 405 → rejected (`misconfigured`).
 * - 408, 425, 429 → failed, after the `Retry-After` the endpoint gave.
 * - every other 4xx (400, 413, 415, 422…) → rejected (`bad_request`): the endpoint refused this
 *   event, and the same bytes would be refused again. Standard Webhooks retries every non-2xx; a
 *   person's automation answering 400 to one event should not see it six more times.
 * - 5xx → failed, after the `Retry-After` the endpoint gave.
 */
const outcomeOfAnswer = (answer: HttpAnswer, now: number): SendOutcome => {
  const { status } = answer;
  const said = snippet(answer.body);
  const answered = `the endpoint answered ${status}${said === '' ? '' : `: ${said}`}`;
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status >= 300 && status < 400) {
    const location = answer.headers['location'];
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: `the endpoint answered ${status}, a redirect to ${location === undefined ? 'nowhere' : snippet(location)}; redirects are not followed, so the URL must be the final one`,
    };
  }
  if (status === 410) return { kind: 'rejected', code: 'device_unknown', reason: answered };
  if (MISCONFIGURED.includes(status)) {
    return { kind: 'rejected', code: 'misconfigured', reason: answered };
  }
  if (status >= 400 && status < 500 && !TRANSIENT_4XX.includes(status)) {
    return { kind: 'rejected', code: 'bad_request', reason: answered };
  }
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
  return retryAfterMs === undefined
    ? { kind: 'failed', reason: answered }
    : { kind: 'failed', reason: answered, retryAfterMs };
};

/**
 * Maps what became of one request to an outcome: an answer as above; a refusal of the outbound
 * guard → rejected (`forbidden_destination`), except a name that did not resolve (failed: DNS may
 * come back); a timeout or a network failure → failed. `now` (ms) dates a `Retry-After`.
 */
export const outcomeOfWebhookResult = (result: HttpResult, now: number): SendOutcome => {
  switch (result.kind) {
    case 'answered':
      return outcomeOfAnswer(result, now);
    case 'refused':
      return result.reason === 'unresolvable'
        ? { kind: 'failed', reason: result.detail }
        : {
            kind: 'rejected',
            code: 'forbidden_destination',
            reason: `the endpoint's address is not allowed: ${result.detail}`,
          };
    case 'timed_out':
      return {
        kind: 'failed',
        reason: `the endpoint did not answer within ${result.timeoutMs} ms`,
      };
    case 'failed':
      return {
        kind: 'failed',
        reason: `could not reach the endpoint (${result.code}): ${result.message}`,
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

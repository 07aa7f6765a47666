import type { HttpAnswer, HttpResult } from '../httpClient.js';
import type { SendOutcome } from '../channel.js';

/** The fixed clock of every scenario: a `Retry-After` date is counted from it. */
export const SCENARIO_NOW = new Date('2025-03-01T12:00:00.000Z');

/** The name of one thing the peer (or the way to it) can do to a delivery attempt. */
export type ScenarioName =
  | 'network error'
  | 'timeout'
  | 'guard refusal'
  | '500'
  | '503'
  | '429 with Retry-After seconds'
  | '429 with Retry-After date'
  | '400'
  | '404'
  | 'success';

/** One scenario: what every request of the attempt gets, and what the outcome must be. */
export interface Scenario {
  readonly name: ScenarioName;
  /** The scripted answer to each request, for channels that send over HTTP. */
  readonly http: (ok: HttpAnswer) => HttpResult;
  readonly expect: SendOutcome['kind'];
  /** The `retryAfterMs` a `failed` outcome must carry (within a second), when the peer said one. */
  readonly retryAfterMs?: number;
}

const answer = (status: number, headers: Record<string, string> = {}): HttpAnswer => ({
  kind: 'answered',
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ code: status, message: `scripted ${status}` }),
});

/**
 * Every scenario the kit plays (PLUGINS.md "Conformance kit"): no answer at all (a network
 * error, a timeout, the outbound guard's refusal), transient answers (5xx, 429 with
 * `Retry-After`), permanent ones (400, 404), and success.
 */
export const scenarios: readonly Scenario[] = [
  {
    name: 'network error',
    http: () => ({ kind: 'failed', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }),
    expect: 'failed',
  },
  { name: 'timeout', http: () => ({ kind: 'timed_out', timeoutMs: 5_000 }), expect: 'failed' },
  {
    name: 'guard refusal',
    http: () => ({
      kind: 'refused',
      reason: 'private',
      detail: '10.0.0.5 is a private address',
    }),
    expect: 'rejected',
  },
  { name: '500', http: () => answer(500), expect: 'failed' },
  { name: '503', http: () => answer(503), expect: 'failed' },
  {
    name: '429 with Retry-After seconds',
    http: () => answer(429, { 'retry-after': '120' }),
    expect: 'failed',
    retryAfterMs: 120_000,
  },
  {
    name: '429 with Retry-After date',
    http: () =>
      answer(429, { 'retry-after': new Date(SCENARIO_NOW.getTime() + 90_000).toUTCString() }),
    expect: 'failed',
    retryAfterMs: 90_000,
  },
  { name: '400', http: () => answer(400), expect: 'rejected' },
  { name: '404', http: () => answer(404), expect: 'rejected' },
  { name: 'success', http: (ok) => ok, expect: 'delivered' },
];

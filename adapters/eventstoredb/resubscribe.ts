import { ErrorType } from '@eventstore/db-client';

/**
 * When a subscription to EventStoreDB may be opened again rather than fail, and how long to wait
 * first. Shared by the catch-up subscriptions of `EsdbEventStore` and the persistent-subscription
 * consumer; free of either, so both follow one rule.
 */

/** Bounds on resubscribing after transient failures. */
export interface ResubscribePolicy {
  /**
   * Transient failures in a row, without an event received in between, after which the failure
   * is passed on instead. An event received resets the count: a subscription that keeps making
   * progress is never given up.
   */
  readonly maxAttempts: number;
  /** Wait before the first resubscription; doubles for each further one. */
  readonly baseDelayMs: number;
  /** Longest wait between two resubscriptions. */
  readonly maxDelayMs: number;
}

/**
 * About half a minute of attempts in all (0.1 s, 0.2 s, … up to 5 s each): long enough for a leader
 * election or a rolling restart, short enough that a server that stays away is reported.
 */
export const DEFAULT_RESUBSCRIBE_POLICY: ResubscribePolicy = {
  maxAttempts: 10,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
};

/** The policy with `changes` applied, checked: a bad bound is a configuration bug. */
export const resubscribePolicy = (changes: Partial<ResubscribePolicy> = {}): ResubscribePolicy => {
  const policy = { ...DEFAULT_RESUBSCRIBE_POLICY, ...changes };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`resubscribe ${name} must be a non-negative integer, got ${value}`);
    }
  }
  return policy;
};

/** The wait before resubscription number `attempt` (1 for the first). */
export const resubscribeDelay = (attempt: number, policy: ResubscribePolicy): number =>
  Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempt - 1), policy.maxDelayMs);

/**
 * The client's error types after which a subscription can simply be opened again:
 * - `unavailable`: the node went away or is not ready (`Server Is Not Ready`, `Too Busy`);
 * - `deadline-exceeded`: the call or the connection timed out;
 * - `not-leader`: the node stepped down (the client has reconnected to the new leader by now);
 * - `timeout`: the server aborted the call (gRPC ABORTED, "Operation timed out: …"); on 22.x and
 *   23.x that is how it drops a subscription whose consumer paused while its small live buffer
 *   filled ("Consumer too slow to handle event while live. Client resubscription required.");
 * - `cancelled`: the server cancelled the call (shutting down); the client's own cancellation
 *   never reaches a listener.
 */
const TRANSIENT_TYPES: ReadonlySet<string> = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.NOT_LEADER,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
]);

/** The server's words for the slow-consumer drop, whichever status a version sends them with. */
const CONSUMER_TOO_SLOW = /consumer too slow/i;

/**
 * True when a subscription that failed with `error` should be opened again. Anything else (access
 * denied, a deleted group, a bug) is passed on. Checks the client's `type` tag, not its classes,
 * so a second copy of the client package does not change the answer.
 */
export const isTransientSubscriptionError = (
  error: unknown,
  extraTypes: ReadonlySet<string> = new Set(),
): boolean => {
  if (!(error instanceof Error)) return false;
  const type = (error as { type?: unknown }).type;
  if (typeof type === 'string' && (TRANSIENT_TYPES.has(type) || extraTypes.has(type))) return true;
  return CONSUMER_TOO_SLOW.test(error.message);
};

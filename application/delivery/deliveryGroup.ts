import type {
  MessageDeliveryFailed,
  MessagePushReleased,
  MessageRouted,
} from '../../domain/message/messageEvents.js';
import type { Position, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { AttemptNowResult } from './deliveryWorker.js';

/**
 * Delivery through a group of competing consumers (EventStoreDB's persistent subscriptions,
 * README "Running several nodes"): the group hands each event that plans device attempts to one
 * node, and that node makes the attempts. Two kinds of events plan attempts:
 * - `MessageRouted` plans the first attempt of each device target it lists, and so does
 *   `MessagePushReleased` (a push deferred by quiet hours);
 * - `MessageDeliveryFailed` with a `retryAt` plans the next attempt of its target, due then.
 *
 * The two go to separate groups (see {@link DELIVERY_GROUPS}): a retry is held until its time
 * (minutes), and held retries must not take the places in flight that first attempts need.
 */

/** One device attempt an event plans. */
export interface PlannedAttempt {
  readonly messageId: string;
  /** The delivery target, `<kind>:<deviceId>` (domain/delivery/deliveryTarget.ts). */
  readonly target: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** The two groups: first attempts, and retries. Their names are `<base>` and `<base>-retries`. */
export const DELIVERY_GROUPS = {
  first: { suffix: '', eventTypes: ['MessageRouted', 'MessagePushReleased'] },
  retries: { suffix: '-retries', eventTypes: ['MessageDeliveryFailed'] },
} as const satisfies Record<string, { suffix: string; eventTypes: readonly string[] }>;

/** The attempts one event plans; none for every other event. */
export const plannedAttempts = (event: Pick<RecordedEvent, 'type' | 'data'>): PlannedAttempt[] => {
  switch (event.type) {
    case 'MessageRouted': {
      const data = event.data as MessageRouted['data'];
      return data.channels
        .filter((channel) => channel !== 'inbox')
        .map((target) => ({ messageId: data.messageId, target, attempt: 1 }));
    }
    case 'MessagePushReleased': {
      const data = event.data as MessagePushReleased['data'];
      return data.channels.map((target) => ({ messageId: data.messageId, target, attempt: 1 }));
    }
    case 'MessageDeliveryFailed': {
      const data = event.data as MessageDeliveryFailed['data'];
      return data.retryAt === undefined
        ? []
        : [{ messageId: data.messageId, target: data.channel, attempt: data.attempt + 1 }];
    }
    default:
      return [];
  }
};

/** What a group's handler answers for one event: acknowledge it, have it again, or park it. */
export type GroupOutcome = 'done' | 'retry' | 'park';

/** What the group handler works with. */
export interface GroupDeliveryDeps {
  /** Resolves once the messages read model includes `position` (the delivery rows exist). */
  waitForMessages(position: Position): Promise<void>;
  /** The log's head: an event handed out again waits for it (see the handler). */
  headPosition(): Promise<Position | undefined>;
  /** When the delivery's planned attempt is due (`retry_at`), if it still waits for one. */
  dueAt(
    messageId: string,
    target: string,
  ): { readonly attempts: number; readonly retryAt: string | null } | undefined;
  /** The delivery worker's {@link DeliveryWorker.attemptNow}. */
  attemptNow(messageId: string, target: string, attempt: number): Promise<AttemptNowResult>;
  /**
   * Records that the delivery is given up (AbandonDelivery), before its event is parked: the
   * delivery would otherwise wait in the read model for an attempt nobody makes.
   */
  abandon(planned: PlannedAttempt, attemptsMade: number, reason: string): Promise<void>;
  /** Aborted when the node stops: a retry waiting for its time is handed back, not made early. */
  readonly stopping: AbortSignal;
  readonly logger: Logger;
  /** How long to wait for the read model to reach an event before asking for it again; 30 s. */
  readonly catchUpMs?: number;
  /**
   * Failures of one event on this node before it is parked: at this count, a failing event is
   * abandoned and parked instead of failing again. Counted here, not from the server's retry
   * count, which also counts every hand-back at a stop or a drop and every message timeout.
   */
  readonly maxFailures: number;
  readonly now?: () => number;
}

/**
 * The handler of a delivery group's events. For each attempt the event plans, once the read model
 * has the event (the log's head, for an event handed out before): nothing when the delivery has
 * moved past that attempt (an earlier holder made it and died before acknowledging), else wait
 * until it is due and make it. `done` once every planned attempt is made and recorded; `retry`
 * when the node stopped or the event's subscription dropped first (the event is someone else's
 * by then). A failure (the store refused a record, the read model is behind) throws once every
 * attempt has ended, so the event comes again; at `maxFailures` on this node the deliveries
 * still waiting are abandoned and the event is parked, where an operator sees it.
 */
export const groupDeliveryHandler = (deps: GroupDeliveryDeps) => {
  /** Failures of the events this node handled, by event id (bounded: the oldest go first). */
  const failures = new Map<string, number>();
  return async (
    event: RecordedEvent,
    attempt: { readonly retryCount: number; readonly signal?: AbortSignal },
  ): Promise<GroupOutcome> => {
    const planned = plannedAttempts(event);
    if (planned.length === 0) return 'done';
    const signal =
      attempt.signal === undefined
        ? deps.stopping
        : AbortSignal.any([deps.stopping, attempt.signal]);
    try {
      // An event handed out before may have had its attempts made and recorded by a node that
      // died before acknowledging: those records come after the event, so wait for the head.
      const until = attempt.retryCount > 0 ? await deps.headPosition() : undefined;
      await withinTime(
        deps.waitForMessages(until ?? event.position),
        deps.catchUpMs ?? 30_000,
        `the messages read model did not reach the event ${event.id} in time`,
      );
      // Every attempt ends before the event is answered: a failed one must not hand the event
      // to another node while this one still sends the others.
      const settled = await Promise.allSettled(
        planned.map((one) => attemptWhenDue(deps, one, signal)),
      );
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      failures.delete(event.id);
      return settled.some(
        (result) => result.status === 'fulfilled' && result.value === 'handed-back',
      )
        ? 'retry'
        : 'done';
    } catch (error) {
      const count = (failures.get(event.id) ?? 0) + 1;
      failures.delete(event.id);
      failures.set(event.id, count);
      for (const old of failures.keys()) {
        if (failures.size <= 10_000) break;
        failures.delete(old);
      }
      if (count < deps.maxFailures) throw error;
      failures.delete(event.id);
      const reason = `parked after ${count} failures; last: ${messageOf(error)}`;
      for (const one of planned) {
        const waiting = deps.dueAt(one.messageId, one.target);
        if (waiting === undefined || waiting.attempts + 1 !== one.attempt) continue;
        try {
          await deps.abandon(one, waiting.attempts, reason);
        } catch (abandonError) {
          deps.logger.error('could not record a parked delivery as abandoned', {
            messageId: one.messageId,
            target: one.target,
            error: messageOf(abandonError),
          });
        }
      }
      return 'park';
    }
  };
};

/** Makes one planned attempt when it is due; `handed-back` when the node stopped first. */
const attemptWhenDue = async (
  deps: GroupDeliveryDeps,
  planned: PlannedAttempt,
  signal: AbortSignal,
): Promise<AttemptNowResult | 'handed-back'> => {
  const waiting = deps.dueAt(planned.messageId, planned.target);
  if (waiting === undefined || waiting.attempts + 1 !== planned.attempt) return 'settled';
  const now = deps.now ?? Date.now;
  const wait = waiting.retryAt === null ? 0 : Date.parse(waiting.retryAt) - now();
  if (wait > 0 && !(await pause(wait, signal))) return 'handed-back';
  if (signal.aborted) return 'handed-back';
  return deps.attemptNow(planned.messageId, planned.target, planned.attempt);
};

/** Waits `ms`; false when `signal` was aborted first. */
const pause = (ms: number, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    }, ms);
    function aborted(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });

/** `promise`, or a rejection with `message` after `ms`. */
const withinTime = async <T>(promise: Promise<T>, ms: number, message: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(message));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

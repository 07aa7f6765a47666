import { setMaxListeners } from 'node:events';
import {
  END,
  ErrorType,
  PARK,
  RETRY,
  ROUND_ROBIN,
  START,
  UNBOUNDED,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
} from '@eventstore/db-client';
import type {
  EventStoreDBClient,
  PersistentSubscriptionToAll,
  PersistentSubscriptionToAllResolvedEvent,
  PersistentSubscriptionToAllSettings,
} from '@eventstore/db-client';
import type { Position, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Logger } from '../../domain/shared/logger.js';
import { eventTypeRegex, isWantedEvent, toClientPosition, toRecordedEvent } from './mapping.js';
import {
  isTransientSubscriptionError,
  resubscribeDelay,
  resubscribePolicy,
} from './resubscribe.js';
import type { ResubscribePolicy } from './resubscribe.js';

/**
 * EventStoreDB fan-out: with `EVENTSTORE_CONNECTION_STRING` set, delivery reads its work from a
 * persistent subscription group instead of a catch-up subscription per node. The server hands
 * each event to one of the group's connected consumers (competing consumers, on any node), keeps
 * the group's position itself, redelivers what is not acknowledged, and parks what keeps failing
 * (an operator can replay parked events from the UI or the API).
 *
 * `ensureDeliveryGroup` creates the group at start, idempotently; `PersistentDeliveryConsumer`
 * connects to it and hands each event to the delivery handler, acknowledging only after the
 * handler has resolved `'done'` (the attempt is recorded), so a crash in between means a
 * redelivery, never a lost delivery. Deliveries must therefore be idempotent by event id.
 *
 * The group's settings, and why (see `deliveryGroupSettings`):
 * - **Source**: `$all`, filtered on the server by event type to the delivery event types (an
 *   anchored regex, so no `$` type passes). Events of `$` streams are acknowledged unseen.
 * - **Start**: the end of the log when the group is created, unless `startFrom` is given (a
 *   position, inclusive on the server, or `'start'`). Tidings' groups start at the beginning
 *   (composition/groupDelivery.ts): its handler acknowledges deliveries made already without
 *   sending them again. An existing group keeps its own checkpoint; `startFrom` is then ignored.
 * - **Consumer strategy**: round robin, for competing consumers across nodes.
 * - **Message timeout**: 60 s by default, longer than the slowest delivery attempt (channel sends
 *   give up at 30 s): a shorter one would hand an event to a second consumer while the first
 *   still sends it. Tidings sets it per group to the longest it may hold an event.
 * - **Retries**: the server parks an event after 10 retries (a handler's `'retry'` answers and
 *   message timeouts both count). The consumer parks it itself, with the error as the reason,
 *   after the handler has thrown `maxHandlerRetries` + 1 times (default 5 + 1), and waits a little
 *   before each retry (the server redelivers at once).
 * - **Checkpoints**: after 1 s, at least 1 and at most 100 acknowledged events. A new leader
 *   resumes the group from its last checkpoint and redelivers everything after it; close
 *   checkpoints keep that short.
 * - **Buffers**: the client's defaults (live 500, read batch 20, history 500); links are not
 *   resolved; extra statistics off; any number of consumers.
 * - **In flight per consumer** (`bufferSize`): 10. Events are handled concurrently up to that.
 *
 * Persistent subscriptions to `$all` need EventStoreDB 21.10 or later; creating and updating a
 * group needs an admin (or ops) user in the connection string.
 */

/** The part of the EventStoreDB client persistent delivery uses. */
export type PersistentDeliveryClient = Pick<
  EventStoreDBClient,
  | 'createPersistentSubscriptionToAll'
  | 'updatePersistentSubscriptionToAll'
  | 'getPersistentSubscriptionToAllInfo'
  | 'subscribeToPersistentSubscriptionToAll'
>;

/** What the handler made of one event: acknowledge it, try it again, or park it. */
export type DeliveryOutcome = 'done' | 'retry' | 'park';

/**
 * Handles one event of the group. Resolving `'done'` acknowledges it; `'retry'` has the server
 * redeliver it (to any consumer); `'park'` moves it to the group's parked messages. A throw counts
 * as a failed attempt (see `PersistentDeliveryOptions.maxHandlerRetries`).
 */
export type DeliveryHandler = (
  event: RecordedEvent,
  attempt: {
    readonly retryCount: number;
    /**
     * Aborted when the subscription the event came over is gone (dropped, or the consumer
     * closing): the server gives the event to a consumer again, so a handler still waiting to act
     * on it must not (its answer would not reach the server either).
     */
    readonly signal: AbortSignal;
  },
) => Promise<DeliveryOutcome>;

/** Which group, and what it follows. */
export interface DeliveryGroupOptions {
  readonly groupName: string;
  /** The event types delivery acts on; at least one. */
  readonly eventTypes: readonly string[];
  /**
   * Where a newly created group starts (inclusive): a position, `'start'` for the beginning of
   * the log, or the end of the log when absent.
   */
  readonly startFrom?: Position | 'start';
  /** Changes to the settings described in the module comment. */
  readonly settings?: Partial<Omit<PersistentSubscriptionToAllSettings, 'startFrom'>>;
}

/** The settings the module comment explains, with `options.settings` applied. */
export const deliveryGroupSettings = (
  options: Pick<DeliveryGroupOptions, 'startFrom' | 'settings'> = {},
): PersistentSubscriptionToAllSettings =>
  persistentSubscriptionToAllSettingsFromDefaults({
    startFrom:
      options.startFrom === undefined
        ? END
        : options.startFrom === 'start'
          ? START
          : toClientPosition(options.startFrom),
    consumerStrategyName: ROUND_ROBIN,
    messageTimeout: 60_000,
    maxRetryCount: 10,
    checkPointAfter: 1_000,
    checkPointLowerBound: 1,
    checkPointUpperBound: 100,
    resolveLinkTos: false,
    extraStatistics: false,
    maxSubscriberCount: UNBOUNDED,
    ...options.settings,
  });

/** The settings an update compares and sets; `startFrom` stays as the group has it. */
const MANAGED_SETTINGS = [
  'resolveLinkTos',
  'extraStatistics',
  'messageTimeout',
  'maxRetryCount',
  'checkPointAfter',
  'checkPointLowerBound',
  'checkPointUpperBound',
  'maxSubscriberCount',
  'liveBufferSize',
  'readBatchSize',
  'historyBufferSize',
  'consumerStrategyName',
] as const satisfies ReadonlyArray<keyof PersistentSubscriptionToAllSettings>;

/** What `ensureDeliveryGroup` found and did. */
export type EnsureGroupResult = 'created' | 'updated' | 'unchanged';

const hasType = (error: unknown, type: ErrorType): boolean =>
  error instanceof Error && (error as { type?: unknown }).type === type;

/** What the server says of a group: its settings, none, or that it cannot describe groups. */
type Described = PersistentSubscriptionToAllSettings | 'missing' | 'unsupported';

const describeGroup = async (
  client: PersistentDeliveryClient,
  groupName: string,
): Promise<Described> => {
  try {
    return (await client.getPersistentSubscriptionToAllInfo(groupName)).settings;
  } catch (error) {
    if (hasType(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST)) return 'missing';
    // Servers before 21.10.1 cannot describe a group.
    if (hasType(error, ErrorType.UNSUPPORTED)) return 'unsupported';
    throw error;
  }
};

/**
 * Creates the delivery group, or brings an existing one's settings up to date: safe to call at
 * every start, on every node, at the same time. The group is described first, so a node whose
 * user may not create or update groups (that needs an admin or ops user) starts on a group that
 * exists with the wanted settings. An existing group whose settings already match is left alone,
 * because an update restarts the group and drops every node's consumers (they resubscribe, but a
 * rolling deploy would drop them once per node). Its filter cannot be updated by the server: a
 * changed list of event types needs the group deleted and created again.
 */
export const ensureDeliveryGroup = async (
  client: PersistentDeliveryClient,
  options: DeliveryGroupOptions,
): Promise<EnsureGroupResult> => {
  if (options.eventTypes.length === 0) {
    throw new RangeError('a delivery group needs at least one event type');
  }
  const wanted = deliveryGroupSettings(options);
  let current = await describeGroup(client, options.groupName);
  if (current === 'missing' || current === 'unsupported') {
    try {
      await client.createPersistentSubscriptionToAll(options.groupName, wanted, {
        filter: eventTypeFilter({ regex: eventTypeRegex(options.eventTypes) }),
      });
      return 'created';
    } catch (error) {
      if (!hasType(error, ErrorType.PERSISTENT_SUBSCRIPTION_EXISTS)) throw error;
    }
    // Another node created it meanwhile, or the server cannot say what it has.
    if (current === 'missing') current = await describeGroup(client, options.groupName);
  }
  if (
    typeof current !== 'string' &&
    MANAGED_SETTINGS.every((key) => current[key] === wanted[key])
  ) {
    return 'unchanged';
  }
  await client.updatePersistentSubscriptionToAll(options.groupName, {
    ...wanted,
    startFrom: typeof current === 'string' ? wanted.startFrom : current.startFrom,
  });
  return 'updated';
};

/** Tuning of a `PersistentDeliveryConsumer`. */
export interface PersistentDeliveryOptions {
  readonly groupName: string;
  /** Events the server may have in flight to this consumer; default 10. */
  readonly bufferSize?: number;
  /**
   * Retries after a throwing handler before the event is parked: an event whose handler throws
   * with `retryCount` (the server's count of earlier retries) at or above this is parked. Default
   * 5; keep it below the group's `maxRetryCount` so the consumer parks first, with the reason.
   */
  readonly maxHandlerRetries?: number;
  /**
   * Wait before asking for a retry of an event that failed `retryCount` times before; default
   * 0.5 s doubling up to 10 s. Keep it well below the group's message timeout.
   */
  readonly retryDelayMs?: (retryCount: number) => number;
  /** How the consumer resubscribes after transient failures. */
  readonly resubscribe?: Partial<ResubscribePolicy>;
  readonly logger?: Logger;
}

/** Why a consumer stopped: closed by its owner, or failed for good (the error says why). */
export type DeliveryStop =
  { readonly kind: 'closed' } | { readonly kind: 'failed'; readonly error: unknown };

const DEFAULT_BUFFER_SIZE = 10;
const DEFAULT_MAX_HANDLER_RETRIES = 5;
const defaultRetryDelay = (retryCount: number): number => Math.min(500 * 2 ** retryCount, 10_000);

/** Besides the usual transient errors: the server dropped the group's consumers (an update). */
const PERSISTENT_TRANSIENT: ReadonlySet<string> = new Set<string>([
  ErrorType.PERSISTENT_SUBSCRIPTION_DROPPED,
]);

/** How one event is answered. */
type Answer =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack'; readonly action: typeof RETRY | typeof PARK; readonly reason: string };

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * One consumer of a delivery group: subscribes, hands each event to the handler, answers the
 * server (ack, or nack with retry or park) and subscribes again after transient failures (node
 * gone, leader change, the group restarted by an update), within a `ResubscribePolicy`. A failure
 * that is not transient, or too many in a row, stops it; `stopped` then says why.
 */
export class PersistentDeliveryConsumer {
  /** Settles when the consumer has stopped; never rejects. */
  readonly stopped: Promise<DeliveryStop>;
  private resolveStopped!: (stop: DeliveryStop) => void;
  private readonly policy: ResubscribePolicy;
  private readonly maxHandlerRetries: number;
  private readonly retryDelayMs: (retryCount: number) => number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closingSignal = new AbortController();
  private source: PersistentSubscriptionToAll | undefined;
  /** Aborted when its subscription is dropped (see `DeliveryHandler`'s `signal`). */
  private readonly dropped = new WeakMap<PersistentSubscriptionToAll, AbortController>();
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private started = false;
  private ending: Promise<void> | undefined;

  constructor(
    private readonly client: PersistentDeliveryClient,
    private readonly options: PersistentDeliveryOptions,
    private readonly handler: DeliveryHandler,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.policy = resubscribePolicy(options.resubscribe);
    this.maxHandlerRetries = options.maxHandlerRetries ?? DEFAULT_MAX_HANDLER_RETRIES;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
    if (!Number.isSafeInteger(this.maxHandlerRetries) || this.maxHandlerRetries < 0) {
      throw new RangeError(
        `maxHandlerRetries must be a non-negative integer, got ${String(options.maxHandlerRetries)}`,
      );
    }
  }

  /** Connects to the group; once. */
  start(): this {
    if (!this.started && this.ending === undefined) {
      this.started = true;
      this.open();
    }
    return this;
  }

  /**
   * Stops taking events, lets the handlers of events already taken finish and answer (a retry
   * waiting for its delay asks at once), then disconnects. Events not answered by then go to
   * another consumer.
   */
  close(): Promise<void> {
    return this.end({ kind: 'closed' });
  }

  private open(): void {
    const source = this.client.subscribeToPersistentSubscriptionToAll(this.options.groupName, {
      bufferSize: this.options.bufferSize ?? DEFAULT_BUFFER_SIZE,
    });
    this.source = source;
    const dropped = new AbortController();
    // One listener per event in hand; a group may hand out hundreds.
    setMaxListeners(0, dropped.signal);
    this.dropped.set(source, dropped);
    // Listeners check they belong to the current call; they stay attached to a replaced one, so
    // its late errors cannot crash the process.
    source.on('data', (resolved: PersistentSubscriptionToAllResolvedEvent) => {
      if (this.source !== source) return;
      this.failures = 0;
      const handling = this.handle(source, resolved).finally(() => {
        this.inFlight.delete(handling);
      });
      this.inFlight.add(handling);
    });
    source.on('error', (error: Error) => {
      if (this.source === source) this.failed(source, error);
    });
    source.on('end', () => {
      // The server closing the call without an error (a group restart): try again as well.
      if (this.source === source) {
        const error = new Error(`the server ended the subscription to ${this.groupName}`);
        this.failed(source, error, true);
      }
    });
  }

  /** Whether the consumer is subscribed now (not between a drop and its resubscription). */
  get connected(): boolean {
    return this.source !== undefined && this.ending === undefined;
  }

  private get groupName(): string {
    return this.options.groupName;
  }

  private failed(source: PersistentSubscriptionToAll, error: Error, transient = false): void {
    // Its events in hand go to a consumer again, whatever happens next.
    this.dropped.get(source)?.abort();
    if (
      !(transient || isTransientSubscriptionError(error, PERSISTENT_TRANSIENT)) ||
      this.failures >= this.policy.maxAttempts
    ) {
      this.options.logger?.error('persistent delivery subscription failed', {
        group: this.groupName,
        error: error.message,
      });
      void this.end({ kind: 'failed', error });
      return;
    }
    this.failures += 1;
    this.source = undefined;
    void source.unsubscribe().catch(() => undefined);
    const delay = resubscribeDelay(this.failures, this.policy);
    this.options.logger?.warn('persistent delivery subscription dropped; resubscribing', {
      group: this.groupName,
      error: error.message,
      attempt: this.failures,
      retryInMs: delay,
    });
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.ending === undefined) this.open();
    }, delay);
  }

  private async handle(
    source: PersistentSubscriptionToAll,
    resolved: PersistentSubscriptionToAllResolvedEvent,
  ): Promise<void> {
    const answer = await this.answerFor(source, resolved);
    // Dropped meanwhile: the server has given the event to a consumer again already.
    if (this.dropped.get(source)?.signal.aborted === true) return;
    try {
      if (answer.kind === 'ack') await source.ack(resolved);
      else await source.nack(answer.action, answer.reason, resolved);
    } catch (error) {
      // The call is gone; the server gives the event to a consumer again, which is all an
      // answer could have changed.
      this.options.logger?.warn('could not answer the server for an event', {
        group: this.groupName,
        eventId: resolved.event?.id,
        error: messageOf(error),
      });
    }
  }

  private async answerFor(
    source: PersistentSubscriptionToAll,
    resolved: PersistentSubscriptionToAllResolvedEvent,
  ): Promise<Answer> {
    const event = resolved.event;
    // Not delivery's: EventStoreDB's own events are never Tidings events.
    if (event === undefined || !isWantedEvent(event, undefined)) return { kind: 'ack' };
    let recorded: RecordedEvent | undefined;
    try {
      recorded = toRecordedEvent(resolved);
    } catch (error) {
      // Kept where an operator can see it rather than acknowledged and lost.
      return { kind: 'nack', action: PARK, reason: messageOf(error) };
    }
    if (recorded === undefined) return { kind: 'ack' };
    const { retryCount } = resolved;
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.handler(recorded, {
        retryCount,
        signal: AbortSignal.any([
          this.closingSignal.signal,
          this.dropped.get(source)?.signal ?? AbortSignal.abort(),
        ]),
      });
    } catch (error) {
      if (retryCount >= this.maxHandlerRetries) {
        this.options.logger?.warn('delivery handler keeps failing; parking the event', {
          group: this.groupName,
          eventId: recorded.id,
          failures: retryCount + 1,
          error: messageOf(error),
        });
        return {
          kind: 'nack',
          action: PARK,
          reason: `handler failed ${retryCount + 1} times; last: ${messageOf(error)}`,
        };
      }
      await this.pause(this.retryDelayMs(retryCount));
      return { kind: 'nack', action: RETRY, reason: messageOf(error) };
    }
    switch (outcome) {
      case 'done':
        return { kind: 'ack' };
      case 'retry':
        await this.pause(this.retryDelayMs(retryCount));
        return { kind: 'nack', action: RETRY, reason: 'the handler asked for a retry' };
      case 'park':
        return { kind: 'nack', action: PARK, reason: 'the handler parked it' };
      default: {
        const _exhaustive: never = outcome;
        throw new Error(`unknown delivery outcome ${String(_exhaustive)}`);
      }
    }
  }

  /** Waits `ms`, or less when the consumer is closing. */
  private pause(ms: number): Promise<void> {
    const signal = this.closingSignal.signal;
    if (ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private end(stop: DeliveryStop): Promise<void> {
    this.ending ??= (async () => {
      this.closingSignal.abort();
      clearTimeout(this.retry);
      this.retry = undefined;
      const source = this.source;
      this.source = undefined;
      // No new events; those taken still get their answer over this call.
      source?.pause();
      await Promise.allSettled([...this.inFlight]);
      await source?.unsubscribe().catch(() => undefined);
      this.resolveStopped(stop);
    })();
    return this.ending;
  }
}

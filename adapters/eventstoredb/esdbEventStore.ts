import * as E from 'fp-ts/lib/Either.js';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  eventTypeFilter,
  excludeSystemEvents,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import type { PersistentDeliveryClient } from './persistentDelivery.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevision,
} from '../../domain/shared/eventStore.js';
import { NO_STREAM_REVISION } from '../../domain/shared/eventStore.js';
import { AppendTooLarge } from './appendTooLarge.js';
import { BatchQueue } from './batchQueue.js';
import {
  DEFAULT_MAX_APPEND_SIZE,
  appendSize,
  eventTypeRegex,
  firstReadAllPageSize,
  isAfter,
  isMaxAppendSizeExceededError,
  isStreamNotFoundError,
  isWantedEvent,
  isWrongExpectedVersionError,
  nextReadAllPageSize,
  revisionToNumber,
  toClientExpectedRevision,
  toClientPosition,
  toEventData,
  toEventId,
  toKnownPosition,
  toRecordedEvent,
  toWrongExpectedRevision,
  wrongExpectedRevision,
} from './mapping.js';
import {
  isTransientSubscriptionError,
  resubscribeDelay,
  resubscribePolicy,
} from './resubscribe.js';
import type { ResubscribePolicy } from './resubscribe.js';

/**
 * The part of the EventStoreDB client this adapter uses. Narrow on purpose, so tests can hand the
 * store a stand-in and so it is plain which server calls the adapter depends on.
 */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

const DEFAULT_MAX_BATCH = 1_000;

/** Tuning of an `EsdbEventStore`; every field has a default. */
export interface EsdbEventStoreOptions {
  /**
   * The largest append, in bytes as the server counts them (see `appendSize`), sent to the
   * server; a bigger one throws `AppendTooLarge` without a round trip. Default 1,048,576, the
   * server's default `MaxAppendSize`; set it to the server's value when that is configured.
   */
  readonly maxAppendSize?: number;
  /** How subscriptions resubscribe after transient failures (see `ResubscribePolicy`). */
  readonly resubscribe?: Partial<ResubscribePolicy>;
  /** The same connection's persistent-subscription calls, for delivery groups. */
  readonly groups?: PersistentDeliveryClient;
}

/** A client read: async-iterable, and its gRPC call can be cancelled. */
interface CancellableRead<T> extends AsyncIterable<T> {
  cancel(): Promise<void>;
}

/**
 * Iterates a client read until `visit` returns something other than `undefined`, and returns
 * that (or `undefined` at the end of the read). Cancels the gRPC call unless the read ran to its
 * end: leaving a `for await` early, by `return` or by a throw (a failed decode, an absent stream),
 * destroys the client's readable but not the call under it, which would go on streaming the rest
 * of the read into a buffer nobody reads. A failure to cancel does not change what was read.
 */
const readUntil = async <T, R>(
  read: CancellableRead<T>,
  visit: (item: T) => R | undefined,
): Promise<R | undefined> => {
  let ended = false;
  try {
    for await (const item of read) {
      const result = visit(item);
      if (result !== undefined) return result;
    }
    ended = true;
    return undefined;
  } finally {
    if (!ended) await read.cancel().catch(() => undefined);
  }
};

/**
 * The event store port on EventStoreDB (gRPC client v6, server 22.6 or later).
 *
 * Streams, revisions and `$all` positions are EventStoreDB's own, so the numbering the port
 * describes is native here. EventStoreDB's own events (types or streams starting with `$`) are
 * not part of the port's global log and are left out of `readAll`, `headPosition` and
 * `subscribe`.
 */
export class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly maxAppendSize: number;
  private readonly resubscribe: ResubscribePolicy;
  private closed = false;
  /**
   * The connection's persistent-subscription calls (composition/groupDelivery.ts), when the store
   * was opened on a connection string.
   */
  readonly groups: PersistentDeliveryClient | undefined;

  constructor(
    private readonly client: EsdbClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.groups = options.groups;
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    if (!Number.isSafeInteger(this.maxAppendSize) || this.maxAppendSize < 1) {
      throw new RangeError(
        `maxAppendSize must be a positive integer, got ${String(options.maxAppendSize)}`,
      );
    }
    this.resubscribe = resubscribePolicy(options.resubscribe);
  }

  async readStream(
    stream: string,
    options: ReadStreamOptions = {},
  ): Promise<readonly RecordedEvent[]> {
    this.assertOpen();
    const { fromRevision = 0, maxCount } = options;
    // The port means "nothing"; what the server does with a count of 0 is not documented.
    if (maxCount !== undefined && maxCount <= 0) return [];
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(stream, {
        fromRevision: fromRevision === 0 ? START : BigInt(fromRevision),
        direction: FORWARDS,
        ...(maxCount === undefined ? {} : { maxCount }),
      });
      await readUntil(read, (resolved) => {
        const event = toRecordedEvent(resolved);
        if (event !== undefined) events.push(event);
        return undefined;
      });
    } catch (error) {
      // The server reports an absent stream as an error while iterating, not as an empty read.
      if (isStreamNotFoundError(error)) return [];
      throw error;
    }
    return events;
  }

  /**
   * Appends the events; see the port. Throws `AppendTooLarge` for an append over the server's
   * size limit (checked here first, see `EsdbEventStoreOptions.maxAppendSize`) and `RangeError`
   * for an event id that is not a UUID.
   */
  async appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<E.Either<WrongExpectedRevision, AppendResult>> {
    this.assertOpen();
    const last = events.at(-1);
    // Same rule as the SQLite adapter. EventStoreDB would accept an empty append, but the client
    // then reports revision 0 for an absent stream and there is no event whose position to return.
    if (last === undefined) throw new Error('appendToStream needs at least one event');
    const { expectedRevision } = options;
    const proposed = events.map(toEventData);
    const size = appendSize(proposed);
    // The server would refuse it only after the whole append has been streamed to it.
    if (size > this.maxAppendSize) throw new AppendTooLarge(stream, size, this.maxAppendSize);

    let result;
    try {
      result = await this.client.appendToStream(stream, proposed, {
        expectedRevision: toClientExpectedRevision(expectedRevision),
      });
    } catch (error) {
      if (isWrongExpectedVersionError(error)) {
        return E.left(toWrongExpectedRevision(error, stream, expectedRevision));
      }
      if (isMaxAppendSizeExceededError(error)) {
        throw new AppendTooLarge(stream, size, error.maxAppendSize, { cause: error });
      }
      throw error;
    }

    if (!result.success) {
      // Only with `throwOnAppendFailure=false` in the connection string. The client's revision
      // is then wrong on the batch-append path (it converts `hasCurrentStreamRevision()`, a
      // boolean), so ask the stream itself.
      const current = await this.lastRevision(stream);
      return E.left(
        wrongExpectedRevision(
          stream,
          expectedRevision,
          current === NO_STREAM_REVISION ? 'no_stream' : current,
        ),
      );
    }

    const nextRevision = revisionToNumber(result.nextExpectedRevision);
    // The server answers a write with the position of its last event (servers 22.10 to 24.10),
    // which is what the port promises, so it is taken as it is. A read-back is not needed, and
    // could miss the event on a follower that lags or after a leader change.
    const position =
      toKnownPosition(result.position) ??
      // No position, or the server's "unknown position" (2^64-1): a repeated (idempotent) write
      // answers so. The port's AppendResult needs one, so only then look the event up, on the
      // leader.
      (await this.positionAt(stream, nextRevision, toEventId(last.id)));
    return E.right({ nextRevision, position });
  }

  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    this.assertOpen();
    const { maxCount, eventTypes } = options;
    if (maxCount <= 0) return [];
    const found: RecordedEvent[] = [];
    // The last event seen, wanted or not: the next page starts there, and the server's start
    // position is inclusive, so it is skipped again.
    let cursor = options.after;
    let pageSize = firstReadAllPageSize(maxCount);
    for (;;) {
      const page = this.client.readAll({
        fromPosition: cursor === undefined ? START : toClientPosition(cursor),
        maxCount: pageSize,
        direction: FORWARDS,
      });
      let received = 0;
      await readUntil(page, (resolved) => {
        received += 1;
        const event = resolved.event;
        if (event === undefined) return undefined;
        const position = toKnownPosition(event.position);
        // Every event read from $all has a place in the log; paging cannot go on without it.
        if (position === undefined) {
          throw new Error(
            `event ${event.id} in ${event.streamId} came from $all without a known position`,
          );
        }
        if (!isAfter(position, cursor)) return undefined;
        cursor = position;
        // Filter first: system events do not carry Tidings metadata and must not be decoded.
        if (!isWantedEvent(event, eventTypes)) return undefined;
        const recorded = toRecordedEvent(resolved);
        if (recorded === undefined) return undefined;
        found.push(recorded);
        return found.length >= maxCount ? 'full' : undefined;
      });
      if (found.length >= maxCount) return found;
      // A short page means the end of the log.
      if (received < pageSize) return found;
      pageSize = nextReadAllPageSize(pageSize);
    }
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    // Backwards from the end, past EventStoreDB's own events (as many as there are: stats and
    // checkpoints can fill the tail), to the last Tidings event; the read stops there. An event
    // whose position the server does not know is passed over too: an earlier head only makes a
    // caller wait for less, an unknown one taken as real would be after everything.
    const page = this.client.readAll({ fromPosition: END, direction: BACKWARDS });
    return readUntil(page, (resolved) => {
      const event = resolved.event;
      if (event === undefined || !isWantedEvent(event, undefined)) return undefined;
      return toKnownPosition(event.position);
    });
  }

  subscribe(options: SubscribeOptions): Subscription {
    this.assertOpen();
    const subscription: EsdbSubscription = new EsdbSubscription(
      this.client,
      options,
      this.resubscribe,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Ends every open subscription, then closes the client's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    // A disposed client would quietly open a new connection; a closed store is a caller bug.
    if (this.closed) throw new Error('event store is closed');
  }

  /** The stream's last revision, or -1 when it does not exist. */
  private async lastRevision(stream: string): Promise<number> {
    try {
      const read = this.client.readStream(stream, {
        fromRevision: END,
        direction: BACKWARDS,
        maxCount: 1,
      });
      const revision = await readUntil(read, (resolved) =>
        resolved.event === undefined ? undefined : revisionToNumber(resolved.event.revision),
      );
      return revision ?? NO_STREAM_REVISION;
    } catch (error) {
      if (isStreamNotFoundError(error)) return NO_STREAM_REVISION;
      throw error;
    }
  }

  /**
   * The global position of the event at `revision`, which must be the event with `id`. Read on
   * the leader, which has every acknowledged write; a follower may not have it yet.
   */
  private async positionAt(stream: string, revision: number, id: string): Promise<Position> {
    let found: { readonly position: Position | undefined } | undefined;
    try {
      const read = this.client.readStream(stream, {
        fromRevision: BigInt(revision),
        direction: FORWARDS,
        maxCount: 1,
        requiresLeader: true,
      });
      found = await readUntil(read, (resolved) =>
        resolved.event?.id === id
          ? { position: toKnownPosition(resolved.event.position) }
          : undefined,
      );
    } catch (error) {
      if (!isStreamNotFoundError(error)) throw error;
    }
    if (found === undefined) {
      throw new Error(
        `appended to ${stream} up to revision ${revision}, but event ${id} is not there (stream deleted or truncated?)`,
      );
    }
    const { position } = found;
    if (position === undefined) {
      throw new Error(
        `appended event ${id} to ${stream}, but the server knows no log position for it`,
      );
    }
    return position;
  }
}

/**
 * One catch-up subscription to `$all`, turned from the client's push stream into the port's
 * pull-based batches through a `BatchQueue`, which pauses the gRPC stream when the consumer lags.
 *
 * A transient failure (see `isTransientSubscriptionError`) does not end it: it subscribes again
 * from the last event it queued, after a backoff, within the `ResubscribePolicy`. That matters
 * most on 22.x and 23.x, where a paused stream overflows the server's live buffer and is dropped
 * ("consumer too slow"), which would otherwise happen every time a consumer works through a big
 * batch. The consumer sees one uninterrupted feed with no repeats (the queue's cursor drops
 * anything not after it).
 */
class EsdbSubscription implements Subscription {
  private readonly queue: BatchQueue<RecordedEvent>;
  private readonly eventTypes: readonly string[] | undefined;
  /** The current server call; undefined while waiting to resubscribe and once stopped. */
  private source: AllStreamSubscription | undefined;
  /** The position of the last event queued (or the start position): where to resubscribe. */
  private cursor: Position | undefined;
  /** Transient failures since the last event received. */
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly client: EsdbClient,
    options: SubscribeOptions,
    private readonly policy: ResubscribePolicy,
    private readonly onStopped: () => void,
  ) {
    this.cursor = options.after;
    this.eventTypes = options.eventTypes;
    this.queue = new BatchQueue<RecordedEvent>({
      maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH,
      onPause: () => this.source?.pause(),
      onResume: () => this.source?.resume(),
      onClose: () => void this.stop(),
    });
    this.open();
  }

  [Symbol.asyncIterator](): AsyncIterator<readonly RecordedEvent[]> {
    return this.queue[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    this.queue.close();
    await this.stop();
  }

  private open(): void {
    const source = this.client.subscribeToAll({
      // Subscription start positions are exclusive on the server ("you will only receive the
      // next event after the subscribed position"); `receive` also drops anything not after it.
      fromPosition: this.cursor === undefined ? START : toClientPosition(this.cursor),
      // Filtering on the server saves shipping unwanted events; `receive` applies the same rule.
      filter:
        this.eventTypes === undefined
          ? excludeSystemEvents()
          : eventTypeFilter({ regex: eventTypeRegex(this.eventTypes) }),
    });
    this.source = source;
    // A consumer that is still behind must not be flooded by the new call either.
    if (this.queue.isPaused) source.pause();
    // Each listener checks it is still the current call: a replaced or cancelled one may still
    // emit. They stay attached, so a late error cannot crash the process.
    source.on('data', (resolved: AllStreamResolvedEvent) => {
      if (this.source === source) this.receive(resolved);
    });
    source.on('error', (error: Error) => {
      if (this.source === source) this.failed(source, error);
    });
    source.on('end', () => {
      if (this.source !== source) return;
      this.queue.end();
      void this.stop();
    });
  }

  private receive(resolved: AllStreamResolvedEvent): void {
    if (!this.queue.isOpen) return;
    this.failures = 0;
    try {
      const event = resolved.event;
      if (event === undefined || !isWantedEvent(event, this.eventTypes)) return;
      const position = toKnownPosition(event.position);
      if (position !== undefined && !isAfter(position, this.cursor)) return;
      // Throws for an event without a known position or Tidings metadata.
      const recorded = toRecordedEvent(resolved);
      if (recorded === undefined) return;
      this.queue.push(recorded);
      this.cursor = recorded.position;
    } catch (error) {
      // An event the port cannot represent stops the subscription rather than being skipped:
      // a consumer checkpointing past it would lose it for good.
      this.queue.fail(error);
      void this.stop();
    }
  }

  private failed(source: AllStreamSubscription, error: Error): void {
    if (!this.queue.isOpen) return;
    if (!isTransientSubscriptionError(error) || this.failures >= this.policy.maxAttempts) {
      this.queue.fail(error);
      void this.stop();
      return;
    }
    this.failures += 1;
    this.source = undefined;
    // The failed call is over on the server; cancel it here too, so nothing lingers.
    void source.unsubscribe().catch(() => undefined);
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        if (this.queue.isOpen && this.stopping === undefined) this.open();
      },
      resubscribeDelay(this.failures, this.policy),
    );
  }

  /** Cancels the gRPC call, once. Its failure is not reported: the subscription is over anyway. */
  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.retry);
      this.retry = undefined;
      const source = this.source;
      this.source = undefined;
      await source?.unsubscribe().catch(() => undefined);
    })().finally(() => {
      this.onStopped();
    });
    return this.stopping;
  }
}

/**
 * Opens an EventStoreDB-backed event store, e.g. `esdb://localhost:2113?tls=false`. The client
 * connects lazily, so a wrong address shows up at the first read or append.
 */
export const openEsdbEventStore = (
  connectionString: string,
  options: EsdbEventStoreOptions = {},
): Promise<EsdbEventStore> =>
  Promise.resolve().then(() => {
    const client = EventStoreDBClient.connectionString(connectionString);
    return new EsdbEventStore(client, { groups: client, ...options });
  });

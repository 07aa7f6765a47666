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
import { BatchQueue } from './batchQueue.js';
import {
  eventTypeRegex,
  firstReadAllPageSize,
  isAfter,
  isStreamNotFoundError,
  isWantedEventType,
  isWrongExpectedVersionError,
  nextReadAllPageSize,
  revisionToNumber,
  toClientExpectedRevision,
  toClientPosition,
  toEventData,
  toPosition,
  toRecordedEvent,
  toWrongExpectedRevision,
  wrongExpectedRevision,
} from './mapping.js';

/**
 * The part of the EventStoreDB client this adapter uses. Narrow on purpose, so tests can hand the
 * store a stand-in and so it is plain which server calls the adapter depends on.
 */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

const DEFAULT_MAX_BATCH = 1_000;

/**
 * The event store port on EventStoreDB (gRPC client v6, server 22.6 or later).
 *
 * Streams, revisions and `$all` positions are EventStoreDB's own, so the numbering the port
 * describes is native here. EventStoreDB's system events (types starting with `$`) are not part
 * of the port's global log and are left out of `readAll` and `subscribe`.
 */
export class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;

  constructor(private readonly client: EsdbClient) {}

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
      for await (const resolved of read) {
        const event = toRecordedEvent(resolved);
        if (event !== undefined) events.push(event);
      }
    } catch (error) {
      // The server reports an absent stream as an error while iterating, not as an empty read.
      if (isStreamNotFoundError(error)) return [];
      throw error;
    }
    return events;
  }

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

    let result;
    try {
      result = await this.client.appendToStream(stream, events.map(toEventData), {
        expectedRevision: toClientExpectedRevision(expectedRevision),
      });
    } catch (error) {
      if (isWrongExpectedVersionError(error)) {
        return E.left(toWrongExpectedRevision(error, stream, expectedRevision));
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
    // The server answers a write with one position for the whole write: its commit position,
    // twice (the server's request manager builds `WriteEventsCompleted` that way). For one event
    // that is the event's own position; for several, events share the commit position and the
    // answer is not known to be the last event's, which the port promises. A repeated
    // (idempotent) write may come back with no position at all. In those cases read the last
    // event back: one extra round trip, only for multi-event or repeated appends.
    const position =
      events.length === 1 && result.position !== undefined
        ? toPosition(result.position)
        : await this.positionAt(stream, nextRevision, last.id);
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
      let full = false;
      for await (const resolved of page) {
        received += 1;
        const event = resolved.event;
        if (event === undefined) continue;
        const position = toPosition(event.position);
        if (!isAfter(position, cursor)) continue;
        cursor = position;
        // Type check first: system events do not carry Tidings metadata and must not be decoded.
        if (!isWantedEventType(event.type, eventTypes)) continue;
        const recorded = toRecordedEvent(resolved);
        if (recorded === undefined) continue;
        found.push(recorded);
        if (found.length >= maxCount) {
          full = true;
          break;
        }
      }
      if (full) {
        // Leaving the loop early destroys the reader but leaves the gRPC call streaming the rest
        // of the page; cancel it. A failure to cancel does not change what was read.
        await page.cancel().catch(() => undefined);
        return found;
      }
      // A short page means the end of the log.
      if (received < pageSize) return found;
      pageSize = nextReadAllPageSize(pageSize);
    }
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    // Backwards from the end, past EventStoreDB's own system events (as many as there are: stats
    // and checkpoints can fill the tail), to the last Tidings event; the read stops there.
    const page = this.client.readAll({ fromPosition: END, direction: BACKWARDS });
    for await (const resolved of page) {
      const event = resolved.event;
      if (event === undefined || !isWantedEventType(event.type, undefined)) continue;
      await page.cancel().catch(() => undefined);
      return toPosition(event.position);
    }
    return undefined;
  }

  subscribe(options: SubscribeOptions): Subscription {
    this.assertOpen();
    const subscription: EsdbSubscription = new EsdbSubscription(this.client, options, () =>
      this.subscriptions.delete(subscription),
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
      for await (const resolved of read) {
        const event = resolved.event;
        if (event !== undefined) return revisionToNumber(event.revision);
      }
      return NO_STREAM_REVISION;
    } catch (error) {
      if (isStreamNotFoundError(error)) return NO_STREAM_REVISION;
      throw error;
    }
  }

  /** The global position of the event at `revision`, which must be the event with `id`. */
  private async positionAt(stream: string, revision: number, id: string): Promise<Position> {
    const [event] = await this.readStream(stream, { fromRevision: revision, maxCount: 1 });
    if (event?.id !== id) {
      throw new Error(
        `appended to ${stream} up to revision ${revision}, but event ${id} is not there (stream deleted or truncated?)`,
      );
    }
    return event.position;
  }
}

/**
 * One catch-up subscription to `$all`, turned from the client's push stream into the port's
 * pull-based batches through a `BatchQueue`, which pauses the gRPC stream when the consumer lags.
 */
class EsdbSubscription implements Subscription {
  private readonly queue: BatchQueue<RecordedEvent>;
  private readonly source: AllStreamSubscription;
  private readonly after: Position | undefined;
  private readonly eventTypes: readonly string[] | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    client: EsdbClient,
    options: SubscribeOptions,
    private readonly onStopped: () => void,
  ) {
    this.after = options.after;
    this.eventTypes = options.eventTypes;
    this.queue = new BatchQueue<RecordedEvent>({
      maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH,
      onPause: () => this.source.pause(),
      onResume: () => this.source.resume(),
      onClose: () => void this.stop(),
    });
    this.source = client.subscribeToAll({
      // Subscription start positions are exclusive on the server ("you will only receive the
      // next event after the subscribed position"); `receive` also drops anything not after it.
      fromPosition: options.after === undefined ? START : toClientPosition(options.after),
      // Filtering on the server saves shipping unwanted events; `receive` applies the same rule.
      filter:
        options.eventTypes === undefined
          ? excludeSystemEvents()
          : eventTypeFilter({ regex: eventTypeRegex(options.eventTypes) }),
    });
    this.source.on('data', (resolved: AllStreamResolvedEvent) => {
      this.receive(resolved);
    });
    // Stays attached after close, so a late error from the cancelled call cannot crash the process.
    this.source.on('error', (error: Error) => {
      this.queue.fail(error);
      void this.stop();
    });
    this.source.on('end', () => {
      this.queue.end();
      void this.stop();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<readonly RecordedEvent[]> {
    return this.queue[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    this.queue.close();
    await this.stop();
  }

  private receive(resolved: AllStreamResolvedEvent): void {
    if (!this.queue.isOpen) return;
    try {
      const event = resolved.event;
      if (event === undefined || !isWantedEventType(event.type, this.eventTypes)) return;
      if (!isAfter(toPosition(event.position), this.after)) return;
      const recorded = toRecordedEvent(resolved);
      if (recorded !== undefined) this.queue.push(recorded);
    } catch (error) {
      // An event the port cannot represent stops the subscription rather than being skipped:
      // a consumer checkpointing past it would lose it for good.
      this.queue.fail(error);
      void this.stop();
    }
  }

  /** Cancels the gRPC call, once. Its failure is not reported: the subscription is over anyway. */
  private stop(): Promise<void> {
    this.stopping ??= this.source
      .unsubscribe()
      .catch(() => undefined)
      .finally(() => {
        this.onStopped();
      });
    return this.stopping;
  }
}

/**
 * Opens an EventStoreDB-backed event store, e.g. `esdb://localhost:2113?tls=false`. The client
 * connects lazily, so a wrong address shows up at the first read or append.
 */
export const openEsdbEventStore = (connectionString: string): Promise<EsdbEventStore> =>
  Promise.resolve().then(
    () => new EsdbEventStore(EventStoreDBClient.connectionString(connectionString)),
  );

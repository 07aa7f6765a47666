import type {
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../domain/shared/eventStore.js';
import type { LogRead } from './eventRows.js';

/** Where one subscription stands in the log. */
interface Follower {
  cursor: number;
  stopped: boolean;
  wake?: () => void;
}

/**
 * Reads up to `maxCount` events after `after`, of `types` only when given: at once (the embedded
 * store) or as a promise (a database over the network, adapters/postgres/pgEventStore.ts).
 */
export type ReadAfter = (
  after: number,
  maxCount: number,
  types: readonly string[] | undefined,
) => LogRead | Promise<LogRead>;

const DEFAULT_BATCH = 1_000;

/**
 * A store's subscriptions (the embedded store's and PostgreSQL's): each reads on from its cursor while there is something to read, then
 * sleeps until {@link wakeAll} (an append through this store, or the database's notice of one), its
 * poll interval (in case another process appended and no notice came), or a close.
 */
export class Subscriptions {
  private readonly wakers = new Set<() => void>();
  private closed = false;
  /** Counts wake-ups, so a read that was in flight when one came does not sleep past it. */
  private wakes = 0;

  constructor(
    private readonly read: ReadAfter,
    private readonly pollIntervalMs: number,
  ) {}

  /** A subscription to the log after `options.after`, as the port describes it. */
  subscribe(options: SubscribeOptions): Subscription {
    const follower: Follower = { cursor: Number(options.after?.commit ?? 0n), stopped: false };
    const maxBatch = options.maxBatchSize ?? DEFAULT_BATCH;
    return {
      [Symbol.asyncIterator]: () => this.follow(follower, maxBatch, options.eventTypes),
      close: () => {
        follower.stopped = true;
        follower.wake?.();
        return Promise.resolve();
      },
    };
  }

  /** Wakes every sleeping subscription to read what is new. */
  wakeAll(): void {
    this.wakes += 1;
    for (const wake of [...this.wakers]) wake();
  }

  /** Ends every subscription: a sleeping one at once, a reading one when it next looks. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  private async *follow(
    follower: Follower,
    maxBatch: number,
    types: readonly string[] | undefined,
  ): AsyncGenerator<readonly RecordedEvent[]> {
    while (!follower.stopped && !this.closed) {
      const wakesBefore = this.wakes;
      const read = this.read(follower.cursor, maxBatch, types);
      const { events, scannedTo } = read instanceof Promise ? await read : read;
      follower.cursor = scannedTo;
      if (events.length > 0) yield events;
      else if (this.wakes === wakesBefore) await this.waitForNews(follower);
    }
  }

  /** Sleeps until {@link wakeAll}, the subscription's close, or the poll interval. */
  private waitForNews(follower: Follower): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        delete follower.wake;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      follower.wake = done;
      this.wakers.add(done);
    });
  }
}

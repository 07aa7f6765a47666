/**
 * A buffer between a push-based producer (a Node stream's `data` events, a callback API) and a
 * pull-based consumer (`for await`), that hands the consumer everything waiting as one batch.
 * Generic and free of EventStoreDB types, so other adapters can reuse it.
 */

/** Tuning and hooks of a `BatchQueue`. */
export interface BatchQueueOptions {
  /** Most items in one yielded batch; default 1,000. */
  readonly maxBatchSize?: number;
  /**
   * Buffered items at which the producer is asked to pause (`onPause`); default 4,096 or
   * `maxBatchSize`, whichever is larger, so a full batch can always build up.
   */
  readonly highWaterMark?: number;
  /**
   * Buffered items at or below which a paused producer is asked to resume (`onResume`); default
   * half the high-water mark, so the producer refills while the consumer works through the rest
   * rather than only after the buffer has run dry.
   */
  readonly lowWaterMark?: number;
  /** Asks the producer to stop pushing for now. Pushes that arrive anyway are kept. */
  readonly onPause?: () => void;
  /** Asks a paused producer to push again. */
  readonly onResume?: () => void;
  /** Called once when the consumer closes the queue (`close()` or leaving a `for await` early). */
  readonly onClose?: () => void;
}

type State =
  | { readonly kind: 'open' }
  | { readonly kind: 'ended' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'closed' };

type Next<T> =
  { readonly result: IteratorResult<readonly T[], undefined> } | { readonly error: unknown };

const DEFAULT_MAX_BATCH = 1_000;
const DEFAULT_HIGH_WATER = 4_096;

/**
 * A push-to-pull batching queue. The producer calls `push`, then `end` or `fail`; the single
 * consumer iterates it and receives arrays of up to `maxBatchSize` items, in push order.
 *
 * - Items pushed while the consumer waits are delivered together, one microtask later, so a
 *   burst from one stream chunk becomes one batch rather than many batches of one.
 * - `end` and `fail` let the consumer drain what is buffered first; `fail`'s error is thrown
 *   after that, once, and the iteration is then over.
 * - `close` is the consumer's way out: it drops the buffer and finishes the iteration at once.
 */
export class BatchQueue<T> implements AsyncIterable<readonly T[]> {
  private buffer: T[] = [];
  private state: State = { kind: 'open' };
  private paused = false;
  private iterated = false;
  private closeNotified = false;
  private waiter: { resolve: (next: Next<T>) => void } | undefined;
  private deliveryScheduled = false;
  /** Serialises `next()` calls, so overlapping calls are answered in order, one batch each. */
  private pulls: Promise<unknown> = Promise.resolve();

  private readonly maxBatchSize: number;
  private readonly highWaterMark: number;
  private readonly lowWaterMark: number;

  constructor(private readonly options: BatchQueueOptions = {}) {
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH;
    this.highWaterMark = options.highWaterMark ?? Math.max(DEFAULT_HIGH_WATER, this.maxBatchSize);
    this.lowWaterMark = options.lowWaterMark ?? Math.floor(this.highWaterMark / 2);
    if (!Number.isSafeInteger(this.maxBatchSize) || this.maxBatchSize < 1) {
      throw new RangeError(
        `maxBatchSize must be a positive integer, got ${String(options.maxBatchSize)}`,
      );
    }
    if (!Number.isSafeInteger(this.highWaterMark) || this.highWaterMark < 1) {
      throw new RangeError(
        `highWaterMark must be a positive integer, got ${String(options.highWaterMark)}`,
      );
    }
    if (
      !Number.isSafeInteger(this.lowWaterMark) ||
      this.lowWaterMark < 0 ||
      this.lowWaterMark >= this.highWaterMark
    ) {
      throw new RangeError(
        `lowWaterMark must be an integer in [0, highWaterMark), got ${String(options.lowWaterMark)}`,
      );
    }
  }

  /** Items buffered and not yet handed to the consumer. */
  get size(): number {
    return this.buffer.length;
  }

  /** Whether the producer has been asked to pause and not yet to resume. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Whether the queue still accepts items (neither ended, failed nor closed). */
  get isOpen(): boolean {
    return this.state.kind === 'open';
  }

  /** Adds an item; ignored once the queue has ended, failed or been closed. */
  push(item: T): void {
    if (this.state.kind !== 'open') return;
    this.buffer.push(item);
    if (!this.paused && this.buffer.length >= this.highWaterMark) {
      this.paused = true;
      this.options.onPause?.();
    }
    this.scheduleDelivery();
  }

  /** The producer has no more items; the consumer drains the buffer, then the iteration ends. */
  end(): void {
    if (this.state.kind !== 'open') return;
    this.state = { kind: 'ended' };
    this.scheduleDelivery();
  }

  /** The producer failed; the consumer drains the buffer, then receives `error`. */
  fail(error: unknown): void {
    if (this.state.kind !== 'open') return;
    this.state = { kind: 'failed', error };
    this.scheduleDelivery();
  }

  /** Ends the iteration now, dropping buffered items, and calls `onClose` (once). */
  close(): void {
    if (this.state.kind !== 'closed') {
      this.state = { kind: 'closed' };
      this.buffer = [];
      this.deliver();
    }
    if (!this.closeNotified) {
      this.closeNotified = true;
      this.options.onClose?.();
    }
  }

  /** The queue has a single consumer; a second iteration would silently split the items. */
  [Symbol.asyncIterator](): AsyncIterator<readonly T[], undefined> {
    if (this.iterated) throw new Error('a BatchQueue can be iterated only once');
    this.iterated = true;
    return {
      next: () => {
        const pull = this.pulls.then(
          () => this.pull(),
          () => this.pull(),
        );
        this.pulls = pull;
        return pull;
      },
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private async pull(): Promise<IteratorResult<readonly T[], undefined>> {
    const next =
      this.take() ?? (await new Promise<Next<T>>((resolve) => (this.waiter = { resolve })));
    if ('error' in next) throw next.error;
    return next.result;
  }

  /** The answer to a pull if there is one now; `undefined` means wait. */
  private take(): Next<T> | undefined {
    if (this.state.kind === 'closed') return { result: { done: true, value: undefined } };
    if (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatchSize);
      if (this.paused && this.buffer.length <= this.lowWaterMark) {
        this.paused = false;
        this.options.onResume?.();
      }
      return { result: { done: false, value: batch } };
    }
    switch (this.state.kind) {
      case 'open':
        return undefined;
      case 'ended':
        this.state = { kind: 'closed' };
        return { result: { done: true, value: undefined } };
      case 'failed': {
        // Deliver the error once; the iteration is over after it.
        const { error } = this.state;
        this.state = { kind: 'closed' };
        return { error };
      }
    }
  }

  private scheduleDelivery(): void {
    if (this.waiter === undefined || this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    queueMicrotask(() => {
      this.deliveryScheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    const next = this.take();
    if (next === undefined) return;
    this.waiter = undefined;
    waiter.resolve(next);
  }
}

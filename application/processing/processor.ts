import type { EventStore, Position, RecordedEvent } from '../../domain/shared/eventStore.js';
import { comparePositions } from '../../domain/shared/eventStore.js';
import type { Checkpoints } from './checkpoints.js';
import type { ReadModelDb } from '../../projections/readModelDb.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { Projection } from '../../projections/projection.js';

/**
 * A named consumer of the log with a durable checkpoint. `processBatch` must leave the checkpoint
 * at the batch's last position once the batch's effects are durable; if the process dies before,
 * the batch is seen again (at-least-once), so every effect must be idempotent.
 */
export interface Processor {
  readonly name: string;
  readonly eventTypes?: readonly string[];
  processBatch(batch: readonly RecordedEvent[]): Promise<void>;
  /**
   * True when `processBatch` saves the checkpoint itself (a projection, in the transaction of its
   * rows); otherwise the runner saves it after each batch.
   */
  readonly savesCheckpoint?: boolean;
}

/**
 * A processor with side effects outside the read-model database (issuing commands, calling
 * channels). Each event is handled in order, then the checkpoint moves once per batch.
 */
export interface Reactor {
  readonly name: string;
  readonly eventTypes?: readonly string[];
  handle(event: RecordedEvent): Promise<void>;
}

/** Turns a projection into a processor that commits rows and checkpoint in one transaction. */
export const projectionProcessor = (
  db: ReadModelDb,
  checkpoints: Checkpoints,
  projection: Projection,
): Processor => {
  const apply = projection.bind(db);
  const commit = db.transaction((batch: readonly RecordedEvent[]) => {
    for (const event of batch) apply(event);
    const last = batch.at(-1);
    if (last !== undefined) checkpoints.save(projection.name, last.position);
  });
  return {
    name: projection.name,
    savesCheckpoint: true,
    ...(projection.eventTypes === undefined ? {} : { eventTypes: projection.eventTypes }),
    processBatch: (batch) => {
      commit(batch);
      return Promise.resolve();
    },
  };
};

/** Turns a reactor into a processor: handle each event in order (the runner then saves the checkpoint). */
export const reactorProcessor = (reactor: Reactor): Processor => ({
  name: reactor.name,
  ...(reactor.eventTypes === undefined ? {} : { eventTypes: reactor.eventTypes }),
  processBatch: async (batch) => {
    for (const event of batch) await reactor.handle(event);
  },
});

export interface RunnerOptions {
  /** First pause after a failed batch, doubled up to `maxRetryDelayMs`; default 100 ms. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly maxBatchSize?: number;
  /** Called with each batch once it is done (e.g. to wake a worker that reads this read model). */
  readonly onBatch?: (batch: readonly RecordedEvent[]) => void;
  /**
   * For processors that do not save their own checkpoint: save it at most this often, in ms
   * (default 200; 0 saves after every batch). Each save is a commit of its own; batches processed
   * after the last save are seen again after a crash, which at-least-once processing allows.
   * The latest position is always saved when the runner stops.
   */
  readonly checkpointIntervalMs?: number;
}

/**
 * Runs a processor: subscribes after its checkpoint, hands it batches, and when a batch fails,
 * logs, waits (exponential backoff) and resubscribes from the last saved checkpoint, so nothing is
 * skipped. `stop()` lets the batch in hand finish, then ends.
 */
export class ProcessorRunner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private current: { close(): Promise<void> } | undefined;
  private processed: Position | undefined;
  /** A finished position whose checkpoint save is deferred (see `checkpointIntervalMs`). */
  private unsaved: Position | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSave = Number.NEGATIVE_INFINITY;
  /** A position up to which the log holds nothing of this runner's types after `processed`. */
  private quietTo: Position | undefined;
  private readonly waiters = new Set<() => void>();
  private failures = 0;
  private lastFailureAt = 0;
  /** Ends the wait before a retry early (a stop does not sit out a 30 s backoff). */
  private endPause: (() => void) | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly checkpoints: Checkpoints,
    readonly processor: Processor,
    private readonly logger: Logger,
    private readonly options: RunnerOptions = {},
  ) {}

  get name(): string {
    return this.processor.name;
  }

  /** The event types its processor handles; all when undefined. */
  get eventTypes(): readonly string[] | undefined {
    return this.processor.eventTypes;
  }

  /** The last position this runner has finished (undefined before its first event). */
  get position(): Position | undefined {
    return this.processed;
  }

  /**
   * How far this runner is known to be current: its last position, or a later one up to which the
   * log was found to hold nothing of its types (by a `waitFor`).
   */
  get reached(): Position | undefined {
    const quiet = this.quietTo;
    const seen = this.processed;
    if (quiet === undefined) return seen;
    return seen === undefined || comparePositions(quiet, seen) > 0 ? quiet : seen;
  }

  /**
   * Consecutive failed attempts at the current batch; 0 when healthy. A runner that has gone a
   * whole retry pause and 5 s more without failing counts as healthy again even before its next
   * batch: a read model that recovered from an outage may have nothing to process for a long time.
   */
  get consecutiveFailures(): number {
    if (this.failures === 0) return 0;
    const quietMs = performance.now() - this.lastFailureAt;
    return quietMs > (this.options.maxRetryDelayMs ?? 30_000) + 5_000 ? 0 : this.failures;
  }

  get isRunning(): boolean {
    return this.running !== undefined && !this.stopping;
  }

  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.processed = this.checkpoints.load(this.name);
    this.running = this.loop();
  }

  /** Stops after the batch in hand; resolves when the runner has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.endPause?.();
    await this.current?.close();
    await this.running;
    this.flushCheckpoint();
    this.running = undefined;
    this.wakeWaiters();
  }

  /**
   * Resolves once the runner has processed every event of its types up to `position`, or has
   * stopped. Events of other types do not count, so waiting for the log's head works even when
   * the last events are not this processor's.
   */
  async waitFor(position: Position): Promise<void> {
    for (;;) {
      if (this.running === undefined || this.stopping) return;
      const seen = this.processed;
      if (seen !== undefined && comparePositions(seen, position) >= 0) return;
      // Nothing of this runner's types lies between `seen` and `quietTo` (found by an earlier
      // look; the log only grows at its end), so the search starts after whichever is later.
      const quiet = this.quietTo;
      if (quiet !== undefined && comparePositions(quiet, position) >= 0) return;
      const from =
        quiet !== undefined && (seen === undefined || comparePositions(quiet, seen) > 0)
          ? quiet
          : seen;
      const [next] = await this.store.readAll({
        ...(from === undefined ? {} : { after: from }),
        maxCount: 1,
        ...(this.processor.eventTypes === undefined
          ? {}
          : { eventTypes: this.processor.eventTypes }),
      });
      if (next === undefined || comparePositions(next.position, position) > 0) {
        if (this.quietTo === undefined || comparePositions(position, this.quietTo) > 0) {
          this.quietTo = position;
        }
        return;
      }
      // Progress made while reading: look again rather than wait for a wake-up that already happened.
      if (this.processed !== seen) continue;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private async loop(): Promise<void> {
    let delay = this.options.retryDelayMs ?? 100;
    while (!this.stopping) {
      this.flushCheckpoint();
      const after = this.checkpoints.load(this.name);
      const subscription = this.store.subscribe({
        ...(after === undefined ? {} : { after }),
        ...(this.processor.eventTypes === undefined
          ? {}
          : { eventTypes: this.processor.eventTypes }),
        maxBatchSize: this.options.maxBatchSize ?? 1_000,
      });
      this.current = subscription;
      try {
        for await (const batch of subscription) {
          await this.processor.processBatch(batch);
          const last = batch.at(-1);
          if (last !== undefined && this.processor.savesCheckpoint !== true) {
            this.saveCheckpoint(last.position);
          }
          if (last !== undefined) this.advance(last.position);
          this.failures = 0;
          this.options.onBatch?.(batch);
          delay = this.options.retryDelayMs ?? 100;
          if (this.isStopping()) break;
        }
      } catch (error) {
        this.failures += 1;
        this.lastFailureAt = performance.now();
        this.logger.error('processor batch failed; will retry from its checkpoint', {
          processor: this.name,
          attempt: this.failures,
          retryInMs: delay,
          error,
        });
        await subscription.close();
        await this.pause(delay);
        delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 30_000);
        continue;
      }
      await subscription.close();
    }
  }

  /** Saves `position` now, or soon if a save was made less than the interval ago. */
  private saveCheckpoint(position: Position): void {
    const interval = this.options.checkpointIntervalMs ?? 200;
    const now = performance.now();
    if (interval <= 0 || now - this.lastSave >= interval) {
      this.unsaved = position;
      this.flushCheckpoint();
      return;
    }
    this.unsaved = position;
    this.saveTimer ??= setTimeout(
      () => {
        this.saveTimer = undefined;
        this.flushCheckpoint();
      },
      interval - (now - this.lastSave),
    );
  }

  /** Saves the position not saved yet, if any. */
  private flushCheckpoint(): void {
    if (this.saveTimer !== undefined) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (this.unsaved === undefined) return;
    this.checkpoints.save(this.name, this.unsaved);
    this.unsaved = undefined;
    this.lastSave = performance.now();
  }

  /** Waits `ms` before a retry, or until `stop()`. */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        done();
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      this.endPause = done;
    });
  }

  /** Read through a method: `stop()` flips the flag while the loop awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }

  private advance(position: Position): void {
    this.processed = position;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

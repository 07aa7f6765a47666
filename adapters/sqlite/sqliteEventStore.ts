import type * as E from 'fp-ts/lib/Either.js';
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
import { chainUnchainedEvents } from './chainMigration.js';
import { SqliteDataErasure } from './dataErasure.js';
import type { SqliteDatabase, WalSync } from './database.js';
import { toPosition, type LogRead } from './eventRows.js';
import { ForeignWriteDetector } from './foreignWrites.js';
import { GroupCommit, type Committed, type GroupCommitStats } from './groupCommit.js';
import { LogReader } from './logReader.js';
import { RecentWindow } from './recentWindow.js';
import { StreamAppender } from './streamAppender.js';
import { StreamHeads } from './streamHeads.js';
import { Subscriptions } from './subscriptions.js';
import { TypeIndex } from './typeIndex.js';
import { WalSyncQueue } from './walSyncQueue.js';

export interface SqliteEventStoreOptions {
  /**
   * How often a subscription that found nothing new looks again, in ms, in case another process
   * appended to the same file. Appends made through this store wake subscriptions at once.
   */
  readonly pollIntervalMs?: number;
  /**
   * How many of the latest events appended through this store are kept in memory for
   * subscriptions and reads of the log's tail; default 20,000 (0 turns the window off).
   */
  readonly recentEvents?: number;
  /**
   * Makes commits durable off the event loop (see `walSyncOf`): appends are acknowledged, and
   * their events shown to readers and subscriptions, only once a sync after their commit has
   * finished. Without it a commit is as durable as the connection's `synchronous` setting makes it.
   */
  readonly walSync?: WalSync;
  /**
   * False appends without the hash chain (no digest, no hash): only the benchmark does this, to
   * measure what the chain costs. Such a log never verifies: only the events an older build wrote
   * are chained after the fact (adapters/sqlite/chainMigration.ts).
   */
  readonly chain?: boolean;
}

const DEFAULT_POLL_MS = 1_000;
const DEFAULT_RECENT = 20_000;
/** Streams whose last revision the store remembers. */
const STREAM_HEADS = 100_000;
const NO_EVENTS: Promise<readonly RecordedEvent[]> = Promise.resolve(Object.freeze([]));

/**
 * The embedded event store on SQLite; the log is ordered by an integer position that serves as
 * both halves of the port's commit/prepare pair. It composes one module per mechanism:
 * - group commit (groupCommit.ts, streamAppender.ts): appends arriving while the event loop is
 *   busy share one transaction, each in its own savepoint;
 * - WAL sync (walSyncQueue.ts): with a `walSync`, appends are answered and their events shown
 *   once a sync after their commit has finished;
 * - the recent window (recentWindow.ts): subscriptions that keep up read the tail from memory;
 * - the type index (typeIndex.ts, logReader.ts): filtered reads skip types with nothing new;
 * - stream heads (streamHeads.ts): "anything after revision r?" without reading the stream;
 * - foreign-write detection (foreignWrites.ts): the memory above is trusted only while nobody
 *   else has written to the file.
 */
export class SqliteEventStore implements EventStore {
  private closed = false;
  private readonly log: LogReader;
  private readonly types: TypeIndex;
  private readonly streamHeads = new StreamHeads(STREAM_HEADS);
  private readonly foreign: ForeignWriteDetector;
  private readonly recent: RecentWindow;
  private readonly subscriptions: Subscriptions;
  private readonly acks: WalSyncQueue;
  private readonly groupCommit: GroupCommit;

  /**
   * How many events written before the log had its hash chain were chained when this store was
   * opened (once per data folder; 0 afterwards): the server logs it.
   */
  readonly chainedAtOpen: number;

  constructor(db: SqliteDatabase, options: SqliteEventStoreOptions = {}) {
    this.chainedAtOpen = chainUnchainedEvents(db);
    this.types = new TypeIndex(db);
    this.log = new LogReader(db, this.types);
    const head = (): number => this.log.head();
    this.foreign = new ForeignWriteDetector(head, () => {
      this.streamHeads.clear();
    });
    this.recent = new RecentWindow(options.recentEvents ?? DEFAULT_RECENT);
    this.subscriptions = new Subscriptions(
      (after, maxCount, types) => this.readAfter(after, maxCount, types),
      options.pollIntervalMs ?? DEFAULT_POLL_MS,
    );
    this.acks = new WalSyncQueue(options.walSync, () => {
      this.subscriptions.wakeAll();
    });
    const appender = new StreamAppender(
      db,
      (type, position) => {
        this.types.written(type, position);
      },
      options.chain ?? true,
    );
    this.groupCommit = new GroupCommit(db, appender, head, (committed) => {
      this.committed(committed);
    });
    this.erasure = new SqliteDataErasure(db, (position, data) => {
      this.recent.rewritten(position, data);
    });
  }

  /** Finding and rewriting a person's events for an erasure (docs/audit.md, "Erasure"). */
  readonly erasure: SqliteDataErasure;

  /** Group-commit counters: transactions committed and appends they carried. */
  get stats(): GroupCommitStats {
    return this.groupCommit.stats;
  }

  readStream(stream: string, options: ReadStreamOptions = {}): Promise<readonly RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    // "Anything after revision r?" for a stream whose last revision this store knows: the usual
    // question of a cached aggregate state, answered without reading the stream.
    const known = from > 0 ? this.streamHeads.get(stream) : undefined;
    if (known !== undefined && known < from && this.foreign.nothingForeign()) return NO_EVENTS;
    const events = this.log.readStream(stream, from, options.maxCount ?? -1);
    const last = events.at(-1);
    if (last !== undefined && options.maxCount === undefined)
      this.streamHeads.set(stream, last.revision);
    return Promise.resolve(events);
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<E.Either<WrongExpectedRevision, AppendResult>> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    if (events.length === 0)
      return Promise.reject(new Error('appendToStream needs at least one event'));
    return this.groupCommit.enqueue({ stream, events, options });
  }

  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return Promise.resolve(
      this.readAfter(Number(options.after?.commit ?? 0n), options.maxCount, options.eventTypes)
        .events,
    );
  }

  headPosition(): Promise<Position | undefined> {
    const head = Math.min(this.log.head(), this.acks.visibleTo());
    return Promise.resolve(head === 0 ? undefined : toPosition(head));
  }

  subscribe(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  /**
   * Resolves once every append queued before the call has been committed (and synced, with a
   * {@link SqliteEventStoreOptions.walSync}).
   */
  async close(): Promise<void> {
    this.groupCommit.flushNow();
    this.closed = true;
    this.subscriptions.close();
    await this.acks.close();
  }

  /** Up to `maxCount` events after `after`: from the recent window if it can, else the database. */
  private readAfter(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): LogRead {
    return (
      this.readRecent(after, maxCount, types) ??
      this.log.readAfter(after, maxCount, types, this.acks.visibleTo())
    );
  }

  /**
   * {@link readAfter} from the recent window, when it covers everything after `after` up to the
   * log's head; undefined otherwise.
   */
  private readRecent(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): LogRead | undefined {
    const coveredTo = this.recent.coveredTo(after);
    if (coveredTo === undefined || coveredTo !== this.foreign.knownHead) return undefined;
    if (!this.foreign.nothingForeign()) return undefined;
    return this.recent.read(after, maxCount, types, Math.min(coveredTo, this.acks.visibleTo()));
  }

  /** Brings what the store keeps in memory up to a commit, then has its appends answered. */
  private committed(committed: Committed): void {
    const { headBefore, headAfter, written } = committed;
    this.types.committed(headBefore, headAfter);
    this.recent.remember(written, headBefore, headAfter);
    this.foreign.committed(headBefore, headAfter);
    for (const event of written) this.streamHeads.set(event.stream, event.revision);
    this.acks.acknowledge(committed);
  }
}

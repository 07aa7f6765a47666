import * as E from 'fp-ts/lib/Either.js';
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
import type { SqliteDatabase, WalSync } from './database.js';

interface EventRow {
  readonly position: number;
  readonly event_id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly options: AppendOptions;
  readonly resolve: (outcome: E.Either<WrongExpectedRevision, AppendResult>) => void;
  readonly reject: (error: unknown) => void;
}

/** Where one subscription stands in the log. */
interface Follower {
  cursor: number;
  stopped: boolean;
  wake?: () => void;
}

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
}

/** A committed group of appends waiting for the WAL sync that makes it durable. */
interface Committed {
  readonly batch: readonly PendingAppend[];
  readonly outcomes: readonly AppendOutcome[];
  /** Log head before this commit: its events are the positions after it. */
  readonly headBefore: number;
}

type AppendOutcome = { ok: E.Either<WrongExpectedRevision, AppendResult> } | { error: unknown };

const DEFAULT_POLL_MS = 1_000;
const DEFAULT_RECENT = 20_000;
/** Streams whose last revision the store remembers. */
const STREAM_HEADS = 100_000;
const NO_EVENTS: Promise<readonly RecordedEvent[]> = Promise.resolve(Object.freeze([]));
const DEFAULT_BATCH = 1_000;

/**
 * The embedded event store on SQLite. Appends that arrive while the event loop is busy are
 * committed together in one transaction (group commit), each inside its own savepoint so one
 * append's failure does not undo another's; the log is ordered by an integer position that
 * serves as both halves of the port's commit/prepare pair.
 */
export class SqliteEventStore implements EventStore {
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private readonly wakers = new Set<() => void>();
  private closed = false;
  private commits = 0;
  private appends = 0;
  private readonly pollIntervalMs: number;
  /**
   * The last position of each event type in the log, known up to {@link typesKnownTo}: a filtered
   * read skips the types with nothing after its start, so asking "anything new for me?" costs
   * next to nothing for a processor whose types are rare.
   */
  private readonly lastOfType = new Map<string, number>();
  private typesKnownTo: number | undefined;
  /**
   * The last filtered read per list of types, valid while the head has not moved (the log only
   * grows): every request waiting for its write to reach a read model asks the same question
   * after each batch of that read model, and only the first of them needs the database.
   */
  private readonly lastFiltered = new WeakMap<readonly string[], FilteredRead>();

  /**
   * The latest events appended through this store, in position order, covering exactly the
   * positions (recentFrom, recentTo]: every subscription that keeps up reads the new events from
   * here instead of querying and parsing them once per subscription. Only used while the log's
   * head is `recentTo`, i.e. while nothing but this store has written to the file.
   */
  private recent: RecordedEvent[] = [];
  private recentFrom = 0;
  private recentTo: number | undefined;
  /** Positions of each type in the window, ascending: filtered reads jump to their events. */
  private recentByType = new Map<string, number[]>();
  private readonly recentCapacity: number;
  /**
   * The last revision of recently written or read streams, exact while {@link knownHead} is the
   * log's head (nothing foreign written); bounded, least recently noted dropped first.
   */
  private readonly streamHeads = new StreamHeads(STREAM_HEADS);
  private knownHead: number | undefined;
  /** The answer of {@link nothingForeign} for the current synchronous stretch. */
  private foreignCheck: boolean | undefined;

  private readonly walSync: WalSync | undefined;
  /** Committed, not yet synced: waiting for the next sync. */
  private unsynced: Committed[] = [];
  /** Committed and being synced now. */
  private syncing: Committed[] | undefined;
  private readonly synced = new Set<() => void>();

  private readonly statements;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteEventStoreOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.recentCapacity = options.recentEvents ?? DEFAULT_RECENT;
    this.walSync = options.walSync;
    this.statements = {
      lastRevision: db.prepare<[string], { revision: number }>(
        'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      ),
      byEventId: db.prepare<[string], { stream: string; revision: number; position: number }>(
        'SELECT stream, revision, position FROM events WHERE event_id = ?',
      ),
      insert: db.prepare<[string, string, number, string, string, string]>(
        'INSERT INTO events (event_id, stream, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      readStream: db.prepare<[string, number, number], EventRow>(
        'SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      readAll: db.prepare<[number, number, number], EventRow>(
        'SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?',
      ),
      positionsOfType: db
        .prepare<[string, number, number, number], number>(
          'SELECT position FROM events WHERE type = ? AND position > ? AND position <= ? ORDER BY position LIMIT ?',
        )
        .pluck(),
      byPosition: db.prepare<[number], EventRow>('SELECT * FROM events WHERE position = ?'),
      readWindow: db.prepare<[number, number], EventRow>(
        'SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position',
      ),
      firstType: db.prepare<[], string>('SELECT type FROM events ORDER BY type LIMIT 1').pluck(),
      nextType: db
        .prepare<[string], string>('SELECT type FROM events WHERE type > ? ORDER BY type LIMIT 1')
        .pluck(),
      lastOfType: db
        .prepare<[string, number], number>(
          'SELECT position FROM events WHERE type = ? AND position <= ? ORDER BY position DESC LIMIT 1',
        )
        .pluck(),
      // NOT INDEXED: walk the new rows by position, never the whole type index.
      lastOfTypesIn: db.prepare<[number, number], { type: string; last: number }>(
        'SELECT type, max(position) AS last FROM events NOT INDEXED WHERE position > ? AND position <= ? GROUP BY type',
      ),
      head: db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events'),
    };
  }

  /** Group-commit counters: transactions committed and appends they carried. */
  get stats(): { readonly commits: number; readonly appends: number } {
    return { commits: this.commits, appends: this.appends };
  }

  readStream(stream: string, options: ReadStreamOptions = {}): Promise<readonly RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    // "Anything after revision r?" for a stream whose last revision this store knows: the usual
    // question of a cached aggregate state, answered without reading the stream.
    const known = from > 0 ? this.streamHeads.get(stream) : undefined;
    if (known !== undefined && known < from && this.nothingForeign()) return NO_EVENTS;
    const rows = this.statements.readStream.all(stream, from, options.maxCount ?? -1);
    const last = rows.at(-1);
    if (last !== undefined && options.maxCount === undefined)
      this.streamHeads.set(stream, last.revision);
    return Promise.resolve(rows.map(toRecordedEvent));
  }

  /**
   * True while nobody but this store has written to the file since its last commit (another
   * process, or another store object on the same file); the stream heads are forgotten otherwise.
   */
  private nothingForeign(): boolean {
    // Several reads in one synchronous stretch (a processor loading three streams at once) share
    // one look; it is forgotten before any other code (a commit of another connection's callback
    // included) can run, so a read after a foreign commit always sees it.
    if (this.foreignCheck !== undefined) return this.foreignCheck;
    const head = this.statements.head.get()?.head ?? 0;
    this.foreignCheck = head === this.knownHead;
    if (!this.foreignCheck) this.streamHeads.clear();
    queueMicrotask(() => {
      this.foreignCheck = undefined;
    });
    return this.foreignCheck;
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<E.Either<WrongExpectedRevision, AppendResult>> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    if (events.length === 0)
      return Promise.reject(new Error('appendToStream needs at least one event'));
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, events, options, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flush();
        });
      }
    });
  }

  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return Promise.resolve(
      this.readAfter(Number(options.after?.commit ?? 0n), options.maxCount, options.eventTypes)
        .events,
    );
  }

  headPosition(): Promise<Position | undefined> {
    const head = Math.min(this.statements.head.get()?.head ?? 0, this.visibleTo());
    return Promise.resolve(head === 0 ? undefined : toPosition(head));
  }

  /**
   * The last position readers may see: everything, unless commits of this store wait for their
   * WAL sync — events become visible when they are durable, as their appends are acknowledged.
   */
  private visibleTo(): number {
    const first = this.syncing?.[0] ?? this.unsynced[0];
    return first === undefined ? Number.MAX_SAFE_INTEGER : first.headBefore;
  }

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

  private async *follow(
    follower: Follower,
    maxBatch: number,
    types: readonly string[] | undefined,
  ): AsyncGenerator<readonly RecordedEvent[]> {
    while (!follower.stopped && !this.closed) {
      const { events, scannedTo } = this.readAfter(follower.cursor, maxBatch, types);
      follower.cursor = scannedTo;
      if (events.length > 0) yield events;
      else await this.waitForNews(follower);
    }
  }

  /** Sleeps until an append through this store, `close()`, or the poll interval. */
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

  /**
   * Resolves once every append queued before the call has been committed (and synced, with a
   * {@link SqliteEventStoreOptions.walSync}).
   */
  async close(): Promise<void> {
    if (this.flushScheduled) this.flush();
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    while (this.syncing !== undefined || this.unsynced.length > 0) {
      await new Promise<void>((resolve) => this.synced.add(resolve));
    }
    this.walSync?.close();
  }

  /**
   * Reads up to `maxCount` events after `after`. With a type filter it finds the positions of
   * each wanted type through the (type, position) index, so a processor that waits for a rare
   * event type never scans the stretch of the log in between, and reports how far it looked
   * (the head, unless the batch is full), so a caller moves past events it does not want.
   */
  private readAfter(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): { events: RecordedEvent[]; scannedTo: number } {
    const fromWindow = this.readRecent(after, maxCount, types);
    if (fromWindow !== undefined) return fromWindow;
    const visible = this.visibleTo();
    if (types === undefined) {
      const rows = this.statements.readAll.all(after, visible, maxCount);
      const last = rows.at(-1);
      return { events: rows.map(toRecordedEvent), scannedTo: last?.position ?? after };
    }
    // One synchronous pass on the only connection of this process: the head and the reads agree.
    const head = Math.min(this.statements.head.get()?.head ?? 0, visible);
    if (head <= after) return { events: [], scannedTo: after };
    const memo = this.lastFiltered.get(types);
    if (memo?.head === head && memo.after === after && memo.maxCount === maxCount) {
      return { events: [...memo.events], scannedTo: memo.scannedTo };
    }
    this.learnTypes(head);
    const positions: number[] = [];
    for (const type of new Set(types)) {
      if ((this.lastOfType.get(type) ?? 0) <= after) continue;
      positions.push(...this.statements.positionsOfType.all(type, after, head, maxCount));
    }
    positions.sort((a, b) => a - b);
    if (positions.length > maxCount) positions.length = maxCount;
    const events: RecordedEvent[] = [];
    const first = positions[0] ?? 0;
    const last = positions.at(-1) ?? 0;
    if (last - first < 2 * positions.length) {
      // Dense (most events are wanted, as in a rebuild): one range read beats a lookup per row.
      // Every wanted event in the range is one of `positions`, so filtering by type is exact.
      const wanted = new Set(types);
      for (const row of this.statements.readWindow.iterate(first - 1, last)) {
        if (wanted.has(row.type)) events.push(toRecordedEvent(row));
      }
    } else {
      for (const position of positions) {
        const row = this.statements.byPosition.get(position);
        if (row !== undefined) events.push(toRecordedEvent(row));
      }
    }
    const scannedTo = positions.length === maxCount ? (positions.at(-1) ?? head) : head;
    this.lastFiltered.set(types, { after, maxCount, head, events: [...events], scannedTo });
    return { events, scannedTo };
  }

  /**
   * {@link readAfter} from the in-memory window of recent events, when it covers everything after
   * `after` up to the log's head; undefined otherwise (the caller then reads the database).
   */
  private readRecent(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): { events: RecordedEvent[]; scannedTo: number } | undefined {
    const recentTo = this.recentTo;
    if (recentTo === undefined || after < this.recentFrom || recentTo !== this.knownHead) {
      return undefined;
    }
    if (!this.nothingForeign()) return undefined;
    const to = Math.min(recentTo, this.visibleTo());
    const events: RecordedEvent[] = [];
    if (after >= to) return { events, scannedTo: after };
    const at = (position: number): RecordedEvent | undefined =>
      this.recent[position - this.recentFrom - 1];
    if (types === undefined) {
      // Positions in the window are consecutive, so the first one after `after` is found directly.
      const last = Math.min(to, after + maxCount);
      for (let position = after + 1; position <= last; position += 1) {
        const event = at(position);
        if (event !== undefined) events.push(event);
      }
      return { events, scannedTo: last };
    }
    const positions: number[] = [];
    for (const type of new Set(types)) {
      const ofType = this.recentByType.get(type);
      if (ofType === undefined) continue;
      // The first `maxCount` of each type: together they hold the first `maxCount` of all.
      const start = firstAfter(ofType, after);
      const end = Math.min(ofType.length, start + maxCount);
      for (let index = start; index < end; index += 1) {
        const position = ofType[index] ?? 0;
        if (position > to) break;
        positions.push(position);
      }
    }
    if (types.length > 1) positions.sort((a, b) => a - b);
    if (positions.length > maxCount) positions.length = maxCount;
    for (const position of positions) {
      const event = at(position);
      if (event !== undefined) events.push(event);
    }
    const scannedTo = positions.length === maxCount ? (positions.at(-1) ?? to) : to;
    return { events, scannedTo };
  }

  /**
   * Adds a committed batch to the window, which must continue it exactly (positions
   * `headBefore + 1 … headAfter`, none missing); otherwise the window restarts from this batch.
   */
  private remember(
    appended: readonly RecordedEvent[],
    headBefore: number,
    headAfter: number,
  ): void {
    if (this.recentCapacity === 0) return;
    const consecutive =
      appended.length === headAfter - headBefore &&
      appended.every((event, index) => Number(event.position.commit) === headBefore + index + 1);
    if (!consecutive) {
      this.recent = [];
      this.recentByType = new Map();
      this.recentTo = undefined;
      return;
    }
    if (this.recentTo !== headBefore) {
      this.recent = [];
      this.recentByType = new Map();
      this.recentFrom = headBefore;
    }
    for (const event of appended) {
      this.recent.push(event);
      const ofType = this.recentByType.get(event.type);
      if (ofType === undefined) this.recentByType.set(event.type, [Number(event.position.commit)]);
      else ofType.push(Number(event.position.commit));
    }
    this.recentTo = headAfter;
    if (this.recent.length > 2 * this.recentCapacity) {
      const drop = this.recent.length - this.recentCapacity;
      this.recent = this.recent.slice(drop);
      this.recentFrom += drop;
      for (const [type, positions] of this.recentByType) {
        const kept = positions.slice(firstAfter(positions, this.recentFrom));
        if (kept.length === 0) this.recentByType.delete(type);
        else this.recentByType.set(type, kept);
      }
    }
  }

  /** Brings {@link lastOfType} up to `head`: once from the type index, then from the new rows. */
  private learnTypes(head: number): void {
    if (this.typesKnownTo === undefined) {
      for (
        let type = this.statements.firstType.get();
        type !== undefined;
        type = this.statements.nextType.get(type)
      ) {
        const last = this.statements.lastOfType.get(type, head);
        if (last !== undefined) this.lastOfType.set(type, last);
      }
    } else if (head > this.typesKnownTo) {
      for (const row of this.statements.lastOfTypesIn.iterate(this.typesKnownTo, head)) {
        this.lastOfType.set(row.type, row.last);
      }
    } else {
      return;
    }
    this.typesKnownTo = head;
  }

  /** Commits every queued append in one transaction, then answers each and wakes subscribers. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: AppendOutcome[] = [];
    const written: RecordedEvent[] = [];
    const appendOne = this.db.transaction((append: PendingAppend) =>
      this.appendNow(append, written),
    );
    let headBefore = 0;
    let headAfter = 0;
    try {
      this.db.transaction(() => {
        headBefore = this.statements.head.get()?.head ?? 0;
        for (const append of batch) {
          try {
            outcomes.push({ ok: appendOne(append) });
          } catch (error) {
            outcomes.push({ error });
          }
        }
        headAfter = this.statements.head.get()?.head ?? 0;
      })();
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      for (const append of batch) append.reject(error);
      return;
    }
    // appendNow noted the types it wrote; if nothing else had been written since the types were
    // last learnt, they are now known up to this commit without reading it back.
    if (this.typesKnownTo === headBefore) this.typesKnownTo = headAfter;
    this.remember(written, headBefore, headAfter);
    if (this.knownHead !== headBefore) this.streamHeads.clear();
    this.knownHead = headAfter;
    if (this.foreignCheck === false) this.foreignCheck = undefined;
    for (const event of written) this.streamHeads.set(event.stream, event.revision);
    this.commits += 1;
    this.appends += batch.length;
    const committed: Committed = { batch, outcomes, headBefore };
    if (this.walSync === undefined) {
      settle(committed);
      for (const wake of [...this.wakers]) wake();
      return;
    }
    this.unsynced.push(committed);
    this.startSync();
  }

  /** Read through a method: `startSync` may have begun another sync. */
  private isSyncing(): boolean {
    return this.syncing !== undefined;
  }

  /**
   * Syncs the WAL for every commit not synced yet, unless a sync is running (the commits made
   * meanwhile wait for the next one, which then serves them all), then answers their appends and
   * wakes subscriptions.
   */
  private startSync(): void {
    const walSync = this.walSync;
    if (walSync === undefined || this.syncing !== undefined || this.unsynced.length === 0) return;
    const group = this.unsynced;
    this.unsynced = [];
    this.syncing = group;
    walSync.sync((error) => {
      this.syncing = undefined;
      for (const committed of group) {
        // Committed but perhaps not on disk: the appender hears of the failure; a retry with the
        // same event ids finds them stored and is answered with the first append's result.
        if (error === null) settle(committed);
        else for (const append of committed.batch) append.reject(error);
      }
      for (const wake of [...this.wakers]) wake();
      this.startSync();
      if (!this.isSyncing()) {
        for (const resolve of [...this.synced]) resolve();
        this.synced.clear();
      }
    });
  }

  /** Appends one stream's events (inside its savepoint); adds what it wrote to `written`. */
  private appendNow(
    append: PendingAppend,
    written: RecordedEvent[],
  ): E.Either<WrongExpectedRevision, AppendResult> {
    const { stream, events, options } = append;
    const current = this.statements.lastRevision.get(stream)?.revision ?? NO_STREAM_REVISION;
    const conflict = (): E.Either<WrongExpectedRevision, AppendResult> =>
      E.left({
        kind: 'wrong_expected_revision',
        stream,
        expected: options.expectedRevision,
        actual: current === NO_STREAM_REVISION ? 'no_stream' : current,
      });

    const repeat = this.findEarlierAppend(stream, events);
    if (repeat === 'partial') return conflict();
    if (repeat !== undefined) return E.right(repeat);

    if (!revisionMatches(options.expectedRevision, current)) return conflict();

    let revision = current;
    let position = 0;
    const rows: EventRow[] = [];
    for (const event of events) {
      revision += 1;
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      const result = this.statements.insert.run(
        event.id,
        stream,
        revision,
        event.type,
        data,
        metadata,
      );
      position = Number(result.lastInsertRowid);
      // May outlive a rolled-back savepoint: a type thought newer than it is costs one lookup.
      if (this.typesKnownTo !== undefined) this.lastOfType.set(event.type, position);
      rows.push({
        position,
        event_id: event.id,
        stream,
        revision,
        type: event.type,
        data,
        metadata,
      });
    }
    // Read back as the database would give it (JSON round trip), parsed once for every reader.
    for (const row of rows) written.push(toRecordedEvent(row));
    return E.right({ nextRevision: revision, position: toPosition(position) });
  }

  /**
   * Idempotency: if these event ids are already stored, consecutively in this stream, the earlier
   * append's result; `partial` if only some of them are (a different write reusing ids).
   */
  private findEarlierAppend(
    stream: string,
    events: readonly NewEvent[],
  ): AppendResult | 'partial' | undefined {
    const first = events[0];
    if (first === undefined) return undefined;
    const firstRow = this.statements.byEventId.get(first.id);
    if (firstRow === undefined) return undefined;
    let last = firstRow;
    for (let index = 1; index < events.length; index += 1) {
      const row = this.statements.byEventId.get(events[index]?.id ?? '');
      if (
        row === undefined ||
        row.stream !== stream ||
        row.revision !== firstRow.revision + index
      ) {
        return 'partial';
      }
      last = row;
    }
    if (firstRow.stream !== stream) return 'partial';
    return { nextRevision: last.revision, position: toPosition(last.position) };
  }
}

/** A filtered read and the head it saw. */
interface FilteredRead {
  readonly after: number;
  readonly maxCount: number;
  readonly head: number;
  readonly events: readonly RecordedEvent[];
  readonly scannedTo: number;
}

/**
 * Last revisions by stream, bounded without ever iterating or deleting from a Map: new notes go
 * to the young generation; when it is full it becomes the old one and the previous old one is
 * dropped. Lookups try the young generation first, so the latest note wins.
 */
class StreamHeads {
  private young = new Map<string, number>();
  private old = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  get(stream: string): number | undefined {
    return this.young.get(stream) ?? this.old.get(stream);
  }

  set(stream: string, revision: number): void {
    this.young.set(stream, revision);
    if (this.young.size >= this.capacity / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}

/** Answers each append of a commit with its outcome. */
const settle = ({ batch, outcomes }: Committed): void => {
  batch.forEach((append, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined) append.reject(new Error('append lost its outcome'));
    else if ('ok' in outcome) append.resolve(outcome.ok);
    else append.reject(outcome.error);
  });
};

/** Index of the first entry of ascending `positions` greater than `after` (binary search). */
const firstAfter = (positions: readonly number[], after: number): number => {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((positions[middle] ?? 0) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
};

const revisionMatches = (expected: AppendOptions['expectedRevision'], current: number): boolean => {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === NO_STREAM_REVISION;
    case 'stream_exists':
      return current !== NO_STREAM_REVISION;
    default:
      return expected === current;
  }
};

const toPosition = (position: number): Position => ({
  commit: BigInt(position),
  prepare: BigInt(position),
});

const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  stream: row.stream,
  revision: row.revision,
  position: toPosition(row.position),
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
});

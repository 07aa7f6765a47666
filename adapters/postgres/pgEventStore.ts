import * as E from 'fp-ts/lib/Either.js';
import { createHash } from 'node:crypto';
import pg from 'pg';
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
import { NO_STREAM_REVISION, revisionMatches } from '../../domain/shared/eventStore.js';
import {
  chainHash,
  DATA_ERASED_EVENT,
  digestOf,
  type Digest,
} from '../../domain/shared/hashChain.js';
import { toPosition, toRecordedEvent, type EventRow, type LogRead } from '../sqlite/eventRows.js';
import { RecentWindow } from '../sqlite/recentWindow.js';
import { StreamHeads } from '../sqlite/streamHeads.js';
import { Subscriptions } from '../sqlite/subscriptions.js';
import { migrate, type Migration } from './migrations.js';
import { CommitNotices, noticeOf, parseNotice, REWRITE_NOTICE } from './commitNotices.js';
import { PgErasableLog } from './pgErasableLog.js';
import { giveBack, takeClient, type PgClient, type PgPool } from './pool.js';

/**
 * The shared log's tables. `data` and `metadata` are the JSON texts as written (text, not jsonb:
 * the hash chain covers the metadata's exact text and the data's digest, and jsonb would reorder
 * keys). `tidings_log_head` is one row: the last position and its chain hash, locked by every
 * append — the single sequencer (see {@link PgEventStore}).
 */
export const eventLogMigrations: readonly Migration[] = [
  {
    name: 'events-1',
    sql: `
      CREATE TABLE tidings_events (
        position bigint PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        stream text NOT NULL,
        revision integer NOT NULL,
        type text NOT NULL,
        data text NOT NULL,
        metadata text NOT NULL,
        data_digest bytea NOT NULL,
        hash bytea NOT NULL,
        UNIQUE (stream, revision)
      );
      CREATE INDEX tidings_events_by_type ON tidings_events (type, position);
      CREATE TABLE tidings_log_head (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        position bigint NOT NULL,
        hash bytea NOT NULL
      );
      INSERT INTO tidings_log_head (position, hash) VALUES (0, decode(repeat('00', 32), 'hex'));
    `,
  },
  {
    // Erasure finds a person's messages and complaints by their recipient (adapters/postgres/
    // pgErasableLog.ts): without this it would parse every submission of the log.
    name: 'events-2',
    sql: `
      CREATE INDEX tidings_events_by_recipient ON tidings_events ((data::json ->> 'recipientId'))
        WHERE type IN ('MessageSubmitted', 'ComplaintFiled');
    `,
  },
];

export interface PgEventStoreOptions {
  /**
   * How often a subscription that found nothing new looks again, in ms, in case a notice of
   * another node's append was missed (the listening connection was being re-opened); default 1,000.
   */
  readonly pollIntervalMs?: number;
  /** Appends committed together in one transaction at most; default 500. */
  readonly maxGroup?: number;
  /** Stamped on the metadata of every event this store appends (`EventMetadata.node`). */
  readonly node?: string;
  /** Told of a failure of the listening connection (it is re-opened); default: ignored. */
  readonly onListenError?: (error: Error) => void;
  /**
   * Called inside each append transaction after its rows are written and before it commits: only
   * the ordering test uses it, to hold one transaction open while other nodes append.
   */
  readonly beforeCommit?: () => Promise<void>;
  /**
   * The latest events kept in memory for subscriptions that keep up (recentWindow.ts); default
   * 20,000, 0 turns the window off.
   */
  readonly recentEvents?: number;
  /** Told of a failed read of the log's new events (it is tried again); default: ignored. */
  readonly onCatchUpError?: (error: Error) => void;
}

/** An append waiting for the next group commit, with the promise that answers it. */
interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly options: AppendOptions;
  readonly resolve: (outcome: E.Either<WrongExpectedRevision, AppendResult>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A stream's last revision, and where its latest revisions are in the log: `positions[i]` holds
 * revision `revision - positions.length + 1 + i` (at most {@link POSITIONS_PER_STREAM}).
 */
interface StreamHead {
  readonly revision: number;
  readonly positions: readonly number[];
}

/** Latest revisions whose positions are remembered per stream: a message's whole life. */
const POSITIONS_PER_STREAM = 12;

/** A stored event found by id: where an earlier append put it. */
interface StoredId {
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
}

/** The columns of an {@link EventRow}, with the position as a JavaScript number. */
const EVENT_COLUMNS =
  'position::float8 AS position, event_id, stream, revision, type, data, metadata';
const DEFAULT_POLL_MS = 1_000;
const DEFAULT_GROUP = 500;
const DEFAULT_RECENT = 20_000;
/** Streams whose last revision is remembered, about (streamHeads.ts). */
const STREAM_HEADS = 100_000;
/** Events read at most by one query of {@link PgEventStore.catchUp}. */
const CATCH_UP_PAGE = 2_000;
const NO_EVENTS: readonly RecordedEvent[] = Object.freeze([]);

/**
 * The event log on PostgreSQL, shared by every node of a deployment (docs/architecture.md,
 * "Several nodes").
 *
 * **Ordering.** A PostgreSQL sequence hands out numbers in call order, but transactions commit in
 * any order, so a reader can see position 11 before 10 commits and skip 10 for ever. This store
 * uses a single sequencer instead: every append transaction first locks the one row of
 * `tidings_log_head`, takes the positions after it, writes its events and the new head, and
 * commits, which releases the lock only after the commit is visible. Positions are therefore
 * visible in exactly their order, and "everything after my cursor" never misses a late commit.
 * The same lock orders the hash chain: each event is chained to the head it read under the lock.
 * To keep the lock's cost per event small, appends that arrive while a transaction is in flight
 * are committed together in the next one (group commit), as the embedded store does.
 *
 * **Idempotency.** Event ids are unique in the log: re-appending stored ids to the same stream
 * returns the first append's result and writes nothing; ids stored elsewhere are a conflict.
 *
 * **Live reads.** Each commit sends a notice (`NOTIFY`) on the log's channel; every node keeps
 * one listening connection and wakes its subscriptions on a notice, and polls as a fallback.
 *
 * **What a node keeps in memory.** Every event after the head the store opened at passes through
 * it in log order exactly once: its own commits as they commit, the other nodes' by one read per
 * notice ({@link catchUp}; a poll of the head every `pollIntervalMs` catches a missed notice). From
 * them it keeps the recent window (the latest events, which subscriptions that keep up read from
 * memory instead of one query each per commit) and the last revision of each stream, which answers
 * a cached aggregate's "anything after revision r?" without a query. Both are only trusted while
 * the store has heard of nothing it has not applied yet (`applied ≥ knownHead`) and is listening:
 * a node then answers as of the latest commit it knows of, and a request that must see another
 * node's write reads the head first (composition/readBarrier.ts), which makes the store catch up
 * before it trusts its memory again.
 *
 * **Erasure.** An erasure rewrites the data of older events (docs/audit.md, "Erasure"), which the
 * recent window may hold as first written. Every node applies the erasure's record
 * (`RecipientDataErased`, appended before the rewrite) in log order, and drops the window up to
 * the last position it lists, so from then on those positions are read from the database, and
 * nothing puts them back in memory: subscriptions, `readStream` and `readAll` get the data as
 * stored, erased once the rewrite has committed. The erasing node drops them again at the rewrite
 * ({@link erasure}), and every node hears the rewrite's notice ({@link onRewritten}).
 */
export class PgEventStore implements EventStore {
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly subscriptions: Subscriptions;
  private listener: pg.Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private readonly channel: string;
  private readonly notices = new CommitNotices();
  private readonly recent: RecentWindow;
  /** The last revision of each stream, and where in the log it is. */
  private readonly streamHeads = new StreamHeads<StreamHead>(STREAM_HEADS);
  /** This store's commit between its last statement and the answer to its COMMIT. */
  private committing: { before: number; after: number } | undefined;
  /** Every event up to here has been applied to the memory above, in order. */
  private applied = 0;
  /** The highest position this store has heard of: own commits, notices, reads of the head. */
  private knownHead = 0;
  private reading: Promise<void> | undefined;
  private headPoll: NodeJS.Timeout | undefined;
  private readonly rewriteListeners: (() => void)[] = [];

  /** Finding and rewriting a person's events for an erasure (docs/audit.md, "Erasure"). */
  readonly erasure: PgErasableLog;

  private constructor(
    private readonly pool: PgPool,
    schema: string,
    private readonly options: PgEventStoreOptions,
  ) {
    // Channel names are identifiers of at most 63 bytes: the schema's digest keeps them short.
    this.channel = `tidings_log_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
    this.recent = new RecentWindow(options.recentEvents ?? DEFAULT_RECENT);
    this.subscriptions = new Subscriptions(
      (after, maxCount, types) => this.readForSubscription(after, maxCount, types),
      options.pollIntervalMs ?? DEFAULT_POLL_MS,
    );
    this.erasure = new PgErasableLog(pool, {
      channel: this.channel,
      rewritten: (positions) => {
        this.forgetThrough(positions.reduce((last, position) => Math.max(last, position), 0));
      },
    });
  }

  /** Migrates the log's tables (under the migration lock) and starts listening for appends. */
  static async open(pool: PgPool, options: PgEventStoreOptions = {}): Promise<PgEventStore> {
    await migrate(pool, eventLogMigrations);
    const schema = (await pool.query<{ schema: string }>('SELECT current_schema() AS schema'))
      .rows[0]?.schema;
    const store = new PgEventStore(pool, schema ?? 'public', options);
    const head = await store.readHead();
    store.applied = head;
    store.knownHead = head;
    await store.listen();
    store.pollHead();
    return store;
  }

  async readStream(
    stream: string,
    options: ReadStreamOptions = {},
  ): Promise<readonly RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    const remembered = await this.fromMemory(stream, from, options.maxCount);
    if (remembered !== undefined) return remembered;
    const limit = options.maxCount === undefined ? null : options.maxCount;
    const appliedBefore = this.applied;
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM tidings_events WHERE stream = $1 AND revision >= $2
       ORDER BY revision LIMIT $3`,
      [stream, from, limit],
    );
    const last = rows.at(-1);
    if (last === undefined) return NO_EVENTS;
    // The read may have seen commits not applied yet: until they are, memory is not trusted.
    this.heardOf(last.position);
    // Noted only when nothing was applied meanwhile: an append applied during the read may be
    // newer than what the read saw, and must not be replaced by it.
    const known = this.streamHeads.get(stream);
    if (
      options.maxCount === undefined &&
      this.applied === appliedBefore &&
      (known === undefined || known.revision < last.revision)
    ) {
      this.streamHeads.set(stream, { revision: last.revision, positions: [last.position] });
    }
    return rows.map(toRecordedEvent);
  }

  /**
   * The events of `stream` from revision `from` on, from memory, as of every commit this store
   * had heard of when asked (catching up first, one read shared by all who wait): the usual
   * questions of the command handler, "anything after revision r?" for a cached state and the
   * whole of a short stream another node wrote. Undefined when memory cannot tell.
   */
  private async fromMemory(
    stream: string,
    from: number,
    maxCount: number | undefined,
  ): Promise<readonly RecordedEvent[] | undefined> {
    const target = this.knownHead;
    const epoch = this.notices.epoch;
    await this.reach(target);
    if (!this.listeningSince(epoch) || this.applied < target) return undefined;
    const head = this.streamHeads.get(stream);
    if (head === undefined) return undefined;
    if (head.revision < from) return NO_EVENTS;
    const firstKnown = head.revision - head.positions.length + 1;
    if (from < firstKnown) return undefined;
    const positions = head.positions.slice(from - firstKnown);
    if (maxCount !== undefined) positions.length = Math.min(positions.length, maxCount);
    const events: RecordedEvent[] = [];
    for (const position of positions) {
      const event = this.recent.at(position);
      if (event?.stream !== stream) return undefined;
      events.push(event);
    }
    return events;
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
      this.flushing ??= this.flush();
    });
  }

  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    const after = Number(options.after?.commit ?? 0n);
    // From memory when the window holds everything after `after` that this store has heard of
    // (catching up first if it is behind): waiting for a read model asks this at every request.
    const target = this.knownHead;
    const epoch = this.notices.epoch;
    if (this.recent.coveredTo(after) !== undefined) await this.reach(target);
    const coveredTo =
      this.listeningSince(epoch) && this.applied >= target
        ? this.recent.coveredTo(after)
        : undefined;
    if (coveredTo !== undefined) {
      return this.recent.read(after, options.maxCount, options.eventTypes, coveredTo).events;
    }
    return (await this.readAfter(after, options.maxCount, options.eventTypes)).events;
  }

  async headPosition(): Promise<Position | undefined> {
    const head = await this.readHead();
    this.heardOf(head);
    return head === 0 ? undefined : toPosition(head);
  }

  subscribe(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  /**
   * Calls `listener` whenever a node (this one included) has rewritten stored events, once the
   * new data is what a read gets, and whenever this node may have missed such a notice (its
   * listening connection was re-opened): copies of events kept outside the store (the aggregate
   * states of composition/core.ts) are dropped there.
   */
  onRewritten(listener: () => void): void {
    this.rewriteListeners.push(listener);
  }

  /** Waits for the appends already queued, ends subscriptions and the listening connection. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== undefined) await this.flushing;
    this.subscriptions.close();
    if (this.listenRetry !== undefined) clearTimeout(this.listenRetry);
    if (this.headPoll !== undefined) clearTimeout(this.headPoll);
    await this.reading;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Commits queued appends, a group at a time, until none is left. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.options.maxGroup ?? DEFAULT_GROUP);
        try {
          const outcomes = await this.commitGroup(group);
          group.forEach((append, index) => {
            const outcome = outcomes[index];
            if (outcome === undefined) append.reject(new Error('append lost its outcome'));
            else if (outcome instanceof Error) append.reject(outcome);
            else append.resolve(outcome);
          });
          this.subscriptions.wakeAll();
        } catch (error) {
          // Nothing of the group is known to be stored: each caller hears the error and may
          // retry (its event ids make a retry of a commit that did land a no-op).
          for (const append of group) append.reject(error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** One transaction: lock the head, decide every append of the group, write, commit. */
  private async commitGroup(
    group: readonly PendingAppend[],
  ): Promise<(E.Either<WrongExpectedRevision, AppendResult> | Error)[]> {
    const client = await takeClient(this.pool);
    let broken: Error | undefined;
    try {
      const { head, stored, revisions } = await beginGroup(client, group);
      const rows = new Rows();
      let position = head.position;
      let previous = head.hash;
      const outcomes = group.map((append) => {
        const repeat = earlierAppend(append, stored);
        const current = revisions.get(append.stream) ?? NO_STREAM_REVISION;
        if (repeat !== undefined && repeat !== 'partial') return E.right(repeat);
        if (repeat === 'partial' || !revisionMatches(append.options.expectedRevision, current)) {
          return E.left(conflictOf(append, current));
        }
        const texts = serialized(append.events, this.options.node);
        if (texts instanceof Error) return texts;
        let revision = current;
        append.events.forEach((event, index) => {
          revision += 1;
          position += 1;
          previous = rows.add(previous, position, append.stream, revision, event, texts[index]);
          stored.set(event.id, { stream: append.stream, revision, position });
        });
        revisions.set(append.stream, revision);
        return E.right({ nextRevision: revision, position: toPosition(position) });
      });
      const types = rows.types();
      if (rows.count > 0) {
        await rows.insert(client, {
          position,
          hash: previous,
          channel: this.channel,
          notice: noticeOf(head.position, position, types),
        });
      }
      await this.options.beforeCommit?.();
      if (rows.count > 0) this.committing = { before: head.position, after: position };
      await client.query('COMMIT');
      this.committing = undefined;
      if (rows.count > 0) {
        this.notices.committed(head.position, position, types);
        this.advance(head.position, position, rows.recorded());
      }
      return outcomes;
    } catch (error) {
      // A COMMIT without an answer may have landed, its notice taken for this store's own and
      // passed over: read the head at once (memory is not trusted until it is known).
      if (this.committing !== undefined) {
        this.committing = undefined;
        this.readHead().then(
          (head) => {
            this.heardOf(head);
          },
          () => undefined,
        );
      }
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      giveBack(client, broken);
    }
  }

  /**
   * A subscription's read: when the commit notices say that nothing of its types was written
   * after its cursor, it moves on without a query.
   */
  private readForSubscription(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): LogRead | Promise<LogRead> {
    const coveredTo = this.recent.coveredTo(after);
    if (coveredTo !== undefined) {
      // Everything known after the window is being read; its end wakes the subscriptions.
      if (after >= coveredTo && this.knownHead > this.applied) void this.catchUp();
      return this.recent.read(after, maxCount, types, coveredTo);
    }
    const quiet = types === undefined ? undefined : this.notices.quietTo(after, types);
    if (quiet !== undefined) return { events: [], scannedTo: quiet };
    return this.readAfter(after, maxCount, types);
  }

  /**
   * Whether notices have come in without a break since `epoch` was read (then every commit made
   * meanwhile was heard of).
   */
  private listeningSince(epoch: number): boolean {
    return this.notices.isListening && this.notices.epoch === epoch;
  }

  /** A commit up to `position` exists: until it is applied, memory is not trusted. */
  private heardOf(position: number): void {
    if (position <= this.knownHead) return;
    this.knownHead = position;
    if (position > this.applied) void this.catchUp();
  }

  /**
   * A commit of positions `before`+1 … `after` (this store's own, with its events): applied to
   * memory when it follows what is applied, else read back in order by {@link catchUp}.
   */
  private advance(before: number, after: number, events: readonly RecordedEvent[]): void {
    if (before === this.applied) this.apply(events, before, after);
    this.heardOf(after);
  }

  private apply(events: readonly RecordedEvent[], before: number, after: number): void {
    this.recent.remember(events, before, after);
    for (const event of events) {
      const position = Number(event.position.commit);
      if (event.type === DATA_ERASED_EVENT) this.forgetThrough(lastListed(event.data, position));
      const head = this.streamHeads.get(event.stream);
      // The positions go on from the stream's last known revision, or start again here.
      const positions =
        head?.revision === event.revision - 1
          ? [...head.positions.slice(1 - POSITIONS_PER_STREAM), position]
          : [position];
      this.streamHeads.set(event.stream, { revision: event.revision, positions });
    }
    this.applied = after;
  }

  /** Drops the recent window up to `position`: events there may be rewritten (see the class). */
  private forgetThrough(position: number): void {
    if (position > 0) this.recent.forgetThrough(position);
  }

  private rewriteHeard(): void {
    for (const listener of this.rewriteListeners) listener();
  }

  /** Catches up until everything up to `target` is applied, or a read brings nothing new. */
  private async reach(target: number): Promise<void> {
    while (!this.closed && this.applied < target) {
      const before = this.applied;
      await this.readNews();
      if (this.applied === before) return;
    }
  }

  /** Catches up with everything heard of, in the background; subscriptions are woken as it goes. */
  private catchUp(): Promise<void> {
    return this.reach(this.knownHead).catch(() => undefined);
  }

  /**
   * One read of the events after those applied, applied in order; one at a time, shared by whoever
   * asks meanwhile. Subscriptions are woken when it brought something.
   */
  private readNews(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const from = this.applied;
        const { rows } = await this.pool.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM tidings_events WHERE position > $1 ORDER BY position LIMIT $2`,
          [from, CATCH_UP_PAGE],
        );
        const last = rows.at(-1);
        // Own commits may have been applied while the read was in flight.
        if (last !== undefined && this.applied === from) {
          this.apply(rows.map(toRecordedEvent), from, last.position);
          this.subscriptions.wakeAll();
        }
      } catch (error) {
        this.options.onCatchUpError?.(error instanceof Error ? error : new Error(String(error)));
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /** Reads the log's head every poll interval: a commit whose notice was missed is found. */
  private pollHead(): void {
    if (this.closed) return;
    this.headPoll = setTimeout(() => {
      this.readHead()
        .then((head) => {
          this.heardOf(head);
          // A catch-up read that failed is tried again here.
          if (this.knownHead > this.applied) void this.catchUp();
        })
        .catch(() => undefined)
        .finally(() => {
          this.pollHead();
        });
    }, this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.headPoll.unref();
  }

  private async readHead(): Promise<number> {
    const { rows } = await this.pool.query<{ position: number }>(
      'SELECT position::float8 AS position FROM tidings_log_head',
    );
    return rows[0]?.position ?? 0;
  }

  /** Up to `maxCount` events after `after`, of `types` only when given, in log order. */
  private async readAfter(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
  ): Promise<LogRead> {
    const { rows } =
      types === undefined
        ? await this.pool.query<EventRow>(
            `SELECT ${EVENT_COLUMNS} FROM tidings_events WHERE position > $1 ORDER BY position LIMIT $2`,
            [after, maxCount],
          )
        : await this.pool.query<EventRow>(
            `SELECT ${EVENT_COLUMNS} FROM tidings_events WHERE position > $1 AND type = ANY($3::text[])
             ORDER BY position LIMIT $2`,
            [after, maxCount, types],
          );
    const events = rows.map(toRecordedEvent);
    const last = rows.at(-1)?.position;
    // What a reader is handed, memory must have applied before it answers again.
    if (last !== undefined) this.heardOf(last);
    return { events, scannedTo: last ?? after };
  }

  /**
   * Opens the listening connection; when it fails, subscriptions poll until it is re-opened
   * (every second, while the store is open).
   */
  private async listen(): Promise<void> {
    const client = new pg.Client(this.pool.options);
    const retry = (error: Error): void => {
      this.notices.deaf();
      this.options.onListenError?.(error);
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      if (this.closed || this.listenRetry !== undefined) return;
      this.listenRetry = setTimeout(() => {
        this.listenRetry = undefined;
        if (!this.closed) void this.listen();
      }, 1_000);
    };
    client.on('error', retry);
    client.on('notification', (message) => {
      if (message.payload === REWRITE_NOTICE) {
        this.rewriteHeard();
        return;
      }
      const notice = parseNotice(message.payload);
      if (notice !== undefined) {
        this.notices.committed(notice.before, notice.after, notice.types);
        // The notice of this store's own commit may come before the answer to its COMMIT, which
        // applies it: reading it back meanwhile would be a wasted query.
        const own =
          this.committing?.before === notice.before && this.committing.after === notice.after;
        if (!own) this.heardOf(notice.after);
      }
      this.subscriptions.wakeAll();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      // Every commit after this head sends a notice this connection receives.
      const head = await client.query<{ position: number }>(
        'SELECT position::float8 AS position FROM tidings_log_head',
      );
      this.notices.listening(head.rows[0]?.position ?? 0);
      this.heardOf(head.rows[0]?.position ?? 0);
      this.listener = client;
      // A rewrite's notice may have come while no one listened.
      this.rewriteHeard();
      // Appends made while no one listened: look now.
      this.subscriptions.wakeAll();
    } catch (error) {
      retry(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * The last position before `at` that an erasure's record lists (its data as recorded: `events`
 * of `{ position, dataDigest }`); 0 when it lists none.
 */
const lastListed = (data: unknown, at: number): number => {
  const events = (data as { readonly events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return 0;
  let last = 0;
  for (const entry of events as unknown[]) {
    const position = (entry as { readonly position?: unknown } | null)?.position;
    if (typeof position === 'number' && position < at && position > last) last = position;
  }
  return last;
};

/** What a group commit reads under the sequencer's lock before it decides. */
interface GroupStart {
  readonly head: { readonly position: number; readonly hash: Digest };
  /** Where the group's event ids are stored already, if anywhere. */
  readonly stored: Map<string, StoredId>;
  /** The last revision of each stream the group appends to (absent: no such stream). */
  readonly revisions: Map<string, number>;
}

/** A text array as an SQL literal (every element escaped by node-postgres). */
const textArray = (values: readonly string[]): string =>
  values.length === 0 ? 'ARRAY[]::text[]' : `ARRAY[${values.map(pg.escapeLiteral).join(',')}]`;

/**
 * Begins the group's transaction, locks the log's head (the sequencer) and reads what the group's
 * decisions need, in one round trip: a simple query of several statements, its values escaped as
 * literals since that protocol takes no parameters. Each statement of it takes its own snapshot,
 * so the reads after the lock see every append committed before the lock was granted.
 */
const beginGroup = async (
  client: PgClient,
  group: readonly PendingAppend[],
): Promise<GroupStart> => {
  const ids = group.flatMap((append) => append.events.map((event) => event.id));
  const streams = [...new Set(group.map((append) => append.stream))];
  const results = (await client.query(
    `BEGIN ISOLATION LEVEL READ COMMITTED;
     SELECT position::float8 AS position, hash FROM tidings_log_head FOR UPDATE;
     SELECT event_id, stream, revision, position::float8 AS position FROM tidings_events
      WHERE event_id = ANY(${textArray(ids)});
     SELECT s.stream, (SELECT revision FROM tidings_events e WHERE e.stream = s.stream
                       ORDER BY revision DESC LIMIT 1) AS revision
       FROM unnest(${textArray(streams)}) AS s(stream)`,
  )) as unknown as pg.QueryResult[];
  const [, headResult, storedResult, revisionResult] = results;
  const head = (headResult?.rows as { position: number; hash: Buffer }[] | undefined)?.[0];
  if (head === undefined) throw new Error('tidings_log_head has no row: the schema is damaged');
  const stored = new Map(
    ((storedResult?.rows ?? []) as (StoredId & { event_id: string })[]).map((row) => [
      row.event_id,
      row,
    ]),
  );
  const revisions = new Map<string, number>();
  for (const row of (revisionResult?.rows ?? []) as { stream: string; revision: number | null }[])
    if (row.revision !== null) revisions.set(row.stream, row.revision);
  return { head, stored, revisions };
};

/**
 * If the append's event ids are stored already, consecutively in its stream, that append's
 * result; `partial` if only some are, or elsewhere (a different write reusing ids).
 */
const earlierAppend = (
  append: PendingAppend,
  stored: ReadonlyMap<string, StoredId>,
): AppendResult | 'partial' | undefined => {
  const first = append.events[0];
  const firstRow = first === undefined ? undefined : stored.get(first.id);
  if (firstRow === undefined) {
    return append.events.some((event) => stored.has(event.id)) ? 'partial' : undefined;
  }
  let last = firstRow;
  for (let index = 1; index < append.events.length; index += 1) {
    const row = stored.get(append.events[index]?.id ?? '');
    if (
      row === undefined ||
      row.stream !== append.stream ||
      row.revision !== firstRow.revision + index
    ) {
      return 'partial';
    }
    last = row;
  }
  if (firstRow.stream !== append.stream) return 'partial';
  return { nextRevision: last.revision, position: toPosition(last.position) };
};

const conflictOf = (append: PendingAppend, current: number): WrongExpectedRevision => ({
  kind: 'wrong_expected_revision',
  stream: append.stream,
  expected: append.options.expectedRevision,
  actual: current === NO_STREAM_REVISION ? 'no_stream' : current,
});

/** An event's data and metadata as the JSON texts stored. */
interface EventTexts {
  readonly data: string;
  readonly metadata: string;
}

const serializedEvent = (event: NewEvent, node?: string): EventTexts => ({
  data: JSON.stringify(event.data),
  metadata: JSON.stringify(node === undefined ? event.metadata : { ...event.metadata, node }),
});

/**
 * The texts of an append's events, or the error that one of them cannot be written as JSON (a
 * BigInt, a cycle): that append fails alone, the rest of its group commits.
 */
const serialized = (events: readonly NewEvent[], node?: string): EventTexts[] | Error => {
  try {
    return events.map((event) => serializedEvent(event, node));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
};

/** The rows of one group commit, column by column, inserted with one statement. */
class Rows {
  private readonly columns = {
    position: [] as number[],
    eventId: [] as string[],
    stream: [] as string[],
    revision: [] as number[],
    type: [] as string[],
    data: [] as string[],
    metadata: [] as string[],
    dataDigest: [] as Buffer[],
    hash: [] as Buffer[],
  };

  get count(): number {
    return this.columns.position.length;
  }

  /** The event types of the rows, each once. */
  types(): string[] {
    return [...new Set(this.columns.type)];
  }

  /** Adds one event, chained to `previous`; returns its hash. */
  add(
    previous: Digest,
    position: number,
    stream: string,
    revision: number,
    event: NewEvent,
    texts: EventTexts | undefined,
  ): Digest {
    const { data, metadata } = texts ?? serializedEvent(event);
    const dataDigest = digestOf(data);
    const hash = chainHash(previous, {
      position,
      eventId: event.id,
      stream,
      revision,
      type: event.type,
      dataDigest,
      metadata,
    });
    const c = this.columns;
    c.position.push(position);
    c.eventId.push(event.id);
    c.stream.push(stream);
    c.revision.push(revision);
    c.type.push(event.type);
    c.data.push(data);
    c.metadata.push(metadata);
    c.dataDigest.push(dataDigest);
    c.hash.push(hash);
    return hash;
  }

  /** The rows as the events a read of them returns. */
  recorded(): RecordedEvent[] {
    const c = this.columns;
    return c.position.map((position, index) =>
      toRecordedEvent({
        position,
        event_id: c.eventId[index] ?? '',
        stream: c.stream[index] ?? '',
        revision: c.revision[index] ?? 0,
        type: c.type[index] ?? '',
        data: c.data[index] ?? 'null',
        metadata: c.metadata[index] ?? '{}',
      }),
    );
  }

  /**
   * Inserts the rows, moves the head to `head` and sends the commit's notice, in one statement
   * (its data-modifying parts run once each whether or not the result reads them).
   */
  async insert(
    client: PgClient,
    head: { position: number; hash: Digest; channel: string; notice: string },
  ): Promise<void> {
    const c = this.columns;
    await client.query(
      `WITH inserted AS (
         INSERT INTO tidings_events (position, event_id, stream, revision, type, data, metadata, data_digest, hash)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[],
                              $7::text[], $8::bytea[], $9::bytea[])
       ), moved AS (
         UPDATE tidings_log_head SET position = $10, hash = $11
       )
       SELECT pg_notify($12, $13)`,
      [
        c.position,
        c.eventId,
        c.stream,
        c.revision,
        c.type,
        c.data,
        c.metadata,
        c.dataDigest,
        c.hash,
        head.position,
        head.hash,
        head.channel,
        head.notice,
      ],
    );
  }
}

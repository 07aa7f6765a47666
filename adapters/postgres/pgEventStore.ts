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
import { chainHash, digestOf, type Digest } from '../../domain/shared/hashChain.js';
import { toPosition, toRecordedEvent, type EventRow, type LogRead } from '../sqlite/eventRows.js';
import { Subscriptions } from '../sqlite/subscriptions.js';
import { migrate, type Migration } from './migrations.js';
import { CommitNotices, noticeOf, parseNotice } from './commitNotices.js';
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
}

/** An append waiting for the next group commit, with the promise that answers it. */
interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly options: AppendOptions;
  readonly resolve: (outcome: E.Either<WrongExpectedRevision, AppendResult>) => void;
  readonly reject: (error: unknown) => void;
}

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

  private constructor(
    private readonly pool: PgPool,
    schema: string,
    private readonly options: PgEventStoreOptions,
  ) {
    // Channel names are identifiers of at most 63 bytes: the schema's digest keeps them short.
    this.channel = `tidings_log_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
    this.subscriptions = new Subscriptions(
      (after, maxCount, types) => this.readForSubscription(after, maxCount, types),
      options.pollIntervalMs ?? DEFAULT_POLL_MS,
    );
  }

  /** Migrates the log's tables (under the migration lock) and starts listening for appends. */
  static async open(pool: PgPool, options: PgEventStoreOptions = {}): Promise<PgEventStore> {
    await migrate(pool, eventLogMigrations);
    const schema = (await pool.query<{ schema: string }>('SELECT current_schema() AS schema'))
      .rows[0]?.schema;
    const store = new PgEventStore(pool, schema ?? 'public', options);
    await store.listen();
    return store;
  }

  async readStream(
    stream: string,
    options: ReadStreamOptions = {},
  ): Promise<readonly RecordedEvent[]> {
    const limit = options.maxCount === undefined ? null : options.maxCount;
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM tidings_events WHERE stream = $1 AND revision >= $2
       ORDER BY revision LIMIT $3`,
      [stream, options.fromRevision ?? 0, limit],
    );
    return rows.length === 0 ? NO_EVENTS : rows.map(toRecordedEvent);
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
    return (
      await this.readAfter(
        Number(options.after?.commit ?? 0n),
        options.maxCount,
        options.eventTypes,
      )
    ).events;
  }

  async headPosition(): Promise<Position | undefined> {
    const { rows } = await this.pool.query<{ position: number }>(
      'SELECT position::float8 AS position FROM tidings_log_head',
    );
    const head = rows[0]?.position ?? 0;
    return head === 0 ? undefined : toPosition(head);
  }

  subscribe(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  /** Waits for the appends already queued, ends subscriptions and the listening connection. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== undefined) await this.flushing;
    this.subscriptions.close();
    if (this.listenRetry !== undefined) clearTimeout(this.listenRetry);
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
      await client.query('BEGIN');
      const head = await lockHead(client);
      const stored = await storedIds(client, group);
      const revisions = await lastRevisions(client, group);
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
        await rows.insert(client);
        await client.query('UPDATE tidings_log_head SET position = $1, hash = $2', [
          position,
          previous,
        ]);
        await client.query('SELECT pg_notify($1, $2)', [
          this.channel,
          noticeOf(head.position, position, types),
        ]);
      }
      await this.options.beforeCommit?.();
      await client.query('COMMIT');
      if (rows.count > 0) this.notices.committed(head.position, position, types);
      return outcomes;
    } catch (error) {
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
    const quiet = types === undefined ? undefined : this.notices.quietTo(after, types);
    if (quiet !== undefined) return { events: [], scannedTo: quiet };
    return this.readAfter(after, maxCount, types);
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
    return { events, scannedTo: rows.at(-1)?.position ?? after };
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
      const notice = parseNotice(message.payload);
      if (notice !== undefined) this.notices.committed(notice.before, notice.after, notice.types);
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
      this.listener = client;
      // Appends made while no one listened: look now.
      this.subscriptions.wakeAll();
    } catch (error) {
      retry(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Locks the log's head (the sequencer) and reads it. */
const lockHead = async (client: PgClient): Promise<{ position: number; hash: Digest }> => {
  const { rows } = await client.query<{ position: number; hash: Buffer }>(
    'SELECT position::float8 AS position, hash FROM tidings_log_head FOR UPDATE',
  );
  const head = rows[0];
  if (head === undefined) throw new Error('tidings_log_head has no row: the schema is damaged');
  return head;
};

/** Where the group's event ids are stored already, if anywhere. */
const storedIds = async (
  client: PgClient,
  group: readonly PendingAppend[],
): Promise<Map<string, StoredId>> => {
  const ids = group.flatMap((append) => append.events.map((event) => event.id));
  const { rows } = await client.query<StoredId & { event_id: string }>(
    'SELECT event_id, stream, revision, position::float8 AS position FROM tidings_events WHERE event_id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.event_id, row]));
};

/** The last revision of each stream the group appends to (absent: the stream does not exist). */
const lastRevisions = async (
  client: PgClient,
  group: readonly PendingAppend[],
): Promise<Map<string, number>> => {
  const streams = [...new Set(group.map((append) => append.stream))];
  const { rows } = await client.query<{ stream: string; revision: number | null }>(
    `SELECT s.stream, (SELECT revision FROM tidings_events e WHERE e.stream = s.stream
                       ORDER BY revision DESC LIMIT 1) AS revision
     FROM unnest($1::text[]) AS s(stream)`,
    [streams],
  );
  const revisions = new Map<string, number>();
  for (const row of rows) if (row.revision !== null) revisions.set(row.stream, row.revision);
  return revisions;
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

  async insert(client: PgClient): Promise<void> {
    const c = this.columns;
    await client.query(
      `INSERT INTO tidings_events (position, event_id, stream, revision, type, data, metadata, data_digest, hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[],
                            $7::text[], $8::bytea[], $9::bytea[])`,
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
      ],
    );
  }
}

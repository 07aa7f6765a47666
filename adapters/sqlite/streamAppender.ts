import * as E from 'fp-ts/lib/Either.js';
import type {
  AppendOptions,
  AppendResult,
  NewEvent,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../domain/shared/eventStore.js';
import { NO_STREAM_REVISION, revisionMatches } from '../../domain/shared/eventStore.js';
import { chainHash, digestOf, GENESIS_HASH } from '../../domain/shared/hashChain.js';
import type { SqliteDatabase } from './database.js';
import { toPosition, toRecordedEvent, type EventRow } from './eventRows.js';

/** One append as the port asks for it. */
export interface StreamAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly options: AppendOptions;
}

/**
 * Writes one append's events to its stream, inside a transaction the caller holds: an append that
 * repeats an earlier one (the same event ids) is answered with that one's result and writes
 * nothing; otherwise the expected revision is checked and the events inserted.
 */
export class StreamAppender {
  private readonly statements;
  /**
   * The log's last event as this group's appends left it: read once per group commit, then
   * carried from append to append. Set only once every insert of an append succeeded, so an
   * append whose savepoint is rolled back leaves it as it was before that append.
   */
  private tail: { readonly position: number; readonly hash: Buffer | null } | undefined;

  /**
   * @param noteWritten told of each event inserted, with its position (typeIndex.ts)
   * @param chain false leaves the hash chain out (the benchmark's measure of its cost)
   */
  constructor(
    db: SqliteDatabase,
    private readonly noteWritten: (type: string, position: number) => void,
    private readonly chain = true,
  ) {
    this.statements = {
      lastRevision: db.prepare<[string], { revision: number }>(
        'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      ),
      byEventId: db.prepare<[string], { stream: string; revision: number; position: number }>(
        'SELECT stream, revision, position FROM events WHERE event_id = ?',
      ),
      last: db.prepare<[], { position: number; hash: Buffer | null }>(
        'SELECT position, hash FROM events ORDER BY position DESC LIMIT 1',
      ),
      insertUnchained: db.prepare<[number, string, string, number, string, string, string]>(
        'INSERT INTO events (position, event_id, stream, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insert: db.prepare<[number, string, string, number, string, string, string, Buffer, Buffer]>(
        'INSERT INTO events (position, event_id, stream, revision, type, data, metadata, data_digest, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  /**
   * Starts a group commit's transaction: the log's last event is read again (a transaction
   * rolled back, or a write through another path, may have changed it).
   */
  beginGroup(): void {
    this.tail = undefined;
  }

  /** The log's last event, from this group's appends so far or from the database. */
  private lastEvent(): { readonly position: number; readonly hash: Buffer | null } | undefined {
    return this.tail ?? this.statements.last.get();
  }

  /** Appends one stream's events; adds what it wrote to `written`. Throws if an insert fails. */
  append(
    { stream, events, options }: StreamAppend,
    written: RecordedEvent[],
  ): E.Either<WrongExpectedRevision, AppendResult> {
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
    return E.right(this.insert(stream, events, current, written));
  }

  /**
   * Inserts `events` after revision `current` of `stream`, each chained to the log's last event
   * (domain/shared/hashChain.ts); adds them to `written`. The last event is read in the same
   * transaction, so the chain holds whichever appends a savepoint rolled back before.
   */
  private insert(
    stream: string,
    events: readonly NewEvent[],
    current: number,
    written: RecordedEvent[],
  ): AppendResult {
    if (!this.chain) return this.insertUnchained(stream, events, current, written);
    let revision = current;
    const last = this.lastEvent();
    if (last !== undefined && last.hash === null) {
      throw new Error(`the log's event at position ${last.position} is not chained`);
    }
    let position = last?.position ?? 0;
    let previous = last?.hash ?? GENESIS_HASH;
    const rows: EventRow[] = [];
    for (const event of events) {
      revision += 1;
      position += 1;
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      const dataDigest = digestOf(data);
      previous = chainHash(previous, {
        position,
        eventId: event.id,
        stream,
        revision,
        type: event.type,
        dataDigest,
        metadata,
      });
      this.statements.insert.run(
        position,
        event.id,
        stream,
        revision,
        event.type,
        data,
        metadata,
        dataDigest,
        previous,
      );
      this.noteWritten(event.type, position);
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
    this.tail = { position, hash: previous };
    // Read back as the database would give it (JSON round trip), parsed once for every reader.
    for (const row of rows) written.push(toRecordedEvent(row));
    return { nextRevision: revision, position: toPosition(position) };
  }

  /** {@link insert} without the hash chain. */
  private insertUnchained(
    stream: string,
    events: readonly NewEvent[],
    current: number,
    written: RecordedEvent[],
  ): AppendResult {
    let revision = current;
    let position = this.lastEvent()?.position ?? 0;
    const rows: EventRow[] = [];
    for (const event of events) {
      revision += 1;
      position += 1;
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      this.statements.insertUnchained.run(
        position,
        event.id,
        stream,
        revision,
        event.type,
        data,
        metadata,
      );
      this.noteWritten(event.type, position);
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
    this.tail = { position, hash: null };
    for (const row of rows) written.push(toRecordedEvent(row));
    return { nextRevision: revision, position: toPosition(position) };
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

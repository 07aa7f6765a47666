import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { SqliteDatabase } from './database.js';
import { EVENT_COLUMNS, rawToRecordedEvent, type LogRead, type RawEventRow } from './eventRows.js';
import type { TypeIndex } from './typeIndex.js';

/** A filtered read and the head it saw. */
interface FilteredRead extends LogRead {
  readonly after: number;
  readonly maxCount: number;
  readonly head: number;
}

/** The store's reads of the `events` table: what is not answered from memory is answered here. */
export class LogReader {
  /**
   * The last filtered read per list of types, valid while the head has not moved (the log only
   * grows): every request waiting for its write to reach a read model asks the same question
   * after each batch of that read model, and only the first of them needs the database.
   */
  private readonly lastFiltered = new WeakMap<readonly string[], FilteredRead>();
  private readonly statements;

  constructor(
    db: SqliteDatabase,
    private readonly types: TypeIndex,
  ) {
    // Rows come as arrays (raw mode), in the order of EVENT_COLUMNS: see RawEventRow.
    this.statements = {
      readStream: db
        .prepare<[string, number, number], RawEventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
        )
        .raw(true),
      readAll: db
        .prepare<[number, number, number], RawEventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
        )
        .raw(true),
      byPosition: db
        .prepare<[number], RawEventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position = ?`)
        .raw(true),
      readWindow: db
        .prepare<[number, number], RawEventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position`,
        )
        .raw(true),
      head: db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events'),
    };
  }

  /** The last position in the log, 0 while it is empty. */
  head(): number {
    return this.statements.head.get()?.head ?? 0;
  }

  /** Events of `stream` from revision `from`, at most `maxCount` (-1: all), in revision order. */
  readStream(stream: string, from: number, maxCount: number): RecordedEvent[] {
    return this.statements.readStream.all(stream, from, maxCount).map(rawToRecordedEvent);
  }

  /**
   * Reads up to `maxCount` events after `after`, none past `visibleTo`. With a type filter it finds
   * the positions of each wanted type through the type index, so a processor that waits for a rare
   * event type never scans the stretch of the log in between, and reports how far it looked (the
   * head, unless the batch is full), so a caller moves past events it does not want.
   */
  readAfter(
    after: number,
    maxCount: number,
    types: readonly string[] | undefined,
    visibleTo: number,
  ): LogRead {
    if (types === undefined) {
      const rows = this.statements.readAll.all(after, visibleTo, maxCount);
      return { events: rows.map(rawToRecordedEvent), scannedTo: rows.at(-1)?.[0] ?? after };
    }
    // One synchronous pass on the only connection of this process: the head and the reads agree.
    const head = Math.min(this.head(), visibleTo);
    if (head <= after) return { events: [], scannedTo: after };
    const memo = this.lastFiltered.get(types);
    if (memo?.head === head && memo.after === after && memo.maxCount === maxCount) {
      return { events: [...memo.events], scannedTo: memo.scannedTo };
    }
    const positions = this.types.positionsAfter(types, after, head, maxCount);
    const events = this.eventsAt(positions, types);
    const scannedTo = positions.length === maxCount ? (positions.at(-1) ?? head) : head;
    this.lastFiltered.set(types, { after, maxCount, head, events: [...events], scannedTo });
    return { events, scannedTo };
  }

  /** The events at `positions` (ascending, each of one of `types`). */
  private eventsAt(positions: readonly number[], types: readonly string[]): RecordedEvent[] {
    const events: RecordedEvent[] = [];
    const first = positions[0] ?? 0;
    const last = positions.at(-1) ?? 0;
    if (last - first < 2 * positions.length) {
      // Dense (most events are wanted, as in a rebuild): one range read beats a lookup per row.
      // Every wanted event in the range is one of `positions`, so filtering by type is exact.
      const wanted = new Set(types);
      for (const row of this.statements.readWindow.all(first - 1, last)) {
        if (wanted.has(row[4])) events.push(rawToRecordedEvent(row));
      }
    } else {
      for (const position of positions) {
        const row = this.statements.byPosition.get(position);
        if (row !== undefined) events.push(rawToRecordedEvent(row));
      }
    }
    return events;
  }
}

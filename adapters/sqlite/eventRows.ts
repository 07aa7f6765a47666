import type { Position, RecordedEvent } from '../../domain/shared/eventStore.js';

/** One row of the `events` table (adapters/sqlite/database.ts has the schema). */
export interface EventRow {
  readonly position: number;
  readonly event_id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** The columns of an {@link EventRow}, for reads that need no hash (`SELECT ${EVENT_COLUMNS} …`). */
export const EVENT_COLUMNS = 'position, event_id, stream, revision, type, data, metadata';

/** A log position of this store: the row's integer position is both halves of the port's pair. */
export const toPosition = (position: number): Position => {
  const both = BigInt(position);
  return { commit: both, prepare: both };
};

/** The event a row holds, its JSON parsed. */
export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  stream: row.stream,
  revision: row.revision,
  position: toPosition(row.position),
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
});

/**
 * An {@link EventRow} as a read in raw mode gives it (`statement.raw(true)`): the columns of
 * {@link EVENT_COLUMNS}, in that order. Arrays cost the driver about a third less than an object
 * per row, which is most of a replay's reading.
 */
export type RawEventRow = readonly [
  position: number,
  eventId: string,
  stream: string,
  revision: number,
  type: string,
  data: string,
  metadata: string,
];

/** The event a raw row holds, its JSON parsed (as {@link toRecordedEvent}). */
export const rawToRecordedEvent = (row: RawEventRow): RecordedEvent => ({
  id: row[1],
  stream: row[2],
  revision: row[3],
  position: toPosition(row[0]),
  type: row[4],
  data: JSON.parse(row[5]) as unknown,
  metadata: JSON.parse(row[6]) as RecordedEvent['metadata'],
});

/** What a read of the log found, and how far it looked (a caller moves past what it skipped). */
export interface LogRead {
  readonly events: RecordedEvent[];
  readonly scannedTo: number;
}

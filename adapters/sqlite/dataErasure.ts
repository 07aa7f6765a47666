import type { ErasableLog, StoredData } from '../../application/erasure/erasableLog.js';
import type { SqliteDatabase } from './database.js';

/** Streams per statement of `eventsOf`: far below SQLite's limit on bound values. */
const STREAMS_PER_READ = 500;

/**
 * Erasure's reads and rewrites of the embedded log (docs/audit.md, "Erasure"). A rewrite
 * replaces `data` only: `data_digest` and `hash`, which the chain covers, stay as first written.
 * The database runs with `secure_delete` (adapters/sqlite/database.ts), so the bytes a rewrite
 * frees are zeroed, and a truncating checkpoint afterwards empties the write-ahead log, whose
 * frames may still hold the pages as they were.
 */
export class SqliteDataErasure implements ErasableLog {
  private readonly statements;

  constructor(
    private readonly db: SqliteDatabase,
    /** Told of each rewritten event, so that copies kept in memory follow. */
    private readonly rewritten: (position: number, data: unknown) => void,
  ) {
    this.statements = {
      streamsWith: db.prepare<[string, string, string], { stream: string }>(
        'SELECT DISTINCT stream FROM events WHERE type = ? AND json_extract(data, ?) = ?',
      ),
      rewrite: db.prepare<[string, number]>('UPDATE events SET data = ? WHERE position = ?'),
      erased: db.prepare<[], { recipientId: string }>(
        "SELECT json_extract(data, '$.recipientId') AS recipientId FROM events WHERE type = 'RecipientErased'",
      ),
      recipientOf: db.prepare<[string], { recipientId: string | null }>(
        `SELECT json_extract(data, '$.recipientId') AS recipientId FROM events
         WHERE stream = ? AND type IN ('MessageSubmitted', 'ComplaintFiled') LIMIT 1`,
      ),
    };
  }

  erasedRecipients(): readonly string[] {
    return this.statements.erased.all().map(({ recipientId }) => recipientId);
  }

  recipientOf(stream: string): string | undefined {
    return this.statements.recipientOf.get(stream)?.recipientId ?? undefined;
  }

  streamsWith(type: string, field: string, value: string): readonly string[] {
    return this.statements.streamsWith.all(type, `$.${field}`, value).map(({ stream }) => stream);
  }

  eventsOf(streams: readonly string[], types: readonly string[]): readonly StoredData[] {
    const found: StoredData[] = [];
    const typeList = types.map(() => '?').join(', ');
    for (let start = 0; start < streams.length; start += STREAMS_PER_READ) {
      const chunk = streams.slice(start, start + STREAMS_PER_READ);
      const rows = this.db
        .prepare<unknown[], { position: number; stream: string; type: string; data: string }>(
          `SELECT position, stream, type, data FROM events
           WHERE stream IN (${chunk.map(() => '?').join(', ')}) AND type IN (${typeList})`,
        )
        .all(...chunk, ...types);
      for (const row of rows) {
        found.push({ ...row, data: JSON.parse(row.data) as StoredData['data'] });
      }
    }
    return found.sort((a, b) => a.position - b.position);
  }

  rewrite(changes: readonly { readonly position: number; readonly data: unknown }[]): void {
    if (changes.length === 0) return;
    this.db.transaction(() => {
      for (const { position, data } of changes) {
        this.statements.rewrite.run(JSON.stringify(data), position);
      }
    })();
    for (const { position, data } of changes) this.rewritten(position, data);
    emptyWriteAheadLog(this.db);
  }
}

/**
 * Copies the write-ahead log into the database and truncates it, so no frame of it holds the
 * pages as they were before a rewrite (of the log here; of a node's read models when the log is
 * shared, composition/nodeErasure.ts). A reader on another connection (a backup, a read-only
 * server on the folder) can keep it busy past the busy timeout SQLite waits
 * (adapters/sqlite/database.ts): that is a failure, which makes the erasure repeat (its steps are
 * idempotent) rather than report the old bytes gone.
 */
export const emptyWriteAheadLog = (db: SqliteDatabase): void => {
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
  if (result === undefined || (result.busy === 0 && result.log <= 0)) return;
  throw new Error(
    `the write-ahead log could not be emptied after an erasure (${result.log} frames left): another connection is reading the database`,
  );
};

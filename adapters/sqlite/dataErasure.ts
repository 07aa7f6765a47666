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
    };
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
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}

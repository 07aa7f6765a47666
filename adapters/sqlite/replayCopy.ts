import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, SCHEMA_VERSION, type SqliteDatabase } from './database.js';
import { EVENT_COLUMNS } from './eventRows.js';

/** The folder fact of a replayed folder: the time its log was cut at. */
const REPLAYED_UNTIL = 'replayed_until';

/** Events copied per transaction. */
const BATCH = 10_000;

/** The time a folder made by `npm run replay` shows the log as of; undefined for any other. */
export const replayedUntil = (db: SqliteDatabase): string | undefined =>
  db
    .prepare<[string], { value: string }>('SELECT value FROM folder_facts WHERE name = ?')
    .get(REPLAYED_UNTIL)?.value;

/**
 * Opens a data folder's database read-only for a replay: a running server may go on writing it
 * (WAL readers see the last commit), and nothing here can change it.
 */
export const openSourceDatabase = (dataDir: string): SqliteDatabase => {
  const file = join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw new Error(`${dataDir} holds no ${DATABASE_FILE}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `${file} has schema version ${version}, this build ${SCHEMA_VERSION}: start the server on it once first`,
    );
  }
  return db;
};

/** What {@link copyLogUntil} copied. */
export interface CopiedLog {
  readonly events: number;
  /** The last position copied (0 when none). */
  readonly lastPosition: number;
}

/**
 * Copies the log of `source` into the empty log of `target` up to `until` (ISO 8601): every
 * event before the first one that occurred after it, rows and hashes as they are, so the copy is
 * a prefix of the log that verifies on its own. Records `until` as the folder's replay time.
 */
export const copyLogUntil = (
  source: SqliteDatabase,
  target: SqliteDatabase,
  until: string,
  onProgress: (copied: number) => void = () => {},
): CopiedLog => {
  const present = target.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get();
  if ((present?.n ?? 0) > 0) throw new Error('the target log is not empty');
  const after = source
    .prepare<[string], { position: number | null }>(
      "SELECT min(position) AS position FROM events WHERE json_extract(metadata, '$.occurredAt') > ?",
    )
    .get(until)?.position;
  const head =
    source
      .prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events')
      .get()?.position ?? 0;
  const last = after === null || after === undefined ? head : after - 1;
  const columns = `${EVENT_COLUMNS}, data_digest, hash`;
  const read = source.prepare<[number, number, number], Record<string, unknown>>(
    `SELECT ${columns} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
  );
  const names = columns.split(',').map((name) => name.trim());
  const insert = target.prepare(
    `INSERT INTO events (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`,
  );
  let from = 0;
  let copied = 0;
  for (;;) {
    const rows = read.all(from, last, BATCH);
    if (rows.length === 0) break;
    target.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    copied += rows.length;
    from = Number(rows.at(-1)?.['position'] ?? last);
    onProgress(copied);
  }
  target
    .prepare(
      `INSERT INTO folder_facts (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    )
    .run(REPLAYED_UNTIL, until);
  return { events: copied, lastPosition: copied === 0 ? 0 : from };
};

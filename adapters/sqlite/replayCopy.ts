import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, recordedLogKind, SCHEMA_VERSION, type SqliteDatabase } from './database.js';

/** The folder fact of a replayed folder: the time its log was cut at. */
const REPLAYED_UNTIL = 'replayed_until';

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
  if (recordedLogKind(db) === 'eventstoredb') {
    db.close();
    throw new Error(
      `${dataDir} follows a log in EventStoreDB, which is not in the folder: a replay reads the embedded log`,
    );
  }
  return db;
};

/** What {@link trimLogUntil} kept. */
export interface CopiedLog {
  readonly events: number;
  /** The last position kept (0 when none). */
  readonly lastPosition: number;
}

/** The only rows of a copied folder a replay keeps: the log and the facts about it. */
const KEPT_TABLES = new Set(['events', 'folder_facts']);
const KEPT_FACTS = ['log', 'unchained_through'];

/**
 * Turns a page-level copy of a live folder's database (adapters/sqlite/onlineBackup.ts,
 * `copySnapshot`) into the log as of `until` (ISO 8601): every event from the first one that
 * occurred after it is removed, so what stays is a prefix of the log, rows and hashes as they
 * were, that verifies on its own. Everything else the copy holds (read models, checkpoints,
 * idempotency keys, sessions) is emptied for the read models to be rebuilt from that prefix;
 * `secure_delete` zeroes the freed pages. Records `until` as the folder's replay time.
 *
 * Copying pages and trimming is several times faster than copying the prefix row by row, even
 * inside SQLite: the log's unique indexes are copied as built instead of rebuilt entry by entry.
 */
export const trimLogUntil = (target: SqliteDatabase, until: string): CopiedLog => {
  const after = target
    .prepare<[string], { position: number | null }>(
      "SELECT min(position) AS position FROM events WHERE json_extract(metadata, '$.occurredAt') > ?",
    )
    .get(until)?.position;
  const tables = target
    .prepare<[], string>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .pluck()
    .all()
    .filter((name) => !KEPT_TABLES.has(name));
  return target.transaction((): CopiedLog => {
    if (after !== null && after !== undefined) {
      target.prepare('DELETE FROM events WHERE position >= ?').run(after);
    }
    for (const table of tables) target.exec(`DELETE FROM "${table}"`);
    target
      .prepare(
        `DELETE FROM folder_facts WHERE name NOT IN (${KEPT_FACTS.map(() => '?').join(', ')})`,
      )
      .run(...KEPT_FACTS);
    target
      .prepare('INSERT INTO folder_facts (name, value) VALUES (?, ?)')
      .run(REPLAYED_UNTIL, until);
    const kept = target
      .prepare<[], { events: number; last: number }>(
        'SELECT count(*) AS events, coalesce(max(position), 0) AS last FROM events',
      )
      .get() ?? { events: 0, last: 0 };
    return { events: kept.events, lastPosition: kept.last };
  })();
};

import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { SCHEMA_VERSION, type SqliteDatabase } from './database.js';
import { refusal, type BackupRefusal } from './backupRefusal.js';

/**
 * The backup file: a SQLite database, the store's own tables as a snapshot copied them, plus
 * two tables of its own that a restore removes again:
 *
 * - `tidings_backup_manifest`, one row: the format version, when and where the copy was taken,
 *   the log's head position and event count in it, and its schema version;
 * - `tidings_backup_files`: the data folder's other files (the generated tokens), by name.
 *
 * One file, in rollback-journal mode (no `-wal` beside it), so it can be moved as it is. The
 * manifest table and its `format` column stay in every later format, so any build can tell
 * whether it reads a backup before it reads anything else.
 */

/** The layout this build writes; a restore refuses a higher one. */
export const BACKUP_FORMAT = 1;

const MANIFEST_TABLE = 'tidings_backup_manifest';
const FILES_TABLE = 'tidings_backup_files';

/** What a backup says about itself. */
export interface BackupManifest {
  readonly format: number;
  /** ISO time the snapshot was taken. */
  readonly createdAt: string;
  /** The log's last position in the copy; 0 for an empty log. */
  readonly headPosition: number;
  /** Events in the copy's log. */
  readonly events: number;
  /** The database's schema version (`user_version`). */
  readonly schemaVersion: number;
  /** Where it was taken: host name and data folder. */
  readonly source: string;
  // Issue 14: the audit chain's head (position and hash) belongs here once the log is chained,
  // so a restore can verify the copy's chain up to it.
}

/** A file of the data folder, carried inside the backup. */
export interface CarriedFile {
  readonly name: string;
  readonly content: Buffer;
}

/** A backup, read and checked. */
export interface BackupContents {
  readonly manifest: BackupManifest;
  readonly files: readonly CarriedFile[];
}

/**
 * Turns a finished snapshot copy into a backup: rollback-journal mode, the manifest and the
 * folder's files written in one transaction, and SQLite's integrity check over the result. A
 * failure here is the disk's or a bug, not the operator's, so it throws.
 */
export const sealBackup = (
  file: string,
  manifest: BackupManifest,
  files: readonly CarriedFile[],
): void => {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      db.exec(
        `CREATE TABLE ${MANIFEST_TABLE} (
           format         INTEGER NOT NULL,
           created_at     TEXT    NOT NULL,
           head_position  INTEGER NOT NULL,
           events         INTEGER NOT NULL,
           schema_version INTEGER NOT NULL,
           source         TEXT    NOT NULL
         );
         CREATE TABLE ${FILES_TABLE} (name TEXT PRIMARY KEY, content BLOB NOT NULL);`,
      );
      db.prepare(
        `INSERT INTO ${MANIFEST_TABLE} (format, created_at, head_position, events, schema_version, source)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        manifest.format,
        manifest.createdAt,
        manifest.headPosition,
        manifest.events,
        manifest.schemaVersion,
        manifest.source,
      );
      const insert = db.prepare(`INSERT INTO ${FILES_TABLE} (name, content) VALUES (?, ?)`);
      for (const carried of files) insert.run(carried.name, carried.content);
    })();
    const [problem] = integrityProblems(db);
    if (problem !== undefined) {
      throw new Error(`the backup fails SQLite's integrity check: ${problem}`);
    }
  } finally {
    db.close();
  }
};

/**
 * Reads a backup and checks it before anything is restored from it: a SQLite file with a
 * manifest, a format this build reads, SQLite's `integrity_check` clean, a schema this build
 * knows, and a log that holds what the manifest says (so a copy was not torn or edited).
 */
export const readBackup = (file: string): E.Either<BackupRefusal, BackupContents> => {
  let db: SqliteDatabase;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    return damaged(file, error);
  }
  try {
    return checkBackup(db, file);
  } catch (error) {
    return damaged(file, error);
  } finally {
    db.close();
  }
};

/** Removes the backup's own tables from a restored copy, which becomes a store in WAL mode. */
export const stripBackupTables = (file: string): void => {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('synchronous = FULL');
    db.exec(`BEGIN; DROP TABLE ${MANIFEST_TABLE}; DROP TABLE ${FILES_TABLE}; COMMIT;`);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
};

/** SQLite's `integrity_check` findings; none for a sound database. */
export const integrityProblems = (db: SqliteDatabase): string[] =>
  (db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[])
    .map((row) => row.integrity_check)
    .filter((line) => line !== 'ok');

const ManifestRow = t.type({
  created_at: t.string,
  head_position: t.Int,
  events: t.Int,
  schema_version: t.Int,
  source: t.string,
});

/** A carried file's name: one plain name in the folder, never a path. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const checkBackup = (db: SqliteDatabase, file: string): E.Either<BackupRefusal, BackupContents> => {
  const tables = new Set(
    db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all(),
  );
  if (!tables.has(MANIFEST_TABLE) || !tables.has(FILES_TABLE)) {
    return E.left(
      refusal(
        'not_a_backup',
        tables.has('events')
          ? `${file} is a Tidings database, not a backup of one (npm run backup writes those)`
          : `${file} is not a Tidings backup (it has no manifest)`,
      ),
    );
  }
  if (!tables.has('events')) {
    return E.left(refusal('corrupt', `${file} is damaged: it holds no event log`));
  }
  const format = db.prepare(`SELECT format FROM ${MANIFEST_TABLE}`).pluck().get();
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    return E.left(refusal('corrupt', `${file} is damaged: its manifest names no format`));
  }
  if (format > BACKUP_FORMAT) {
    return E.left(
      refusal(
        'newer_format',
        `${file} is a backup in format ${format}, newer than this build reads (${BACKUP_FORMAT}); restore it with the Tidings that wrote it or a later one`,
      ),
    );
  }
  const [problem] = integrityProblems(db);
  if (problem !== undefined) {
    return E.left(
      refusal('corrupt', `${file} is damaged: SQLite's integrity check says "${problem}"`),
    );
  }
  return pipe(
    ManifestRow.decode(db.prepare(`SELECT * FROM ${MANIFEST_TABLE}`).get()),
    E.mapLeft(() => refusal('corrupt', `${file} is damaged: its manifest is incomplete`)),
    E.map((row): BackupManifest => ({
      format,
      createdAt: row.created_at,
      headPosition: row.head_position,
      events: row.events,
      schemaVersion: row.schema_version,
      source: row.source,
    })),
    E.flatMap((manifest) => checkContents(db, file, manifest)),
    E.flatMap((manifest) =>
      pipe(
        carriedFiles(db, file),
        E.map((files) => ({ manifest, files })),
      ),
    ),
  );
};

/** The schema is one this build runs, and the log is the one the manifest describes. */
const checkContents = (
  db: SqliteDatabase,
  file: string,
  manifest: BackupManifest,
): E.Either<BackupRefusal, BackupManifest> => {
  if (manifest.schemaVersion > SCHEMA_VERSION) {
    return E.left(
      refusal(
        'newer_store',
        `${file} holds a store of schema version ${manifest.schemaVersion}, newer than this build knows (${SCHEMA_VERSION}); upgrade Tidings first`,
      ),
    );
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  const log = db
    .prepare<[], { events: number; head: number }>(
      'SELECT count(*) AS events, coalesce(max(position), 0) AS head FROM events',
    )
    .get();
  if (
    version !== manifest.schemaVersion ||
    log?.events !== manifest.events ||
    log.head !== manifest.headPosition
  ) {
    return E.left(
      refusal(
        'corrupt',
        `${file} is damaged: it holds ${log?.events ?? 0} events up to position ${log?.head ?? 0} (schema ${version}), but its manifest says ${manifest.events} up to ${manifest.headPosition} (schema ${manifest.schemaVersion})`,
      ),
    );
  }
  return E.right(manifest);
};

const carriedFiles = (
  db: SqliteDatabase,
  file: string,
): E.Either<BackupRefusal, readonly CarriedFile[]> => {
  const rows = db
    .prepare<[], { name: unknown; content: unknown }>(`SELECT name, content FROM ${FILES_TABLE}`)
    .all();
  const files: CarriedFile[] = [];
  for (const { name, content } of rows) {
    if (typeof name !== 'string' || !PLAIN_NAME.test(name) || !Buffer.isBuffer(content)) {
      return E.left(
        refusal('corrupt', `${file} is damaged: it carries a file that is not a plain file name`),
      );
    }
    files.push({ name, content });
  }
  return E.right(files);
};

/** A file SQLite cannot read as a database, or finds damaged while reading it. */
const damaged = (file: string, error: unknown): E.Either<BackupRefusal, never> => {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB') {
    return E.left(refusal('not_a_backup', `${file} is not a Tidings backup (not a SQLite file)`));
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) {
    return E.left(
      refusal(
        'corrupt',
        `${file} is damaged: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
  throw error;
};

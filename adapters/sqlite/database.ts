import Database from 'better-sqlite3';
import { chmodSync, closeSync, fsync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded database: the event log (when SQLite is the store), read models and checkpoints. */
export type SqliteDatabase = Database.Database;

/** How hard a commit waits for the disk; see https://sqlite.org/pragma.html#pragma_synchronous. */
export type SynchronousMode = 'full' | 'normal';

export interface OpenDatabaseOptions {
  /** Folder that holds `tidings.db`; created if missing. `:memory:` opens a private in-memory database. */
  readonly dataDir: string;
  /**
   * `full` (default) syncs the WAL on every commit, so an accepted event survives a power cut;
   * group commit keeps that affordable. `normal` survives a process crash but not a power cut.
   */
  readonly synchronous?: SynchronousMode;
}

/** File name of the embedded database inside the data folder. */
export const DATABASE_FILE = 'tidings.db';

/**
 * Opens (creating if needed) the embedded database in WAL mode and brings its schema up to date.
 * One connection serves the whole process: better-sqlite3 is synchronous, so every statement runs
 * to completion on the event loop and no two transactions interleave.
 */
export const openDatabase = (options: OpenDatabaseOptions): SqliteDatabase => {
  const inMemory = options.dataDir === ':memory:';
  if (!inMemory) mkdirSync(options.dataDir, { recursive: true });
  const file = inMemory ? ':memory:' : join(options.dataDir, DATABASE_FILE);
  if (!inMemory) ownerOnly(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${(options.synchronous ?? 'full').toUpperCase()}`);
  db.pragma('foreign_keys = ON');
  // Deleted and overwritten content is zeroed, not left in free space: an erased person's data
  // must not remain in the file (docs/audit.md, "Erasure").
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  // A 16 MiB page cache. No memory-mapped I/O: mapped pages count as resident memory, and a
  // replay of a large log would push the process past its memory budget for little speed.
  db.pragma('cache_size = -16384');
  db.pragma('mmap_size = 0');
  db.pragma('temp_store = MEMORY');
  // Checkpoint the WAL every ~40 MiB instead of SQLite's 4 MiB: a hot page (the end of an index)
  // is then copied back into the database file once per checkpoint rather than ten times, which
  // made commits of a busy pipeline about a third cheaper (bench/foundation.ts).
  db.pragma('wal_autocheckpoint = 10000');
  migrate(db);
  return db;
};

/**
 * Creates the database file owner-only (0600), or tightens an existing one: it holds people's
 * messages and session hashes. SQLite gives its `-wal` and `-shm` files the database file's mode.
 */
const ownerOnly = (file: string): void => {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
};

/**
 * Schema changes, in order. Never edit a shipped entry: append a new one. `user_version` records
 * how many have been applied.
 */
const migrations: readonly string[] = [
  `CREATE TABLE events (
     position  INTEGER PRIMARY KEY,
     event_id  TEXT    NOT NULL UNIQUE,
     stream    TEXT    NOT NULL,
     revision  INTEGER NOT NULL,
     type      TEXT    NOT NULL,
     data      TEXT    NOT NULL,
     metadata  TEXT    NOT NULL,
     UNIQUE (stream, revision)
   );
   CREATE TABLE checkpoints (
     name       TEXT PRIMARY KEY,
     position   TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE projection_versions (
     name    TEXT PRIMARY KEY,
     version INTEGER NOT NULL
   );`,
  // Answers to requests that carried an Idempotency-Key (docs/api.md), kept 24 h. A cache of
  // responses, not domain state, so it lives beside the log rather than in it.
  `CREATE TABLE idempotency_keys (
     app_id     TEXT NOT NULL,
     key        TEXT NOT NULL,
     body_hash  TEXT NOT NULL,
     state      TEXT NOT NULL,
     status     INTEGER,
     response   TEXT,
     created_at TEXT NOT NULL,
     PRIMARY KEY (app_id, key)
   );
   CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);`,
  // Reads filtered by event type (a processor's subscription, "has this processor seen my write")
  // seek here instead of scanning every event since the reader's position.
  `CREATE INDEX events_by_type ON events (type, position);`,
  // Which server process claimed an Idempotency-Key, so a restart can take over its claims at once.
  `ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;`,
  // When the key was first claimed within its 24 h (a retry that takes a failed claim over keeps
  // it): the ids and delays of the request derive from it, so the retry names the same messages.
  `ALTER TABLE idempotency_keys ADD COLUMN first_at TEXT;`,
  // Facts about the data folder itself, e.g. which log its checkpoints and read models follow.
  `CREATE TABLE folder_facts (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // The hash chain (domain/shared/hashChain.ts): each event's data digest (it outlives an erasure
  // of the data) and its chained hash. Rows written before this are chained at the first start
  // of the code that has it (adapters/sqlite/chainMigration.ts).
  // The last position written before it is kept, so that only those rows are ever chained after
  // the fact: a row of the chained log found later without a hash is a fault `verify` names.
  `ALTER TABLE events ADD COLUMN data_digest BLOB;
   ALTER TABLE events ADD COLUMN hash BLOB;
   INSERT INTO folder_facts (name, value)
     SELECT 'unchained_through', CAST(MAX(position) AS TEXT) FROM events HAVING MAX(position) IS NOT NULL;`,
];

/** The schema version (`user_version`) this build brings a database to; a newer one is refused. */
export const SCHEMA_VERSION = migrations.length;

/** Which log a data folder's checkpoints and read models follow. */
export type LogKind = 'sqlite' | 'eventstoredb' | 'postgres';

/**
 * Records the kind of log on the folder's first start, and refuses a start with the other kind:
 * the checkpoints (positions in one log) and read models (built from it) mean nothing against
 * another, and the processors would wait for positions the new log never reaches.
 */
export const claimLogKind = (db: SqliteDatabase, kind: LogKind): void => {
  const known = recordedLogKind(db);
  if (known === undefined) {
    db.prepare("INSERT INTO folder_facts (name, value) VALUES ('log', ?)").run(kind);
    return;
  }
  if (known !== kind) {
    const describe = (k: string): string =>
      k === 'sqlite'
        ? 'the embedded log'
        : k === 'postgres'
          ? 'PostgreSQL (TIDINGS_DATABASE_URL)'
          : 'EventStoreDB (EVENTSTORE_CONNECTION_STRING)';
    throw new Error(
      `this data folder follows ${describe(known)}, but the settings now name ${describe(kind)}: its checkpoints and read models belong to the other log. Use another TIDINGS_DATA_DIR for it, or go back to the settings it was made with`,
    );
  }
};

/**
 * Records which shared deployment (its id in the shared database) the folder's read models were
 * built from, and refuses a folder built from another: its checkpoints are positions in that log.
 */
export const claimDeployment = (db: SqliteDatabase, deploymentId: string): void => {
  const row = db
    .prepare<[], { value: string }>("SELECT value FROM folder_facts WHERE name = 'deployment'")
    .get();
  if (row === undefined) {
    db.prepare("INSERT INTO folder_facts (name, value) VALUES ('deployment', ?)").run(deploymentId);
    return;
  }
  if (row.value !== deploymentId) {
    throw new Error(
      `this data folder holds the read models of deployment ${row.value}, but TIDINGS_DATABASE_URL is deployment ${deploymentId}. Start this node on an empty TIDINGS_DATA_DIR`,
    );
  }
};

/** The kind of log the folder's first start recorded ({@link claimLogKind}); undefined before it. */
export const recordedLogKind = (db: SqliteDatabase): string | undefined =>
  db.prepare<[], { value: string }>("SELECT value FROM folder_facts WHERE name = 'log'").get()
    ?.value;

const migrate = (db: SqliteDatabase): void => {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > SCHEMA_VERSION) {
    throw new Error(
      `database schema version ${applied} is newer than this build knows (${SCHEMA_VERSION}); upgrade Tidings`,
    );
  }
  for (let index = applied; index < migrations.length; index += 1) {
    db.transaction(() => {
      db.exec(migrations[index] ?? '');
      db.pragma(`user_version = ${index + 1}`);
    })();
  }
};

/**
 * Makes committed transactions durable by syncing the database's WAL file, off the event loop
 * (libuv's thread pool). `sync` calls `done` once everything committed before the call is on
 * disk; `close` releases the file.
 */
export interface WalSync {
  sync(done: (error: Error | null) => void): void;
  close(): void;
}

/**
 * A {@link WalSync} for `db` (a file database in WAL mode): fsync of its `-wal` file. Used with
 * the connection at `synchronous = NORMAL`, it gives what `FULL` gives — a commit is on disk
 * before anyone is told it happened — without the event loop waiting for the disk, and one sync
 * serves every commit made while the previous one ran. (fsync acts on the file, whichever
 * descriptor wrote it.) Undefined for an in-memory database.
 */
export const walSyncOf = (db: SqliteDatabase): WalSync | undefined => {
  if (db.memory) return undefined;
  let fd: number | undefined;
  return {
    sync: (done) => {
      try {
        fd ??= openSync(`${db.name}-wal`, 'r');
      } catch (error) {
        done(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      fsync(fd, done);
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
};

/**
 * Opens the database the way the server does: with `synchronous: 'full'` (the default) the
 * connection itself runs at `normal` and the event store syncs the WAL before it acknowledges
 * appends ({@link walSyncOf}); read models and checkpoints are made durable by the same syncs
 * (the WAL is one sequential file) and can be rebuilt from the log anyway.
 */
export const openStoreDatabase = (
  options: OpenDatabaseOptions,
): { readonly db: SqliteDatabase; readonly walSync?: WalSync } => {
  const full = (options.synchronous ?? 'full') === 'full';
  const db = openDatabase({ ...options, synchronous: 'normal' });
  const walSync = full ? walSyncOf(db) : undefined;
  return walSync === undefined ? { db } : { db, walSync };
};

import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { recordedLogKind, SCHEMA_VERSION, type SqliteDatabase } from './database.js';
import { refusal, type BackupRefusal } from './backupRefusal.js';

/**
 * Opens a data folder's database for a backup: read-only, without the folder's lock and without
 * running migrations, so it can sit beside a running server (the lock keeps a second *writer*
 * out; a reader changes nothing the server relies on). Refuses a file that is not a Tidings
 * store, one made by a newer build, and one whose log is in EventStoreDB. (On a folder no server
 * has open, this reader leaves an empty `-wal` and a `-shm` beside the database, as any SQLite
 * reader of a WAL database does; the next server start uses them as they are.)
 */
export const openStoreForBackup = (file: string): E.Either<BackupRefusal, SqliteDatabase> => {
  let db: SqliteDatabase;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    return notAStore(file, error);
  }
  try {
    const checked = checkStore(db, file);
    if (E.isLeft(checked)) db.close();
    return E.map(() => db)(checked);
  } catch (error) {
    db.close();
    return notAStore(file, error);
  }
};

/** How far a copy is, in database pages. */
export interface SnapshotProgress {
  readonly done: number;
  readonly total: number;
}

export interface SnapshotOptions {
  /** Pages copied per step; between steps the event loop runs. 1,024 by default. */
  readonly pagesPerStep?: number;
  /** Called after each step, and once at the end with `done === total`. */
  readonly onProgress?: (progress: SnapshotProgress) => void;
  /** Whether to count the copy's events (a scan of the log; true by default). */
  readonly countEvents?: boolean;
}

/** What a snapshot copy holds. */
export interface Snapshot {
  readonly pages: number;
  /** The log's last position in the copy; 0 for an empty log. */
  readonly headPosition: number;
  /** How many events the copy holds; undefined when not counted (`countEvents: false`). */
  readonly events: number | undefined;
  readonly schemaVersion: number;
}

/**
 * Copies `source` into `target` with SQLite's online backup API, step by step, as one
 * consistent snapshot although other processes keep writing.
 *
 * The backup API alone restarts from the first page whenever another connection commits
 * between two steps, so a busy server could keep it from ever finishing. Here the source
 * connection holds one read transaction across every step: in WAL mode that pins the snapshot
 * (the steps read it, not the newer commits) and blocks no writer. Writers keep committing to
 * the WAL; only its checkpoint waits for the copy to end, so the WAL grows while it runs. The
 * head position and event count are read in that same transaction, so they describe exactly
 * the copy.
 */
export const copySnapshot = async (
  source: SqliteDatabase,
  target: string,
  options: SnapshotOptions = {},
): Promise<Snapshot> => {
  const pagesPerStep = options.pagesPerStep ?? 1_024;
  source.exec('BEGIN');
  try {
    // The first read starts the transaction, and with it the snapshot every step reads.
    const log = source
      .prepare<[], { events: number | null; head: number }>(
        options.countEvents === false
          ? 'SELECT NULL AS events, coalesce(max(position), 0) AS head FROM events'
          : 'SELECT count(*) AS events, coalesce(max(position), 0) AS head FROM events',
      )
      .get() ?? { events: 0, head: 0 };
    const schemaVersion = source.pragma('user_version', { simple: true }) as number;
    const { totalPages } = await source.backup(target, {
      progress: ({ totalPages: total, remainingPages }) => {
        options.onProgress?.({ done: total - remainingPages, total });
        return pagesPerStep;
      },
    });
    options.onProgress?.({ done: totalPages, total: totalPages });
    return {
      pages: totalPages,
      headPosition: log.head,
      events: log.events ?? undefined,
      schemaVersion,
    };
  } finally {
    source.exec('COMMIT');
  }
};

const checkStore = (db: SqliteDatabase, file: string): E.Either<BackupRefusal, void> => {
  const tables = new Set(
    db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all(),
  );
  const version = db.pragma('user_version', { simple: true }) as number;
  if (!tables.has('events') || !tables.has('checkpoints') || version < 1) {
    return E.left(refusal('not_a_store', `${file} is not a Tidings store (it has no event log)`));
  }
  if (version > SCHEMA_VERSION) {
    return E.left(
      refusal(
        'newer_store',
        `${file} has schema version ${version}, newer than this build knows (${SCHEMA_VERSION}); back it up with the Tidings that runs it`,
      ),
    );
  }
  if (tables.has('folder_facts') && recordedLogKind(db) === 'eventstoredb') {
    return E.left(
      refusal(
        'eventstoredb',
        `the data folder of ${file} follows a log in EventStoreDB, which is not in the folder: back up EventStoreDB with its own tools`,
      ),
    );
  }
  return E.right(undefined);
};

const notAStore = (file: string, error: unknown): E.Either<BackupRefusal, never> => {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) {
    return E.left(
      refusal(
        'not_a_store',
        `${file} is not a Tidings store (SQLite: ${error instanceof Error ? error.message : String(error)})`,
      ),
    );
  }
  throw error;
};

import { mkdirSync } from 'node:fs';
import type { EventStore } from '../domain/shared/eventStore.js';
import type { Settings } from '../adapters/config/settings.js';
import { lockDataDir } from '../adapters/config/dataDirLock.js';
import { unfinishedRestore } from '../adapters/config/dataFolderFiles.js';
import {
  claimLogKind,
  openStoreDatabase,
  type LogKind,
  type SqliteDatabase,
} from '../adapters/sqlite/database.js';
import { SqliteEventStore } from '../adapters/sqlite/sqliteEventStore.js';
import { openEsdbEventStore } from '../adapters/eventstoredb/esdbEventStore.js';
import type { StopStack } from './stopStack.js';
import type { ErasableLog } from '../application/erasure/erasableLog.js';
import { openSharedDatabase, type SharedDatabase } from './sharedDatabase.js';

/** The log a configuration chooses (docs/architecture.md, "The ports": `EventStore`). */
export const logKindOf = (
  settings: Pick<Settings, 'eventStoreConnectionString'> & Partial<Pick<Settings, 'databaseUrl'>>,
): LogKind =>
  settings.databaseUrl !== undefined
    ? 'postgres'
    : settings.eventStoreConnectionString === undefined
      ? 'sqlite'
      : 'eventstoredb';

/** The data folder, opened: its database (read models, checkpoints) and the log. */
export interface DataFolder {
  readonly db: SqliteDatabase;
  readonly store: EventStore;
  /** Events of a log written before the hash chain that this start chained (0 but once). */
  readonly chainedAtOpen: number;
  /** Erasure's access to the log; absent on EventStoreDB, whose events cannot be rewritten. */
  readonly erasable?: ErasableLog;
  /** With TIDINGS_DATABASE_URL: the shared database this node is one of several on. */
  readonly shared?: SharedDatabase;
}

/**
 * Locks the data folder for this process, opens its database and the log the settings choose.
 * Each of them pushes its stop step, so the lock is released last. Refuses a folder that a
 * restore left unfinished (README "Backups"): it would start on a new, empty store.
 */
export const openDataFolder = async (settings: Settings, stops: StopStack): Promise<DataFolder> => {
  const lock = lockDataDir(prepareDataDir(settings.dataDir), 'server');
  stops.push(() => {
    lock.release();
  });
  const unfinished = unfinishedRestore(settings.dataDir);
  if (unfinished !== undefined) throw new Error(unfinished);
  // With synchronous=full the event store syncs the WAL itself, off the event loop.
  const { db, walSync } = openStoreDatabase({
    dataDir: settings.dataDir,
    synchronous: settings.sqliteSynchronous,
  });
  stops.push(() => {
    db.close();
  });
  claimLogKind(db, logKindOf(settings));
  if (settings.databaseUrl !== undefined) {
    const shared = await openSharedDatabase(settings, settings.databaseUrl, db, stops);
    return { db, store: shared.store, chainedAtOpen: 0, erasable: shared.store.erasure, shared };
  }
  const sqliteStore =
    settings.eventStoreConnectionString === undefined
      ? new SqliteEventStore(db, walSync === undefined ? {} : { walSync })
      : undefined;
  const store: EventStore =
    sqliteStore ?? (await openEsdbEventStore(settings.eventStoreConnectionString ?? ''));
  stops.push(() => store.close());
  return {
    db,
    store,
    chainedAtOpen: sqliteStore?.chainedAtOpen ?? 0,
    ...(sqliteStore === undefined ? {} : { erasable: sqliteStore.erasure }),
  };
};

/** Creates the data folder, owner-only (it holds tokens and the log), before the lock goes in. */
const prepareDataDir = (dataDir: string): string => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return dataDir;
};

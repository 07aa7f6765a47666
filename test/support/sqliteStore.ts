import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../adapters/sqlite/checkpointStore.js';
import { openDatabase, type SqliteDatabase } from '../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../adapters/sqlite/sqliteEventStore.js';

/** A throwaway embedded store in a temp folder, for tests that need the real SQLite adapter. */
export interface TempStore {
  readonly dir: string;
  readonly db: SqliteDatabase;
  readonly store: SqliteEventStore;
  readonly checkpoints: CheckpointStore;
  /** Closes the store and database (the folder stays, so a test can reopen it). */
  close(): Promise<void>;
  /** Closes and deletes the folder. */
  dispose(): Promise<void>;
}

export const openTempStore = (
  dir: string = mkdtempSync(join(tmpdir(), 'tidings-test-')),
): TempStore => {
  const db = openDatabase({ dataDir: dir, synchronous: 'normal' });
  const store = new SqliteEventStore(db, { pollIntervalMs: 50 });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await store.close();
    db.close();
  };
  return {
    dir,
    db,
    store,
    checkpoints: new CheckpointStore(db),
    close,
    dispose: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

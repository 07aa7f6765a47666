import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, openStoreDatabase } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { describeEventStoreContract } from '../eventStoreContract.js';

describeEventStoreContract('SQLite (file, WAL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-contract-'));
  const db = openDatabase({ dataDir: dir });
  const store = new SqliteEventStore(db);
  return Promise.resolve({
    store,
    dispose: async () => {
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

describeEventStoreContract(
  'SQLite (file, WAL, synced off the event loop — the server default)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-contract-'));
    const { db, walSync } = openStoreDatabase({ dataDir: dir, synchronous: 'full' });
    if (walSync === undefined) throw new Error('a file database in full mode must get a WAL sync');
    const store = new SqliteEventStore(db, { walSync });
    return Promise.resolve({
      store,
      dispose: async () => {
        await store.close();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
);

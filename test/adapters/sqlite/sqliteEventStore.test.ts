import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, openStoreDatabase } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';
import { event } from '../../support/storeReads.js';
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

describe('SQLite store specifics', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('has no head position while the log is empty', async () => {
    expect(await temp.store.headPosition()).to.equal(undefined);
  });

  it('keeps what it accepted across a reopen of the file', async () => {
    await temp.store.appendToStream(
      'durable',
      [event('Grouped', { n: 1 }), event('Grouped', { n: 2 })],
      { expectedRevision: 'no_stream' },
    );
    await temp.close();
    const db = openDatabase({ dataDir: temp.dir });
    const reopened = new SqliteEventStore(db);
    try {
      expect((await reopened.readStream('durable')).map((e) => e.data)).to.deep.equal([
        { n: 1 },
        { n: 2 },
      ]);
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    } finally {
      await reopened.close();
      db.close();
    }
  });
});

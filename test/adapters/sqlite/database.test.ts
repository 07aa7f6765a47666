import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, openStoreDatabase, walSyncOf } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { event } from '../../support/storeReads.js';

describe('walSyncOf / openStoreDatabase', () => {
  it('give a file database in full mode a connection at normal and a WAL fsync that works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-walsync-'));
    try {
      const { db, walSync } = openStoreDatabase({ dataDir: dir, synchronous: 'full' });
      expect(db.pragma('synchronous', { simple: true })).to.equal(1); // NORMAL
      expect(walSync).to.not.equal(undefined);
      const store = new SqliteEventStore(db, walSync === undefined ? {} : { walSync });
      const outcome = await store.appendToStream('s-1', [event('Synced', {})], {
        expectedRevision: 'no_stream',
      });
      expect(E.isRight(outcome)).to.equal(true);
      await store.close();
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('give normal mode no sync, and an in-memory database none either', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-walsync-'));
    try {
      const normal = openStoreDatabase({ dataDir: dir, synchronous: 'normal' });
      expect(normal.walSync).to.equal(undefined);
      normal.db.close();
      const memory = openDatabase({ dataDir: ':memory:' });
      expect(walSyncOf(memory)).to.equal(undefined);
      memory.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

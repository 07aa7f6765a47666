import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

describe('openDatabase file modes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-mode-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const modeOf = (name: string): number => statSync(join(dir, name)).mode & 0o777;

  it('creates the database owner-only, and its WAL and shared-memory files with it', () => {
    const db = openDatabase({ dataDir: dir });
    try {
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      expect(modeOf('tidings.db')).to.equal(0o600);
      expect(modeOf('tidings.db-wal')).to.equal(0o600);
      expect(modeOf('tidings.db-shm')).to.equal(0o600);
    } finally {
      db.close();
    }
  });

  it('tightens a database file an older server left readable by others', () => {
    writeFileSync(join(dir, 'tidings.db'), '');
    chmodSync(join(dir, 'tidings.db'), 0o644);
    openDatabase({ dataDir: dir }).close();
    expect(modeOf('tidings.db')).to.equal(0o600);
  });
});

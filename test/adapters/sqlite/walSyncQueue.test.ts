import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import {
  openDatabase,
  type SqliteDatabase,
  type WalSync,
} from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { waitUntil } from '../../support/waitUntil.js';

const event = (id: string, data: unknown = {}): NewEvent => ({
  id,
  type: 'Synced',
  data,
  metadata: {
    occurredAt: '2026-11-25T10:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});
const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A WAL sync the test finishes by hand, counting the syncs asked for. */
class ManualSync implements WalSync {
  readonly waiting: Array<(error: Error | null) => void> = [];
  syncs = 0;
  closed = false;
  sync(done: (error: Error | null) => void): void {
    this.syncs += 1;
    this.waiting.push(done);
  }
  finish(error: Error | null = null): void {
    const done = this.waiting.shift();
    if (done === undefined) throw new Error('no sync is running');
    done(error);
  }
  close(): void {
    this.closed = true;
  }
}

/** True once `promise` has settled (checked after the microtasks and a turn of the loop). */
const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('SQLite store: appends acknowledged after the WAL sync', () => {
  let dir: string;
  let db: SqliteDatabase;
  let sync: ManualSync;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-walsync-'));
    db = openDatabase({ dataDir: dir, synchronous: 'normal' });
    sync = new ManualSync();
    store = new SqliteEventStore(db, { walSync: sync, pollIntervalMs: 20 });
  });
  afterEach(async () => {
    while (sync.waiting.length > 0) sync.finish();
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given a commit, when its sync has not finished, then the append is unanswered and readers do not see it', async () => {
    const append = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 1,
      'the sync to be asked for',
    );
    // Committed to the database…
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).to.deep.equal({ n: 1 });
    // …but not acknowledged, and invisible to the log's readers until it is durable.
    expect(await settled(append)).to.equal(false);
    expect(await store.readAll({ maxCount: 10 })).to.deep.equal([]);
    expect(await store.headPosition()).to.equal(undefined);

    sync.finish();
    const outcome = await append;
    expect(E.isRight(outcome) && outcome.right.nextRevision).to.equal(0);
    expect((await store.readAll({ maxCount: 10 })).map((e) => e.id)).to.deep.equal([id(1)]);
    expect((await store.headPosition())?.commit).to.equal(1n);
  });

  it('given a sync running, when more commits come, then they wait and one next sync serves them all', async () => {
    const first = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 1,
      'the first sync',
    );
    const later = [2, 3, 4].map(async (n) => {
      // Separate turns of the event loop: separate commits.
      await new Promise((resolve) => setTimeout(resolve, n));
      return store.appendToStream(`s-${n}`, [event(id(n))], { expectedRevision: 'no_stream' });
    });
    await waitUntil(
      () => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n,
      (n) => n === 4,
      'all four commits',
    );
    expect(store.stats.commits).to.be.greaterThan(1);
    expect(sync.syncs).to.equal(1);
    sync.finish();
    expect(E.isRight(await first)).to.equal(true);
    await waitUntil(
      () => sync.syncs,
      (n) => n === 2,
      'the second sync',
    );
    for (const pending of later) expect(await settled(pending)).to.equal(false);
    sync.finish();
    for (const pending of later) expect(E.isRight(await pending)).to.equal(true);
    expect(sync.syncs).to.equal(2);
  });

  it('given a live subscription, then it receives events only once they are synced', async () => {
    const received: RecordedEvent[] = [];
    const subscription = store.subscribe({});
    const reading = (async () => {
      for await (const batch of subscription) received.push(...batch);
    })();
    const append = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 1,
      'the sync',
    );
    // Several poll intervals pass: still nothing for the subscriber.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).to.deep.equal([]);
    sync.finish();
    await append;
    await waitUntil(
      () => received.length,
      (n) => n === 1,
      'the event at the subscriber',
    );
    await subscription.close();
    await reading;
  });

  it('given a failed sync, then its appends are refused, and a retry with the same ids is answered with the stored result', async () => {
    const append = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 1,
      'the sync',
    );
    sync.finish(new Error('EIO: the disk failed'));
    let refused: unknown;
    try {
      await append;
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).to.contain('EIO');

    const retry = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 2,
      'the retry',
    );
    sync.finish();
    const outcome = await retry;
    expect(E.isRight(outcome) && outcome.right.nextRevision).to.equal(0);
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).to.deep.equal({ n: 1 });
  });

  it('close waits for the sync of what was committed, then releases the WAL file', async () => {
    const append = store.appendToStream('s-1', [event(id(1))], { expectedRevision: 'no_stream' });
    await waitUntil(
      () => sync.syncs,
      (n) => n === 1,
      'the sync',
    );
    const closing = store.close();
    expect(await settled(closing)).to.equal(false);
    expect(sync.closed).to.equal(false);
    sync.finish();
    await closing;
    expect(E.isRight(await append)).to.equal(true);
    expect(sync.closed).to.equal(true);
  });
});

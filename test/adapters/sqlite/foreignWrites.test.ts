import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { at, event, expectSameReads, follow, position, range } from '../../support/storeReads.js';
import { waitUntil } from '../../support/waitUntil.js';

describe('SQLite store: another store object on the same file (a foreign writer)', () => {
  const POLL_MS = 25;
  let dir: string;
  let dbA: SqliteDatabase;
  let dbB: SqliteDatabase;
  let mine: SqliteEventStore;
  let foreign: SqliteEventStore;
  /** Reads dbA through SQL only: what `mine` must answer. */
  let truth: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-window-'));
    dbA = openDatabase({ dataDir: dir, synchronous: 'normal' });
    dbB = openDatabase({ dataDir: dir, synchronous: 'normal' });
    mine = new SqliteEventStore(dbA, { pollIntervalMs: POLL_MS });
    foreign = new SqliteEventStore(dbB, { pollIntervalMs: POLL_MS });
    truth = new SqliteEventStore(dbA, { recentEvents: 0 });
  });
  afterEach(async () => {
    await mine.close();
    await foreign.close();
    await truth.close();
    dbA.close();
    dbB.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `mine` writes x@0..2 and y@0, then has read everything (window and stream heads warm). */
  const warmUp = async (): Promise<void> => {
    const written = await mine.appendToStream(
      'x',
      [event('Alpha', { x: 0 }), event('Beta', { x: 1 }), event('Alpha', { x: 2 })],
      { expectedRevision: 'no_stream' },
    );
    expect(E.isRight(written) && written.right.nextRevision).to.equal(2);
    await mine.appendToStream('y', [event('Gamma', { y: 0 })], { expectedRevision: 'no_stream' });
    expect(await mine.readAll({ maxCount: 100 })).to.have.length(4);
    expect(await mine.readAll({ maxCount: 100, eventTypes: ['Alpha'] })).to.have.length(2);
    expect(await mine.readStream('x', { fromRevision: 3 })).to.deep.equal([]);
    expect(await mine.readStream('y')).to.have.length(1);
  };

  it('given a warm store, when the other writes, then its readAll (filtered or not, any start) sees the foreign events', async () => {
    await warmUp();
    await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
    await foreign.appendToStream('z', [event('Alpha', { z: 0 })], {
      expectedRevision: 'no_stream',
    });

    const all = await mine.readAll({ maxCount: 100 });
    expect(all.map((e) => e.data)).to.deep.equal([
      { x: 0 },
      { x: 1 },
      { x: 2 },
      { y: 0 },
      { x: 3 },
      { z: 0 },
    ]);
    expect((await mine.readAll({ maxCount: 100, eventTypes: ['Alpha'] })).map(at)).to.deep.equal([
      1, 3, 6,
    ]);
    await expectSameReads(mine, truth, range(0, 7), 'after foreign appends');
  });

  it('given a warm store, when the other writes to a stream it knows, then readStream(fromRevision) answers the new events', async () => {
    await warmUp();
    await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
    const newer = await mine.readStream('x', { fromRevision: 3 });
    expect(newer.map((e) => [e.revision, e.data])).to.deep.equal([[3, { x: 3 }]]);
    expect(await mine.readStream('y', { fromRevision: 1 })).to.deep.equal([]);
    expect(await mine.readStream('x', { fromRevision: 4 })).to.deep.equal([]);
  });

  it('given a foreign append to a stream it knows, when this store then commits to another stream, then readStream(fromRevision) still sees the foreign event', async () => {
    await warmUp();
    await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
    // This store's commit moves its own idea of the head past the foreign event.
    await mine.appendToStream('y', [event('Gamma', { y: 1 })], { expectedRevision: 0 });
    expect((await mine.readStream('x', { fromRevision: 3 })).map((e) => e.data)).to.deep.equal([
      { x: 3 },
    ]);
    await expectSameReads(mine, truth, range(0, 7), 'after the own commit');
  });

  it('given a read that came just before the foreign commit, when that commit is done, then the next read sees it', async () => {
    await warmUp();
    // A new turn of the event loop, as for a request arriving a moment later.
    await new Promise((resolve) => setImmediate(resolve));
    // The other writer's append is queued; this store asks before it is committed...
    const pending = foreign.appendToStream('x', [event('Delta', { x: 3 })], {
      expectedRevision: 2,
    });
    expect(await mine.readStream('x', { fromRevision: 3 })).to.deep.equal([]);
    expect(await mine.readAll({ after: position(4)!, maxCount: 10 })).to.deep.equal([]);
    const committed = await pending;
    expect(E.isRight(committed)).to.equal(true);
    // ...and asks again once it knows the commit happened (read after write across writers).
    expect(
      (await mine.readStream('x', { fromRevision: 3 })).map((e) => e.revision),
      'readStream after the foreign commit',
    ).to.deep.equal([3]);
    expect(
      (await mine.readAll({ after: position(4)!, maxCount: 10 })).map(at),
      'readAll after the foreign commit',
    ).to.deep.equal([5]);
  });

  it('given a live subscription, when the other writes, then it delivers the foreign events within a few poll intervals', async () => {
    await warmUp();
    const all = follow(mine.subscribe({ maxBatchSize: 2 }));
    const typed = follow(mine.subscribe({ eventTypes: ['Delta', 'Alpha'] }));
    try {
      // Caught up with this store's own events, and now idle.
      await waitUntil(
        () => all.received.length,
        (n) => n === 4,
        'the catch-up',
      );
      await waitUntil(
        () => typed.received.length,
        (n) => n === 2,
        'the filtered catch-up',
      );

      await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
      await foreign.appendToStream('z', [event('Alpha', { z: 0 })], {
        expectedRevision: 'no_stream',
      });
      const started = Date.now();
      await waitUntil(
        () => all.received.length,
        (n) => n >= 6,
        'the foreign events',
        5_000,
        5,
      );
      await waitUntil(
        () => typed.received.length,
        (n) => n >= 4,
        'the foreign events',
        5_000,
        5,
      );
      // Seen by polling (nothing in this store woke the subscriptions): a few intervals at most.
      expect(Date.now() - started).to.be.below(10 * POLL_MS + 250);

      // This store's own append after them wakes them at once, through a window restarted there.
      await mine.appendToStream('y', [event('Delta', { y: 1 })], { expectedRevision: 0 });
      await waitUntil(
        () => all.received.length,
        (n) => n >= 7,
        'the own event',
        5_000,
        5,
      );
      await waitUntil(
        () => typed.received.length,
        (n) => n >= 5,
        'the own event',
        5_000,
        5,
      );

      expect(all.received).to.deep.equal(await truth.readAll({ maxCount: 100 }));
      expect(typed.received).to.deep.equal(
        await truth.readAll({ maxCount: 100, eventTypes: ['Delta', 'Alpha'] }),
      );
      expect(typed.received.map(at)).to.deep.equal([1, 3, 5, 6, 7]);
    } finally {
      await all.stop();
      await typed.stop();
    }
  });

  it('given foreign appends, when this store appends again, then revisions and conflicts follow the stored stream', async () => {
    await warmUp();
    await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });

    const stale = await mine.appendToStream('x', [event('Alpha', { x: 'stale' })], {
      expectedRevision: 2,
    });
    expect(E.isLeft(stale) && stale.left).to.deep.include({ actual: 3, expected: 2 });
    const fresh = await mine.appendToStream('x', [event('Alpha', { x: 4 })], {
      expectedRevision: 3,
    });
    expect(E.isRight(fresh) && fresh.right.nextRevision).to.equal(4);
    expect(E.isRight(fresh) && fresh.right.position.commit).to.equal(6n);
    expect((await mine.readStream('x')).map((e) => e.revision)).to.deep.equal([0, 1, 2, 3, 4]);
    await expectSameReads(mine, truth, range(0, 7), 'after own append');

    // The other writes once more, right after this store's commit.
    await foreign.appendToStream('x', [event('Beta', { x: 5 })], { expectedRevision: 4 });
    expect((await mine.readStream('x', { fromRevision: 5 })).map((e) => e.data)).to.deep.equal([
      { x: 5 },
    ]);
    await expectSameReads(mine, truth, range(0, 8), 'after the second foreign append');
    const conflict = await mine.appendToStream('x', [event('Alpha', { x: 'late' })], {
      expectedRevision: 4,
    });
    expect(E.isLeft(conflict) && conflict.left.actual).to.equal(5);
    const next = await mine.appendToStream('x', [event('Alpha', { x: 6 })], {
      expectedRevision: 5,
    });
    expect(E.isRight(next) && next.right.nextRevision).to.equal(6);
    expect(await mine.readStream('x', { fromRevision: 7 })).to.deep.equal([]);
    expect((await mine.readStream('x', { fromRevision: 6 })).map((e) => e.data)).to.deep.equal([
      { x: 6 },
    ]);
    await expectSameReads(mine, truth, range(0, 9), 'at the end');
  });
});

import { expect } from 'chai';
import { PgEventStore } from '../../../adapters/postgres/pgEventStore.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import type { RecordedEvent, Subscription } from '../../../domain/shared/eventStore.js';
import {
  appendAny,
  createTestSchema,
  requirePostgres,
  type TestSchema,
} from '../../support/postgres.js';
import { waitUntil } from '../../support/waitUntil.js';

const append = async (store: PgEventStore, stream: string, type = 'Noted'): Promise<number> =>
  (await appendAny(store, stream, type)).nextRevision;

/** Counts the reads of the events table that a pool runs, by kind. */
const countingReads = (pool: PgPool): { byPosition: () => number; byStream: () => number } => {
  let byPosition = 0;
  let byStream = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const text = typeof args[0] === 'string' ? args[0] : '';
    if (text.includes('FROM tidings_events WHERE position >')) byPosition += 1;
    if (text.includes('FROM tidings_events WHERE stream =')) byStream += 1;
    return query(...args);
  };
  return { byPosition: () => byPosition, byStream: () => byStream };
};

/** Holds the answer of the pool's next read of a stream until `release()`. */
const holdNextStreamRead = (
  pool: PgPool,
): { arm: () => void; began: Promise<void>; release: () => void } => {
  let armed = false;
  let release: () => void = () => undefined;
  let began: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (began = resolve));
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (
    ...args
  ) => {
    const text = typeof args[0] === 'string' ? args[0] : '';
    const answer = await query(...args);
    if (armed && text.includes('FROM tidings_events WHERE stream =')) {
      armed = false;
      began();
      await held;
    }
    return answer;
  };
  return {
    arm: () => {
      armed = true;
    },
    began: started,
    release: () => {
      release();
    },
  };
};

/** Collects what a subscription delivers until it is closed. */
const collect = (subscription: Subscription): RecordedEvent[] => {
  const seen: RecordedEvent[] = [];
  void (async () => {
    for await (const batch of subscription) seen.push(...batch);
  })();
  return seen;
};

describe('PostgreSQL event store: what a node keeps in memory', function () {
  this.timeout(60_000);
  let schema: TestSchema;
  const stores: PgEventStore[] = [];
  const subscriptions: Subscription[] = [];
  /** A node whose only news of the others' commits are their notices (the poll is slow). */
  const node = async (pool: PgPool = schema.pool(4)): Promise<PgEventStore> => {
    const store = await PgEventStore.open(pool, { pollIntervalMs: 30_000 });
    stores.push(store);
    return store;
  };

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async () => {
    schema = await createTestSchema();
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await schema.drop();
  });

  it('subscriptions that keep up read new events from memory, not one query each per commit', async () => {
    const pool = schema.pool(4);
    const reads = countingReads(pool);
    const store = await node(pool);
    const seen = Array.from({ length: 10 }, (_, index) => {
      const subscription = store.subscribe({ eventTypes: [`Type${index % 3}`] });
      subscriptions.push(subscription);
      return collect(subscription);
    });
    const before = reads.byPosition();
    for (let index = 0; index < 60; index += 1)
      await append(store, `s-${index}`, `Type${index % 3}`);
    await waitUntil(
      () => seen.map((events) => events.length),
      (counts) => counts.every((count) => count === 20),
      'every subscription to see its 20 events',
    );
    // 60 commits and 10 subscriptions: hundreds of reads if each woken subscription queried.
    expect(reads.byPosition() - before).to.be.at.most(5);
    expect(seen[0]?.map((recorded) => recorded.stream)).to.deep.equal(
      Array.from({ length: 20 }, (_, index) => `s-${index * 3}`),
    );
  });

  it('a subscription on one node gets every event of every node once, in log order', async () => {
    const a = await node();
    const b = await node();
    const subscription = a.subscribe({});
    subscriptions.push(subscription);
    const seen = collect(subscription);
    await Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let index = 0; index < 50; index += 1) {
          await append(writer % 2 === 0 ? a : b, `w${writer}-${index % 5}`);
        }
      }),
    );
    await waitUntil(
      () => seen.length,
      (count) => count >= 200,
      '200 events',
    );
    const stored = await a.readAll({ maxCount: 1_000 });
    expect(seen.map((recorded) => recorded.id)).to.deep.equal(
      stored.map((recorded) => recorded.id),
    );
    expect(seen.map((recorded) => Number(recorded.position.commit))).to.deep.equal(
      Array.from({ length: 200 }, (_, index) => index + 1),
    );
  });

  it('"anything after revision r?" is answered from memory, and sees another node\'s append once it is heard of', async () => {
    const poolA = schema.pool(4);
    const reads = countingReads(poolA);
    const a = await node(poolA);
    const b = await node();
    const revision = await append(a, 'shared');
    const before = reads.byStream();
    expect(await a.readStream('shared', { fromRevision: revision + 1 })).to.deep.equal([]);
    expect(reads.byStream() - before).to.equal(0);

    await append(b, 'shared');
    // What a request does first on any node (composition/readBarrier.ts): read the log's head.
    await a.headPosition();
    const newer = await a.readStream('shared', { fromRevision: revision + 1 });
    expect(newer.map((recorded) => recorded.revision)).to.deep.equal([revision + 1]);
    // And without reading the head, the other node's notice brings it too.
    await append(b, 'shared');
    await waitUntil(
      () => a.readStream('shared', { fromRevision: revision + 2 }),
      (events) => events.length === 1,
      'the second append of the other node',
    );
  });

  it('waiting for the log (readAll after a cursor) is answered from memory once caught up', async () => {
    const poolA = schema.pool(4);
    const reads = countingReads(poolA);
    const a = await node(poolA);
    const b = await node();
    await append(a, 'x', 'Kept');
    await append(b, 'y', 'Other');
    const head = await a.headPosition();
    const before = reads.byPosition();
    const found = await a.readAll({ maxCount: 10, eventTypes: ['Kept', 'Other'] });
    const again = await a.readAll({ maxCount: 10, eventTypes: ['Other'] });
    expect(found.map((recorded) => recorded.type)).to.deep.equal(['Kept', 'Other']);
    expect(again.map((recorded) => recorded.stream)).to.deep.equal(['y']);
    expect(found.at(-1)?.position).to.deep.equal(head);
    // At most the one read that brought b's commit in; none for the second question.
    expect(reads.byPosition() - before).to.be.at.most(1);
  });

  it('a slow read of a stream does not replace what an append applied meanwhile', async () => {
    const b = await node();
    await append(b, 's');
    const poolA = schema.pool(4);
    const gate = holdNextStreamRead(poolA);
    const a = await node(poolA);
    gate.arm();
    const slow = a.readStream('s');
    await gate.began;
    // Applied to a's memory while the read (which saw revision 0 only) is held.
    const mine = await append(a, 's');
    gate.release();
    expect((await slow).map((recorded) => recorded.revision)).to.deep.equal([0]);
    expect(
      (await a.readStream('s', { fromRevision: mine })).map((recorded) => recorded.revision),
    ).to.deep.equal([1]);
    expect((await a.readStream('s')).map((recorded) => recorded.revision)).to.deep.equal([0, 1]);
  });

  it('an event a subscription was handed from the database is known to readStream at once', async () => {
    const b = await node();
    await append(b, 'x');
    const a = await node();
    await append(a, 's');
    // The notice of b's next commit is late: a hears of it only through what it reads.
    const listener = (a as unknown as { listener: { removeAllListeners: (event: string) => void } })
      .listener;
    listener.removeAllListeners('notification');
    await append(b, 's');
    const subscription = a.subscribe({});
    subscriptions.push(subscription);
    const seen = collect(subscription);
    await waitUntil(
      () => seen.length,
      (count) => count >= 3,
      'the three events',
    );
    const last = seen.at(-1);
    expect(last?.stream).to.equal('s');
    const fromStore = await a.readStream('s', { fromRevision: last?.revision ?? 0 });
    expect(fromStore.map((recorded) => recorded.id)).to.deep.equal([last?.id]);
  });
});

import { expect } from 'chai';
import { verifyPgChain } from '../../../adapters/postgres/pgChain.js';
import { PgEventStore, eventLogMigrations } from '../../../adapters/postgres/pgEventStore.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import {
  appendAny,
  createTestSchema,
  requirePostgres,
  testEvent,
  type TestSchema,
} from '../../support/postgres.js';
import { waitUntil } from '../../support/waitUntil.js';

const appendOne = async (store: PgEventStore, stream: string, type = 'Ordered'): Promise<number> =>
  Number((await appendAny(store, stream, type)).position.commit);

describe('PostgreSQL event store: ordering and the chain across nodes', function () {
  this.timeout(60_000);
  let schema: TestSchema;
  const stores: PgEventStore[] = [];
  const node = async (
    pool: PgPool = schema.pool(4),
    beforeCommit?: () => Promise<void>,
  ): Promise<PgEventStore> => {
    const store = await PgEventStore.open(pool, {
      pollIntervalMs: 5_000,
      ...(beforeCommit === undefined ? {} : { beforeCommit }),
    });
    stores.push(store);
    return store;
  };

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async () => {
    schema = await createTestSchema();
  });
  /** Ends the hold of the ordering test, also when it failed (closing waits for open appends). */
  let release: () => void = () => undefined;
  afterEach(async () => {
    release();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await schema.drop();
  });

  it('a subscriber never skips an append that commits late: later appends wait for the one held open', async () => {
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holdNext = true;
    // Node A holds its append transaction open after writing its rows, before COMMIT.
    const a = await node(schema.pool(4), async () => {
      if (!holdNext) return;
      holdNext = false;
      await held;
    });
    const b = await node();
    const c = await node();
    const reader = await node();

    const seen: RecordedEvent[] = [];
    const subscription = reader.subscribe({ eventTypes: ['Ordered'] });
    const following = (async () => {
      for await (const batch of subscription) seen.push(...batch);
    })();

    const slow = appendOne(a, 'slow');
    // A's transaction has its position and is open: wait until it is inside the hold.
    await waitUntil(
      () => holdNext,
      (holding) => !holding,
      'the first append to be held',
      5_000,
    );
    let fastDone = 0;
    const fast = Array.from({ length: 20 }, (_, index) =>
      appendOne(index % 2 === 0 ? b : c, `fast-${index}`).then((position) => {
        fastDone += 1;
        return position;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    // While A's transaction is open, nothing after it can commit, so nothing is visible out of order.
    expect(fastDone, 'appends committed while an earlier one was open').to.equal(0);
    expect(seen, 'events seen while the first append was open').to.deep.equal([]);

    release();
    const positions = [await slow, ...(await Promise.all(fast))];
    await waitUntil(
      () => seen.length,
      (count) => count >= 21,
      'all 21 events to be seen',
    );
    await subscription.close();
    await following;

    const seenPositions = seen.map((recorded) => Number(recorded.position.commit));
    expect(seenPositions, 'seen in strictly increasing order, no gap').to.deep.equal(
      Array.from({ length: 21 }, (_, index) => index + 1),
    );
    expect([...positions].sort((x, y) => x - y)).to.deep.equal(seenPositions);
    expect(positions[0], 'the held append took the first position').to.equal(1);
  });

  it('a transaction that only locks the head from outside (another node mid-append) also holds the others back', async () => {
    const store = await node();
    await appendOne(store, 'first');
    const outside = await schema.pool(1).connect();
    await outside.query('BEGIN');
    await outside.query('SELECT * FROM tidings_log_head FOR UPDATE');
    let done = false;
    const waiting = appendOne(store, 'second').then((position) => {
      done = true;
      return position;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).to.equal(false);
    await outside.query('ROLLBACK');
    outside.release();
    expect(await waiting).to.equal(2);
  });

  it('three nodes appending at once leave one chain that verifies, and an edit or a deletion is named', async () => {
    const nodes = [await node(), await node(), await node()];
    await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        appendOne(nodes[index % 3] as PgEventStore, `s-${index % 17}`, `T${index % 4}`),
      ),
    );
    const pool = schema.pool(2);
    const report = await verifyPgChain(pool);
    expect(report.ok, report.reason).to.equal(true);
    expect(report.checked).to.equal(300);
    expect(report.head.position).to.equal(300);

    await pool.query(`UPDATE tidings_events SET data = '{"stream":"forged"}' WHERE position = 120`);
    const edited = await verifyPgChain(pool);
    expect(edited.ok).to.equal(false);
    expect(edited.firstBadPosition).to.equal(120);
    expect(edited.fault).to.equal('data_changed');

    await pool.query('DELETE FROM tidings_events WHERE position = 40');
    const deleted = await verifyPgChain(pool);
    expect(deleted.firstBadPosition).to.equal(40);
    expect(deleted.fault).to.equal('missing');
  });

  it('an append whose data cannot be written as JSON fails alone; the rest of its group commits', async () => {
    const store = await node();
    const bad = store.appendToStream('bad', [testEvent('Ordered', { n: 1n })], {
      expectedRevision: 'any',
    });
    const good = appendOne(store, 'good');
    const [badOutcome, goodOutcome] = await Promise.allSettled([bad, good]);
    expect(badOutcome.status).to.equal('rejected');
    expect(goodOutcome).to.deep.equal({ status: 'fulfilled', value: 1 });
    expect((await verifyPgChain(schema.pool(1))).ok).to.equal(true);
  });

  it('several nodes migrating one empty schema at once create it once', async () => {
    const opened = await Promise.all([0, 1, 2, 3].map(() => node()));
    await Promise.all(opened.map((store, index) => appendOne(store, `m-${index}`)));
    const { rows } = await schema
      .pool(1)
      .query<{ name: string }>('SELECT name FROM tidings_migrations ORDER BY name');
    // Each migration once, however many nodes ran them.
    expect(rows.map((row) => row.name)).to.deep.equal(
      eventLogMigrations.map((migration) => migration.name),
    );
    expect(await opened[0]?.headPosition()).to.deep.equal({ commit: 4n, prepare: 4n });
  });
});

import { expect } from 'chai';
import type { IdempotencyStart } from '../../../adapters/http/idempotency.js';
import { migrate } from '../../../adapters/postgres/migrations.js';
import { leaseMigrations, PgLeases } from '../../../adapters/postgres/leases.js';
import {
  idempotencyMigrations,
  PgIdempotencyStore,
} from '../../../adapters/postgres/pgIdempotency.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';

describe('PostgreSQL idempotency store', function () {
  let schema: TestSchema;
  let pool: PgPool;
  /** Two nodes, each with a pool and a store of its own. */
  let nodeA: PgIdempotencyStore;
  let nodeB: PgIdempotencyStore;

  const now = new Date('2026-11-24T10:00:00.000Z');
  const later = (ms: number): Date => new Date(now.getTime() + ms);

  before(async function () {
    await requirePostgres(this);
  });

  beforeEach(async () => {
    schema = await createTestSchema();
    pool = schema.pool();
    await migrate(pool, [...leaseMigrations, ...idempotencyMigrations]);
    nodeA = new PgIdempotencyStore(pool, 'node-a');
    nodeB = new PgIdempotencyStore(schema.pool(), 'node-b');
  });

  afterEach(async () => {
    await schema.drop();
  });

  it('the same key sent to two nodes at once, 50 keys: exactly one new each, the other in flight', async () => {
    const keys = Array.from({ length: 50 }, (_, index) => `k${index}`);

    const [fromA, fromB] = await Promise.all([
      Promise.all(keys.map((key) => nodeA.begin('app', key, { n: key }, now))),
      Promise.all(keys.map((key) => nodeB.begin('app', key, { n: key }, now))),
    ]);

    for (const [index, key] of keys.entries()) {
      const kinds = [fromA[index]?.kind, fromB[index]?.kind].sort();
      expect(kinds, key).to.deep.equal(['in_flight', 'new']);
    }
  });

  it('one key begun 50 times at once across two nodes: exactly one new', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 === 0 ? nodeA : nodeB).begin('app', 'hot', { text: 'hi' }, later(index)),
      ),
    );

    const kinds = answers.map((answer) => answer.kind);
    expect(kinds.filter((kind) => kind === 'new')).to.have.length(1);
    expect(kinds.filter((kind) => kind === 'in_flight')).to.have.length(49);
  });

  it('replays the stored answer after complete, on any node; key order is the same body', async () => {
    expect(await nodeA.begin('app', 'k1', { a: 1, b: 2 }, now)).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    await nodeA.complete('app', 'k1', 202, { messageId: 'm1' });

    const replay: IdempotencyStart = { kind: 'replay', status: 202, body: { messageId: 'm1' } };
    expect(await nodeB.begin('app', 'k1', { b: 2, a: 1 }, later(1_000))).to.deep.equal(replay);
    expect(await nodeA.begin('app', 'k1', { a: 1, b: 2 }, later(2_000))).to.deep.equal(replay);
  });

  it('answers reused for another body; another app’s key is another key', async () => {
    await nodeA.begin('app', 'k1', { a: 1 }, now);
    await nodeA.complete('app', 'k1', 202, { messageId: 'm1' });

    expect(await nodeB.begin('app', 'k1', { a: 2 }, later(1_000))).to.deep.equal({
      kind: 'reused',
    });
    expect(await nodeB.begin('other-app', 'k1', { a: 2 }, later(1_000))).to.deep.equal({
      kind: 'new',
      since: later(1_000).toISOString(),
    });
  });

  it('a shorter window: the same key after it is a new request with a fresh time', async () => {
    const window = 10_000;
    await nodeA.begin('app', 'c1', { m: 'x' }, now, window);
    await nodeA.complete('app', 'c1', 200, { id: 'm1' });

    expect(await nodeB.begin('app', 'c1', { m: 'x' }, later(9_999), window)).to.deep.equal({
      kind: 'replay',
      status: 200,
      body: { id: 'm1' },
    });
    expect(await nodeB.begin('app', 'c1', { m: 'x' }, later(10_000), window)).to.deep.equal({
      kind: 'new',
      since: later(10_000).toISOString(),
    });
    // A window is never longer than the 24 h answers are kept.
    await nodeB.complete('app', 'c1', 200, { id: 'm2' });
    expect(
      await nodeA.begin('app', 'c1', { m: 'x' }, later(10_000 + 25 * 3_600_000), 48 * 3_600_000),
    ).to.deep.include({ kind: 'new' });
  });

  it('abandon, then a retry on another node runs with the first claim’s time', async () => {
    await nodeA.begin('app', 'k2', { a: 1 }, now);
    await nodeA.abandon('app', 'k2');

    expect(await nodeB.begin('app', 'k2', { a: 1 }, later(5_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    expect(await nodeA.begin('app', 'k2', { a: 1 }, later(6_000))).to.deep.equal({
      kind: 'in_flight',
    });
    await nodeB.complete('app', 'k2', 202, { messageId: 'm2' });
    expect(await nodeA.begin('app', 'k2', { a: 1 }, later(7_000))).to.deep.include({
      kind: 'replay',
    });
  });

  it('does not take another node’s pending claim over before a minute, but does after', async () => {
    await nodeA.begin('app', 'k3', { a: 1 }, now);

    expect(await nodeB.begin('app', 'k3', { a: 1 }, later(59_000))).to.deep.equal({
      kind: 'in_flight',
    });
    expect(await nodeB.begin('app', 'k3', { a: 1 }, later(61_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
    // The node whose claim was taken over can no longer abandon or answer it.
    await nodeA.abandon('app', 'k3');
    await nodeA.complete('app', 'k3', 500, { late: true });
    expect(await nodeA.begin('app', 'k3', { a: 1 }, later(62_000))).to.deep.equal({
      kind: 'in_flight',
    });
    await nodeB.complete('app', 'k3', 202, { messageId: 'm3' });
    expect(await nodeA.begin('app', 'k3', { a: 1 }, later(63_000))).to.deep.equal({
      kind: 'replay',
      status: 202,
      body: { messageId: 'm3' },
    });
  });

  it('takes the pending claim of a node that is no longer live over at once', async () => {
    const leases = new PgLeases(pool);
    const dead = new PgIdempotencyStore(pool, 'node-dead/1');
    const live = new PgIdempotencyStore(schema.pool(), 'node-live/1');
    await leases.heartbeat('node-dead', 60_000);
    await dead.begin('app', 'k-dead', { a: 1 }, now);
    // While its node shows itself live, the claim is its own.
    expect(await live.begin('app', 'k-dead', { a: 1 }, later(1_000))).to.deep.equal({
      kind: 'in_flight',
    });
    // Its presence runs out (the node died): a retry runs at once, with the first claim's time.
    await pool.query(
      "UPDATE tidings_lease_nodes SET expires_at = clock_timestamp() - interval '1 second' WHERE node = 'node-dead'",
    );
    expect(await live.begin('app', 'k-dead', { a: 1 }, later(2_000))).to.deep.equal({
      kind: 'new',
      since: now.toISOString(),
    });
  });

  it('prunes answers older than 24 h only', async () => {
    await nodeA.begin('app', 'old', { a: 1 }, now);
    await nodeA.complete('app', 'old', 202, { messageId: 'old' });
    await nodeA.begin('app', 'recent', { a: 1 }, later(2 * 3_600_000));
    await nodeA.complete('app', 'recent', 202, { messageId: 'recent' });

    await nodeB.prune(later(25 * 3_600_000));

    const { rows } = await pool.query<{ key: string }>(
      'SELECT key FROM tidings_idempotency_keys ORDER BY key',
    );
    expect(rows.map((row) => row.key)).to.deep.equal(['recent']);
  });
});

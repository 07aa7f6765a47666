import { expect } from 'chai';
import { migrate } from '../../../adapters/postgres/migrations.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import { PgWorkClaims, workClaimMigrations } from '../../../adapters/postgres/workClaims.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';
import { waitUntil } from '../../support/waitUntil.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL work claims', function () {
  let schema: TestSchema;
  let pool: PgPool;
  let a: PgWorkClaims;
  let b: PgWorkClaims;

  before(async function () {
    await requirePostgres(this);
  });

  beforeEach(async () => {
    schema = await createTestSchema();
    pool = schema.pool();
    await migrate(pool, workClaimMigrations);
    a = new PgWorkClaims(pool);
    b = new PgWorkClaims(schema.pool());
  });

  afterEach(async () => {
    await schema.drop();
  });

  const rowOf = async (key: string) =>
    (
      await pool.query<{ holder: string | null; done: boolean }>(
        'SELECT holder, done_at IS NOT NULL AS done FROM tidings_work_claims WHERE key = $1',
        [key],
      )
    ).rows[0];

  it('two nodes racing 200 claims of the same keys: every key is claimed exactly once', async () => {
    const keys = Array.from({ length: 200 }, (_, index) => `delivery:${index}`);

    const [byA, byB] = await Promise.all([
      Promise.all(keys.map((key) => a.claim(key, 'node-a', 60_000))),
      Promise.all(keys.map((key) => b.claim(key, 'node-b', 60_000))),
    ]);

    for (const [index, key] of keys.entries()) {
      expect(byA[index] !== byB[index], `${key}: a ${byA[index]}, b ${byB[index]}`).to.equal(true);
      expect((await rowOf(key))?.holder).to.equal(byA[index] ? 'node-a' : 'node-b');
    }
  });

  it('a claim is ours to claim again (and extend), not another node’s', async () => {
    expect(await a.claim('k', 'node-a', 60_000)).to.equal(true);
    expect(await a.claim('k', 'node-a', 60_000)).to.equal(true);
    expect(await b.claim('k', 'node-b', 60_000)).to.equal(false);
  });

  it('a claim that ran out goes to another node, and its first holder can no longer complete it', async () => {
    expect(await a.claim('k', 'node-a', 200)).to.equal(true);
    expect(await b.claim('k', 'node-b', 200)).to.equal(false);

    await sleep(300);

    expect(await b.claim('k', 'node-b', 60_000)).to.equal(true);
    expect(await a.complete('k', 'node-a')).to.equal(false);
    expect(await a.release('k', 'node-a')).to.equal(false);
    expect(await rowOf('k')).to.deep.equal({ holder: 'node-b', done: false });
  });

  it('done is final: no node claims a completed key again, even after its ttl', async () => {
    await a.claim('k', 'node-a', 200);
    expect(await a.complete('k', 'node-a')).to.equal(true);

    await sleep(300);

    expect(await b.claim('k', 'node-b', 60_000)).to.equal(false);
    expect(await a.claim('k', 'node-a', 60_000)).to.equal(false);
    expect(await a.release('k', 'node-a')).to.equal(false);
    expect(await a.complete('k', 'node-a')).to.equal(false);
    expect(await rowOf('k')).to.deep.equal({ holder: 'node-a', done: true });
  });

  it('a released claim can be taken at once; only its holder releases it', async () => {
    await a.claim('k', 'node-a', 60_000);

    expect(await b.release('k', 'node-b')).to.equal(false);
    expect(await b.claim('k', 'node-b', 60_000)).to.equal(false);
    expect(await a.release('k', 'node-a')).to.equal(true);
    expect(await b.claim('k', 'node-b', 60_000)).to.equal(true);
  });

  it('prune deletes old done claims only (a pruned key can be claimed again)', async () => {
    await a.claim('done-old', 'node-a', 60_000);
    await a.complete('done-old', 'node-a');
    await a.claim('open', 'node-a', 60_000);
    await sleep(250);
    await a.claim('done-new', 'node-a', 60_000);
    await a.complete('done-new', 'node-a');

    expect(await a.prune(200)).to.equal(1);

    expect(await rowOf('done-old')).to.equal(undefined);
    expect(await rowOf('done-new')).to.deep.equal({ holder: 'node-a', done: true });
    expect(await rowOf('open')).to.deep.equal({ holder: 'node-a', done: false });
    expect(await b.claim('done-old', 'node-b', 60_000)).to.equal(true);
  });

  it('with pruning, claims prune old done claims in the background now and then', async () => {
    const pruning = new PgWorkClaims(schema.pool(), { keepDoneMs: 100, everyMs: 200 });
    await pruning.claim('done-old', 'node-a', 60_000);
    await pruning.complete('done-old', 'node-a');
    await sleep(250);
    await pruning.claim('next', 'node-a', 60_000);
    await waitUntil(
      () => rowOf('done-old'),
      (row) => row === undefined,
      'the old done claim to be pruned',
    );
    expect(await rowOf('next')).to.deep.equal({ holder: 'node-a', done: false });
  });

  it('refuses a ttl that is not a positive number', async () => {
    let refused: unknown;
    try {
      await a.claim('k', 'node-a', 0);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(Error);
  });
});

import { expect } from 'chai';
import type { FailureBudget } from '../../../application/shared/rateLimiter.js';
import { migrate } from '../../../adapters/postgres/migrations.js';
import { PgTokenBuckets, rateLimitMigrations } from '../../../adapters/postgres/pgRateLimits.js';
import type { PgPool } from '../../../adapters/postgres/pool.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';
import { waitUntil } from '../../support/waitUntil.js';

/** Lets time pass for the buckets to refill (time is what is under test here). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL token buckets', function () {
  let schema: TestSchema;
  let pool: PgPool;

  before(async function () {
    await requirePostgres(this);
  });

  beforeEach(async () => {
    schema = await createTestSchema();
    pool = schema.pool();
    await migrate(pool, rateLimitMigrations);
  });

  afterEach(async () => {
    await schema.drop();
  });

  it('lets a burst through, then refuses with how long to wait', async () => {
    const buckets = new PgTokenBuckets(pool, 'login', { burst: 3, refillPerSecond: 0.5 });

    for (let take = 0; take < 3; take += 1) {
      expect(await buckets.take('ip-1')).to.deep.equal({ allowed: true });
    }

    expect(await buckets.take('ip-1')).to.deep.equal({ allowed: false, retryAfterSeconds: 2 });
    expect(await buckets.take('ip-1', 3)).to.deep.equal({ allowed: false, retryAfterSeconds: 6 });
    expect(await buckets.take('ip-2')).to.deep.equal({ allowed: true });
  });

  it('a cost beyond the burst is never let through', async () => {
    const buckets = new PgTokenBuckets(pool, 'pushes', { burst: 2, refillPerSecond: 1 });

    expect(await buckets.take('app', 5)).to.deep.equal({ allowed: false, retryAfterSeconds: 3 });
    expect(await buckets.take('app', 2)).to.deep.equal({ allowed: true });
  });

  it('refills over time, never beyond the burst', async () => {
    const buckets = new PgTokenBuckets(pool, 'login', { burst: 2, refillPerSecond: 10 });
    await buckets.take('ip', 2);
    expect(await buckets.take('ip')).to.have.property('allowed', false);

    await sleep(150); // 1.5 tokens

    expect(await buckets.take('ip')).to.deep.equal({ allowed: true });
    expect(await buckets.take('ip')).to.have.property('allowed', false);

    await sleep(500); // 5 tokens, capped at 2
    expect(await buckets.take('ip', 2)).to.deep.equal({ allowed: true });
    expect(await buckets.take('ip')).to.have.property('allowed', false);
  });

  it('two nodes sharing one bucket never let more than the burst through together', async () => {
    const options = { burst: 20, refillPerSecond: 0.01 };
    const nodeA = new PgTokenBuckets(schema.pool(), 'pushes', options);
    const nodeB = new PgTokenBuckets(schema.pool(), 'pushes', options);

    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? nodeA : nodeB).take('app-1')),
    );

    expect(decisions.filter((decision) => decision.allowed)).to.have.length(20);
  });

  it('takes made at once go together and are decided as if one after the other, in order', async () => {
    const buckets = new PgTokenBuckets(pool, 'pushes', { burst: 5, refillPerSecond: 0.01 });
    await buckets.take('used', 3);
    // One tick: 8 takes of a full bucket, 4 of one with 2 tokens left, mixed costs on a third.
    const [full, used, mixed] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => buckets.take('full'))),
      Promise.all(Array.from({ length: 4 }, () => buckets.take('used'))),
      Promise.all([buckets.take('mixed', 2), buckets.take('mixed', 2), buckets.take('mixed', 3)]),
    ]);
    expect(full.map((decision) => decision.allowed)).to.deep.equal([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(used.map((decision) => decision.allowed)).to.deep.equal([true, true, false, false]);
    // 2 + 2 of 5 taken; the 3 finds 1 token left.
    expect(mixed.map((decision) => decision.allowed)).to.deep.equal([true, true, false]);
    expect(mixed[2]).to.deep.equal({ allowed: false, retryAfterSeconds: 200 });
    // Costs in any order: as if taken one after the other (2 and 3 of 5, then 2 finds none).
    const interleaved = await Promise.all([
      buckets.take('interleaved', 2),
      buckets.take('interleaved', 3),
      buckets.take('interleaved', 2),
    ]);
    expect(interleaved.map((decision) => decision.allowed)).to.deep.equal([true, true, false]);
    expect(await buckets.peek('full')).to.have.property('allowed', false);
    expect(await buckets.peek('mixed')).to.deep.equal({ allowed: true });
  });

  it('takes prune the full buckets in the background now and then', async () => {
    const buckets = new PgTokenBuckets(pool, 'pushes', {
      burst: 2,
      refillPerSecond: 20,
      pruneEveryMs: 200,
    });
    await buckets.take('refills');
    const rows = async (): Promise<string[]> =>
      (
        await pool.query<{ key: string }>('SELECT key FROM tidings_rate_buckets ORDER BY key')
      ).rows.map((row) => row.key);
    expect(await rows()).to.deep.equal(['refills']);
    await sleep(250); // full again (5 tokens' worth of refill, capped at 2)
    await buckets.take('other', 2);
    const left = await waitUntil(
      rows,
      (keys) => !keys.includes('refills'),
      'the full bucket to be pruned',
    );
    expect(left.length).to.be.at.most(1);
  });

  it('peek does not take; give returns tokens; reset fills the bucket', async () => {
    const buckets = new PgTokenBuckets(pool, 'login', { burst: 2, refillPerSecond: 0.01 });
    expect(await buckets.peek('user')).to.deep.equal({ allowed: true });
    expect(await buckets.peek('user', 3)).to.have.property('allowed', false);

    await buckets.take('user', 2);
    expect(await buckets.peek('user')).to.have.property('allowed', false);
    await buckets.give('user');
    expect(await buckets.peek('user')).to.deep.equal({ allowed: true });
    expect(await buckets.peek('user', 2)).to.have.property('allowed', false);
    await buckets.give('user', 5);
    expect(await buckets.take('user', 2)).to.deep.equal({ allowed: true });
    expect(await buckets.take('user')).to.have.property('allowed', false);

    // The port the application takes its failure budgets through.
    const budget: FailureBudget = buckets;
    await budget.reset('user');
    expect(await buckets.take('user', 2)).to.deep.equal({ allowed: true });
  });

  it('limiters keep their own buckets; prune drops the full ones', async () => {
    const login = new PgTokenBuckets(pool, 'login', { burst: 1, refillPerSecond: 20 });
    const pushes = new PgTokenBuckets(pool, 'pushes', { burst: 1, refillPerSecond: 0.01 });
    await login.take('k');
    await pushes.take('k');
    expect(await login.take('k')).to.have.property('allowed', false);

    await sleep(100); // login's bucket is full again, pushes' is not

    expect(await login.prune()).to.equal(1);
    expect(await pushes.prune()).to.equal(0);
    const { rows } = await pool.query<{ limiter: string }>(
      'SELECT limiter FROM tidings_rate_buckets',
    );
    expect(rows.map((row) => row.limiter)).to.deep.equal(['pushes']);
    expect(await pushes.take('k')).to.have.property('allowed', false);
  });
});

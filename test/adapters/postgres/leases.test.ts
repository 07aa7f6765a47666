import { expect } from 'chai';
import { LeaseKeeper, leaseMigrations, PgLeases } from '../../../adapters/postgres/leases.js';
import type { LeaseKeeperOptions } from '../../../adapters/postgres/leases.js';
import { migrate } from '../../../adapters/postgres/migrations.js';
import { openPool, type PgPool } from '../../../adapters/postgres/pool.js';
import {
  createTestSchema,
  PgRelay,
  requirePostgres,
  type TestSchema,
} from '../../support/postgres.js';
import { waitUntil } from '../../support/waitUntil.js';

const TTL_MS = 600;
const INTERVAL_MS = 200;
/** Room for the database calls and timers of a busy test machine. */
const SLACK_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Who works on which lease, as the keepers' callbacks say; a second holder of a lease is a
 * violation. A node that died (halted) is forgotten, as its process would be.
 */
class Holders {
  readonly owner = new Map<string, string>();
  readonly violations: string[] = [];
  readonly acquired: { node: string; name: string; checkpoint: string | undefined }[] = [];

  callbacks(node: string): Pick<LeaseKeeperOptions, 'onAcquired' | 'onLost'> {
    return {
      onAcquired: (name, checkpoint) => {
        const other = this.owner.get(name);
        if (other !== undefined) this.violations.push(`${node} got ${name} while ${other} had it`);
        this.owner.set(name, node);
        this.acquired.push({ node, name, checkpoint });
      },
      onLost: (name) => {
        if (this.owner.get(name) !== node) this.violations.push(`${node} lost ${name} it had not`);
        this.owner.delete(name);
      },
    };
  }

  forget(node: string): void {
    for (const [name, holder] of [...this.owner]) if (holder === node) this.owner.delete(name);
  }
}

describe('PostgreSQL leases', function () {
  let schema: TestSchema;
  let pool: PgPool;
  let leases: PgLeases;
  const keepers: LeaseKeeper[] = [];

  before(async function () {
    await requirePostgres(this);
  });

  beforeEach(async () => {
    schema = await createTestSchema();
    pool = schema.pool();
    await migrate(pool, leaseMigrations);
    leases = new PgLeases(pool);
  });

  afterEach(async () => {
    for (const keeper of keepers.splice(0)) keeper.halt();
    await schema.drop();
  });

  const keeper = (
    node: string,
    names: readonly string[],
    options: Partial<LeaseKeeperOptions> = {},
  ): LeaseKeeper => {
    const made = new LeaseKeeper({
      leases: new PgLeases(schema.pool()),
      names,
      node,
      ttlMs: TTL_MS,
      renewIntervalMs: INTERVAL_MS,
      ...options,
    });
    keepers.push(made);
    return made;
  };

  const rowOf = async (name: string) => {
    const row = (await leases.list()).find((lease) => lease.name === name);
    if (row === undefined) throw new Error(`no lease row ${name}`);
    return row;
  };

  describe('statements', () => {
    it('gives a free lease to one node and tells another who holds it until when, by the database clock', async () => {
      const first = await leases.tryAcquire('reactor', 'a', 5_000);
      const second = await leases.tryAcquire('reactor', 'b', 5_000);
      const { rows } = await pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');

      expect(first).to.deep.equal({ held: true });
      if (second.held) throw new Error('b got a lease a holds');
      expect(second.holder).to.equal('a');
      const left = second.expiresAt.getTime() - rows[0]!.now.getTime();
      expect(left).to.be.within(4_500, 5_000);
      expect(await leases.tryAcquire('reactor', 'a', 5_000)).to.deep.equal({ held: true });
    });

    it('two nodes racing for one lease: exactly one gets it', async () => {
      const other = new PgLeases(schema.pool());
      for (let round = 0; round < 20; round += 1) {
        const answers = await Promise.all([
          leases.tryAcquire(`race-${round}`, 'a', 5_000),
          other.tryAcquire(`race-${round}`, 'b', 5_000),
        ]);
        expect(answers.filter((answer) => answer.held)).to.have.length(1);
      }
    });

    it('renews only the holder’s lease, and only the holder writes the checkpoint', async () => {
      await leases.tryAcquire('reactor', 'a', 5_000);

      expect(await leases.renew('reactor', 'b', 5_000, 'b-was-here')).to.equal(false);
      expect(await leases.release('reactor', 'b', 'b-was-here')).to.equal(false);
      expect(await leases.renew('reactor', 'a', 5_000, '7')).to.equal(true);
      expect(await leases.renew('reactor', 'a', 5_000)).to.equal(true);

      const row = await rowOf('reactor');
      expect(row.holder).to.equal('a');
      expect(row.checkpoint).to.equal('7');
    });

    it('an expired lease cannot be renewed and goes to the next node with the saved checkpoint', async () => {
      await leases.tryAcquire('reactor', 'a', 200);
      await leases.renew('reactor', 'a', 200, '41');
      expect(await leases.tryAcquire('reactor', 'b', 5_000)).to.have.property('held', false);

      await sleep(300);

      expect(await leases.renew('reactor', 'a', 200)).to.equal(false);
      expect(await leases.tryAcquire('reactor', 'b', 5_000)).to.deep.equal({
        held: true,
        checkpoint: '41',
      });
      expect(await leases.renew('reactor', 'a', 200, 'stale')).to.equal(false);
      expect((await rowOf('reactor')).checkpoint).to.equal('41');
    });

    it('release frees the lease at once and keeps the checkpoint', async () => {
      await leases.tryAcquire('reactor', 'a', 60_000);

      expect(await leases.release('reactor', 'a', '99')).to.equal(true);

      const row = await rowOf('reactor');
      expect(row.holder).to.equal(null);
      expect(row.lastHolder).to.equal(null);
      expect(await leases.tryAcquire('reactor', 'b', 60_000)).to.deep.equal({
        held: true,
        checkpoint: '99',
      });
    });

    it('counts the live nodes by their heartbeats, until they leave or lapse', async () => {
      expect(await leases.heartbeat('a', 5_000)).to.equal(1);
      expect(await leases.heartbeat('b', 200)).to.equal(2);
      expect(await leases.heartbeat('a', 5_000)).to.equal(2);
      await sleep(300);
      expect(await leases.heartbeat('a', 5_000)).to.equal(1);
      await leases.heartbeat('c', 5_000);
      await leases.leave('c');
      expect(await leases.heartbeat('a', 5_000)).to.equal(1);
    });
  });

  describe('LeaseKeeper', () => {
    const NAMES = ['deliveries', 'callbacks', 'digests', 'expiry'];

    it('two keepers hold each lease exactly once, spread evenly (the later one gets its share)', async () => {
      const holders = new Holders();
      const a = keeper('node-a', NAMES, holders.callbacks('node-a'));
      await a.start();
      expect(a.held()).to.have.members(NAMES);

      const b = keeper('node-b', NAMES, holders.callbacks('node-b'));
      await b.start();
      await waitUntil(
        () => [a.held().length, b.held().length],
        ([heldByA, heldByB]) => heldByA === 2 && heldByB === 2,
        'an even spread',
        5_000,
      );

      expect([...a.held(), ...b.held()]).to.have.members(NAMES);
      const rows = await leases.list();
      expect(rows.map((row) => row.name)).to.have.members(NAMES);
      for (const row of rows) {
        expect(row.holder).to.equal(a.held().includes(row.name) ? 'node-a' : 'node-b');
      }
      const snapshot = await a.snapshot();
      expect(snapshot.filter((lease) => lease.heldByMe).map((lease) => lease.name)).to.have.members(
        a.held(),
      );
      expect(snapshot.every((lease) => lease.expiresAt !== null && lease.holder !== null)).to.equal(
        true,
      );
      expect(holders.violations).to.deep.equal([]);
    });

    it('a stopped keeper releases its leases and the other takes them over at once', async () => {
      const holders = new Holders();
      // A long ttl: a takeover this soon can only come from the release.
      const a = keeper('node-a', NAMES, { ...holders.callbacks('node-a'), ttlMs: 5_000 });
      const b = keeper('node-b', NAMES, { ...holders.callbacks('node-b'), ttlMs: 5_000 });
      await a.start();
      await b.start();
      await waitUntil(
        () => b.held().length,
        (count) => count === 2,
        'b’s share',
        5_000,
      );
      const ofA = a.held();

      await a.stop();
      const stoppedAt = Date.now();

      expect(a.held()).to.deep.equal([]);
      for (const name of ofA) expect((await rowOf(name)).holder).to.be.oneOf([null, 'node-b']);
      await waitUntil(
        () => b.held().length,
        (count) => count === 4,
        'b holding all',
        1_000,
      );
      expect(Date.now() - stoppedAt).to.be.below(1_000);
      expect(holders.violations).to.deep.equal([]);
    });

    it('a keeper that stops renewing (a dead node) loses its leases to the other within ttl + interval, not before they expire', async () => {
      const holders = new Holders();
      const a = keeper('node-a', NAMES, holders.callbacks('node-a'));
      const b = keeper('node-b', NAMES, holders.callbacks('node-b'));
      await a.start();
      await b.start();
      await waitUntil(
        () => b.held().length,
        (count) => count === 2,
        'b’s share',
        5_000,
      );
      const ofA = a.held();

      a.halt();
      const haltedAt = Date.now();
      holders.forget('node-a');
      await sleep(50); // a renewal already sent may still land
      const expiries = new Map<string, number>();
      for (const name of ofA) expiries.set(name, (await rowOf(name)).expiresAt.getTime());

      await waitUntil(
        () => b.held().length,
        (count) => count === 4,
        'b holding all',
        3_000,
        10,
      );
      expect(Date.now() - haltedAt).to.be.below(TTL_MS + INTERVAL_MS + SLACK_MS);
      for (const name of ofA) {
        const row = await rowOf(name);
        expect(row.holder).to.equal('node-b');
        expect(row.acquiredAt.getTime()).to.be.at.least(expiries.get(name)!);
      }
      expect(holders.violations).to.deep.equal([]);
    });

    it('hands the reported checkpoint to the next holder, on stop (reported during onLost too)', async () => {
      const holders = new Holders();
      const a: LeaseKeeper = keeper('node-a', ['reactor'], {
        onAcquired: holders.callbacks('node-a').onAcquired!,
        onLost: (name) => {
          a.setCheckpoint(name, 'final-17');
        },
      });
      await a.start();
      expect(a.setCheckpoint('reactor', '16')).to.equal(true);
      expect(a.setCheckpoint('not-a-lease', '1')).to.equal(false);

      await a.stop();
      const b = keeper('node-b', ['reactor'], holders.callbacks('node-b'));
      await b.start();

      expect(b.held()).to.deep.equal(['reactor']);
      expect(holders.acquired.at(-1)).to.deep.equal({
        node: 'node-b',
        name: 'reactor',
        checkpoint: 'final-17',
      });
    });

    it('saves the checkpoint with a renewal, so it survives its holder’s death', async () => {
      const holders = new Holders();
      const a = keeper('node-a', ['reactor'], holders.callbacks('node-a'));
      await a.start();
      a.setCheckpoint('reactor', '5');
      await waitUntil(
        () => rowOf('reactor'),
        (row) => row.checkpoint === '5',
        'a renewal',
        2_000,
      );

      a.halt();
      holders.forget('node-a');
      const b = keeper('node-b', ['reactor'], holders.callbacks('node-b'));
      await b.start();
      await waitUntil(
        () => b.held(),
        (held) => held.length === 1,
        'b taking over',
        3_000,
      );

      expect(holders.acquired.at(-1)).to.deep.equal({
        node: 'node-b',
        name: 'reactor',
        checkpoint: '5',
      });
      expect(b.setCheckpoint('reactor', '6')).to.equal(true);
      expect(a.setCheckpoint('reactor', 'from-the-dead')).to.equal(false);
    });

    /**
     * Starts `a` on `cutPool`, lets `cut()` sever it, and checks that its `onLost` runs while the
     * database still has the lease as `a`'s and unexpired, and that `b` takes over only after.
     */
    const givesUpFirst = async (cutPool: PgPool, cut: () => Promise<void> | void) => {
      const holders = new Holders();
      const seenAtLoss: { holder: string | null; live: boolean }[] = [];
      const errors: string[] = [];
      const a = new LeaseKeeper({
        leases: new PgLeases(cutPool),
        names: ['reactor'],
        node: 'node-a',
        ttlMs: TTL_MS,
        renewIntervalMs: INTERVAL_MS,
        onAcquired: holders.callbacks('node-a').onAcquired!,
        onLost: async (name) => {
          const { rows } = await pool.query<{ holder: string | null; live: boolean }>(
            'SELECT holder, expires_at > clock_timestamp() AS live FROM tidings_leases WHERE name = $1',
            [name],
          );
          seenAtLoss.push(rows[0]!);
          void holders.callbacks('node-a').onLost!(name);
        },
        onError: (error) => errors.push(error.message),
      });
      keepers.push(a);
      await a.start();
      expect(a.held()).to.deep.equal(['reactor']);
      const b = keeper('node-b', ['reactor'], holders.callbacks('node-b'));
      await b.start();

      await cut();
      await waitUntil(
        () => seenAtLoss.length,
        (count) => count === 1,
        'a’s onLost',
        3_000,
        10,
      );

      expect(seenAtLoss[0]).to.deep.equal({ holder: 'node-a', live: true });
      expect(a.held()).to.deep.equal([]);
      expect(errors).to.not.deep.equal([]);
      await waitUntil(
        () => b.held(),
        (held) => held.length === 1,
        'b taking over',
        3_000,
      );
      expect(holders.violations).to.deep.equal([]);
    };

    it('a keeper whose pool is gone calls onLost before its lease runs out', async () => {
      const cutPool = schema.pool();
      await migrate(cutPool, leaseMigrations);
      await givesUpFirst(cutPool, () => cutPool.end());
    });

    it('a keeper whose database stops answering calls onLost before its lease runs out', async () => {
      const relay = new PgRelay();
      const url = new URL(schema.url);
      url.port = String(await relay.listen());
      const cutPool = openPool(url.toString(), { schema: schema.schema, connectTimeoutMs: 10_000 });
      try {
        await givesUpFirst(cutPool, () => {
          relay.freeze();
        });
      } finally {
        for (const made of keepers.splice(0)) made.halt();
        await relay.close();
        await cutPool.end().catch(() => undefined);
      }
    });

    it('a keeper that cannot reach the database holds nothing and says why', async () => {
      const errors: string[] = [];
      const url = new URL(schema.url);
      url.port = '1';
      const unreachable = openPool(url.toString(), { schema: schema.schema });
      let acquired = 0;
      const lonely = new LeaseKeeper({
        leases: new PgLeases(unreachable),
        names: NAMES,
        node: 'node-x',
        ttlMs: TTL_MS,
        renewIntervalMs: INTERVAL_MS,
        onAcquired: () => {
          acquired += 1;
        },
        onError: (error, during) => errors.push(`${during}: ${error.message}`),
      });
      keepers.push(lonely);
      try {
        await lonely.start();

        expect(lonely.held()).to.deep.equal([]);
        expect(acquired).to.equal(0);
        expect(errors.some((error) => error.startsWith('heartbeat'))).to.equal(true);
        await lonely.stop();
      } finally {
        await unreachable.end().catch(() => undefined);
      }
    });

    it('an onAcquired that throws hands the lease back (and onLost follows it)', async () => {
      let attempts = 0;
      let lost = 0;
      const errors: string[] = [];
      const failing = keeper('node-a', ['reactor'], {
        ttlMs: 5_000,
        onAcquired: () => {
          attempts += 1;
          throw new Error('cannot start');
        },
        onLost: () => {
          lost += 1;
        },
        onError: (error, during) => errors.push(`${during}: ${error.message}`),
      });
      await failing.start();
      await waitUntil(
        () => lost,
        (count) => count >= 1,
        'the hand-back',
        2_000,
      );
      await failing.stop();

      expect(errors).to.include('onAcquired reactor: cannot start');
      expect(lost).to.equal(attempts);
      expect((await rowOf('reactor')).holder).to.equal(null);
      expect(failing.held()).to.deep.equal([]);
    });

    it('refuses a renew interval that leaves no renewal before the node would give up', () => {
      expect(
        () =>
          new LeaseKeeper({ leases, names: ['x'], node: 'n', ttlMs: 600, renewIntervalMs: 500 }),
      ).to.throw(/shorter than ttl/);
    });
  });
});

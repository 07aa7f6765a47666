import type { RateDecision } from '../http/rateLimiter.js';
import type { Migration } from './migrations.js';
import type { PgPool } from './pool.js';
import { StatementBatches } from './statementBatches.js';

/**
 * Token buckets shared by the nodes, by limiter (login by IP, pushes by app, …) and key. A row is
 * a bucket that is not full; no row is a full bucket. `last_allowed` is whether the latest take
 * was let through: PostgreSQL before 18 cannot return a row's old values from an upsert, so the
 * take writes its decision beside the tokens and returns it.
 */
export const rateLimitMigrations: readonly Migration[] = [
  {
    name: 'pgRateLimits-1',
    sql: `
      CREATE TABLE tidings_rate_buckets (
        limiter text NOT NULL,
        key text NOT NULL,
        tokens double precision NOT NULL,
        updated_at timestamptz NOT NULL,
        last_allowed boolean NOT NULL,
        PRIMARY KEY (limiter, key)
      );
    `,
  },
  {
    // How many takes the latest statement let through, when it decided several at once.
    name: 'pgRateLimits-2',
    sql: `ALTER TABLE tidings_rate_buckets ADD COLUMN last_taken integer NOT NULL DEFAULT 0;`,
  },
];

/** How often a node prunes a limiter's full buckets, at most. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** A take asked for: `cost` tokens of `key`'s bucket. */
interface TakeRequest {
  readonly key: string;
  readonly cost: number;
}

/** The shape of the buckets of one limiter. */
export interface PgTokenBucketOptions {
  /** Tokens available at once. */
  readonly burst: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  /** How often a node prunes the limiter's full buckets, in ms; default ten minutes. */
  readonly pruneEveryMs?: number;
}

/**
 * The tokens of bucket `b` at `now`, refilled since its last update (never beyond the burst,
 * never from a time before it: a concurrent call may have stamped the row later than `now`).
 * $3 is the burst and $4 the refill per second in every statement here.
 */
const refilled = (bucket: string, now: string): string =>
  `LEAST($3::double precision, ${bucket}.tokens + GREATEST(0, EXTRACT(EPOCH FROM ${now} - ${bucket}.updated_at)::double precision) * $4::double precision)`;

const finiteCost = (cost: number): number => {
  if (!Number.isFinite(cost) || cost < 0) throw new Error(`not a token cost: ${cost}`);
  return cost;
};

/**
 * The token buckets of adapters/http/rateLimiter.ts (`TokenBuckets`: a burst, then a steady
 * rate) in the shared database, so that the nodes together let through what one node would.
 * Timed by the database's clock; concurrent takes of one bucket queue on its row lock, each
 * seeing the tokens the one before left. The takes a node makes at the same time go to the
 * database together (statementBatches.ts): usually one statement decides them all, as if they
 * had been made one after the other in the order they came.
 */
export class PgTokenBuckets {
  private readonly takes = new StatementBatches<TakeRequest, RateDecision>(
    (requests) => this.takeAll(requests),
    (request) => request.key,
    'together',
  );

  constructor(
    private readonly pool: PgPool,
    /** Which limiter these buckets are, e.g. `login-ip`; each limiter has its own keys. */
    private readonly limiter: string,
    private readonly options: PgTokenBucketOptions,
  ) {
    const { burst, refillPerSecond } = options;
    if (!(
      Number.isFinite(burst) &&
      burst > 0 &&
      Number.isFinite(refillPerSecond) &&
      refillPerSecond > 0
    )) {
      throw new Error(
        `token buckets need a positive burst and refill: ${burst}, ${refillPerSecond}`,
      );
    }
  }

  /** When this node last pruned the limiter's full buckets (performance.now()). */
  private prunedAt = performance.now();

  /**
   * Takes `cost` tokens from `key`'s bucket if it has them. Every ten minutes a take also prunes
   * the limiter's full buckets in the background (any node may: a full bucket and no row are the
   * same), so the table holds the buckets in use, not every key ever seen.
   */
  async take(key: string, cost = 1): Promise<RateDecision> {
    const now = performance.now();
    if (now - this.prunedAt >= (this.options.pruneEveryMs ?? PRUNE_EVERY_MS)) {
      this.prunedAt = now;
      this.prune().catch(() => undefined);
    }
    return this.takes.submit({ key, cost: finiteCost(cost) });
  }

  /**
   * Decides a group of takes as if one after the other in the order they came: each bucket's
   * takes split into runs of one cost (usually a single run), the n-th runs of all buckets decided
   * together, one statement per cost among them.
   */
  private async takeAll(requests: readonly TakeRequest[]): Promise<RateDecision[]> {
    const runsByKey = new Map<string, TakeRequest[][]>();
    for (const request of requests) {
      const runs = runsByKey.get(request.key) ?? [];
      const last = runs.at(-1);
      if (last?.[0]?.cost === request.cost) last.push(request);
      else runs.push([request]);
      runsByKey.set(request.key, runs);
    }
    const answers = new Map<TakeRequest, RateDecision>();
    const rounds = Math.max(...[...runsByKey.values()].map((runs) => runs.length));
    for (let round = 0; round < rounds; round += 1) {
      const byCost = new Map<number, TakeRequest[][]>();
      for (const runs of runsByKey.values()) {
        const run = runs[round];
        const cost = run?.[0]?.cost;
        if (run === undefined || cost === undefined) continue;
        byCost.set(cost, [...(byCost.get(cost) ?? []), run]);
      }
      for (const [cost, runs] of byCost) await this.decideRuns(cost, runs, answers);
    }
    return requests.map((request) => answers.get(request) ?? this.refusal(request.cost, 0));
  }

  /** Decides runs of takes of one `cost`, one run per bucket, with one statement. */
  private async decideRuns(
    cost: number,
    runs: readonly (readonly TakeRequest[])[],
    answers: Map<TakeRequest, RateDecision>,
  ): Promise<void> {
    if (cost === 0) {
      // Nothing to take: always let through, as a bucket with any tokens would.
      for (const run of runs) for (const request of run) answers.set(request, { allowed: true });
      return;
    }
    const wanted = new Map(runs.map((run) => [run[0]?.key ?? '', run.length]));
    const outcome = await this.takeMany(cost, wanted);
    for (const run of runs) {
      run.forEach((request, index) => {
        const bucket = outcome.get(request.key);
        if (bucket === undefined) throw new Error('the bucket upsert returned no row');
        // The first `taken` takes of the run, in the order they came, are let through.
        answers.set(
          request,
          index < bucket.taken ? { allowed: true } : this.refusal(cost, bucket.tokens),
        );
      });
    }
  }

  /**
   * Takes `cost` tokens up to `wanted` times from each bucket, as long as it has them; answers
   * how many takes each bucket let through, and the tokens left. A full bucket has no row, so a
   * take inserts it; `last_taken` carries the count out of the upsert.
   */
  private async takeMany(
    cost: number,
    wanted: ReadonlyMap<string, number>,
  ): Promise<Map<string, { taken: number; tokens: number }>> {
    const r = refilled('b', 'excluded.updated_at');
    const n = '(SELECT w.n FROM wanted w WHERE w.key = excluded.key)';
    const taken = (tokens: string, count: string): string =>
      `LEAST(${count}, floor(${tokens} / $5::double precision))::integer`;
    const keys = [...wanted.keys()];
    const { rows } = await this.pool.query<{ key: string; taken: number; tokens: number }>(
      `WITH wanted AS (SELECT * FROM unnest($2::text[], $6::integer[]) AS w(key, n))
       INSERT INTO tidings_rate_buckets AS b (limiter, key, tokens, updated_at, last_allowed, last_taken)
       SELECT $1, w.key, $3 - ${taken('$3', 'w.n')} * $5, clock_timestamp(),
              ${taken('$3', 'w.n')} > 0, ${taken('$3', 'w.n')}
         FROM wanted w
       ON CONFLICT (limiter, key) DO UPDATE SET
         tokens = ${r} - ${taken(r, n)} * $5,
         updated_at = GREATEST(b.updated_at, excluded.updated_at),
         last_allowed = ${taken(r, n)} > 0,
         last_taken = ${taken(r, n)}
       RETURNING b.key, b.last_taken AS taken, b.tokens`,
      [
        this.limiter,
        keys,
        this.options.burst,
        this.options.refillPerSecond,
        cost,
        keys.map((key) => wanted.get(key) ?? 0),
      ],
    );
    return new Map(rows.map((row) => [row.key, { taken: row.taken, tokens: row.tokens }]));
  }

  /** Whether `key` could take `cost` tokens now, without taking them. */
  async peek(key: string, cost = 1): Promise<RateDecision> {
    const { rows } = await this.pool.query<{ tokens: number }>(
      `SELECT ${refilled('b', 't.now')} AS tokens
         FROM tidings_rate_buckets b, (SELECT clock_timestamp() AS now) t
        WHERE b.limiter = $1 AND b.key = $2`,
      [this.limiter, key, this.options.burst, this.options.refillPerSecond],
    );
    const tokens = rows[0]?.tokens ?? this.options.burst;
    return tokens >= finiteCost(cost) ? { allowed: true } : this.refusal(cost, tokens);
  }

  /** Gives back `cost` tokens taken for an attempt that turned out not to count. */
  async give(key: string, cost = 1): Promise<void> {
    // No row is a full bucket: nothing to give back to.
    await this.pool.query(
      `UPDATE tidings_rate_buckets b
          SET tokens = LEAST($3::double precision, ${refilled('b', 't.now')} + $5::double precision),
              updated_at = GREATEST(b.updated_at, t.now)
         FROM (SELECT clock_timestamp() AS now) t
        WHERE b.limiter = $1 AND b.key = $2`,
      [this.limiter, key, this.options.burst, this.options.refillPerSecond, finiteCost(cost)],
    );
  }

  /** Forgets a key (a full bucket again), e.g. after a successful login. */
  async reset(key: string): Promise<void> {
    await this.pool.query('DELETE FROM tidings_rate_buckets WHERE limiter = $1 AND key = $2', [
      this.limiter,
      key,
    ]);
  }

  /** Deletes this limiter's buckets that have refilled to full (the same as none); answers how many. */
  async prune(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM tidings_rate_buckets b USING (SELECT clock_timestamp() AS now) t
        WHERE b.limiter = $1 AND ${refilled('b', 't.now')} >= $2::double precision`,
      // $3 and $4 of `refilled` after a $2 the DELETE uses for the burst as well.
      [this.limiter, this.options.burst, this.options.burst, this.options.refillPerSecond],
    );
    return rowCount ?? 0;
  }

  private refusal(cost: number, tokens: number): RateDecision {
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((cost - tokens) / this.options.refillPerSecond)),
    };
  }
}

import type { RateDecision } from '../http/rateLimiter.js';
import type { Migration } from './migrations.js';
import type { PgPool } from './pool.js';

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
];

/** The shape of the buckets of one limiter. */
export interface PgTokenBucketOptions {
  /** Tokens available at once. */
  readonly burst: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
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
 * rate) in the shared database, so that the nodes together let through what one node would. One
 * statement per call, timed by the database's clock; concurrent takes of one bucket queue on its
 * row lock, each seeing the tokens the one before left.
 */
export class PgTokenBuckets {
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

  /** Takes `cost` tokens from `key`'s bucket if it has them. */
  async take(key: string, cost = 1): Promise<RateDecision> {
    const r = refilled('b', 'excluded.updated_at');
    const { rows } = await this.pool.query<{ allowed: boolean; tokens: number }>(
      `INSERT INTO tidings_rate_buckets AS b (limiter, key, tokens, updated_at, last_allowed)
       VALUES ($1, $2,
               CASE WHEN $3::double precision >= $5::double precision THEN $3 - $5 ELSE $3 END,
               clock_timestamp(), $3::double precision >= $5::double precision)
       ON CONFLICT (limiter, key) DO UPDATE SET
         tokens = CASE WHEN ${r} >= $5 THEN ${r} - $5 ELSE ${r} END,
         updated_at = GREATEST(b.updated_at, excluded.updated_at),
         last_allowed = ${r} >= $5
       RETURNING last_allowed AS allowed, tokens`,
      [this.limiter, key, this.options.burst, this.options.refillPerSecond, finiteCost(cost)],
    );
    const row = rows[0];
    if (row === undefined) throw new Error('the bucket upsert returned no row');
    return row.allowed ? { allowed: true } : this.refusal(cost, row.tokens);
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

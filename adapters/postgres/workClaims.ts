import type { Migration } from './migrations.js';
import type { PgPool } from './pool.js';
import { StatementBatches } from './statementBatches.js';

/**
 * Claims of side-effect work (a delivery attempt, a callback attempt) by key. `holder` is null
 * once released; `done_at` set means the work is made and the key is never claimed again (until
 * `prune` forgets it). Times are the database's clock.
 */
export const workClaimMigrations: readonly Migration[] = [
  {
    name: 'workClaims-1',
    sql: `
      CREATE TABLE tidings_work_claims (
        key text PRIMARY KEY,
        holder text,
        expires_at timestamptz NOT NULL,
        claimed_at timestamptz NOT NULL,
        done_at timestamptz
      );
      CREATE INDEX tidings_work_claims_done ON tidings_work_claims (done_at) WHERE done_at IS NOT NULL;
    `,
  },
];

const positiveTtl = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`not a claim ttl: ${ttlMs}`);
  return ttlMs;
};

/** How often a node prunes done claims, at most. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** A claim asked for: of `key`, by `node`, for `ttlMs`. */
interface ClaimRequest {
  readonly key: string;
  readonly node: string;
  readonly ttlMs: number;
}

/**
 * Spreads side-effect work over the nodes: a node claims a key before it does the work, and only
 * one node holds a key's claim at a time. Concurrent claims of a key are decided by its row lock:
 * the upsert of the second waits for the first, then sees it. Claims and completions made at the
 * same time by one process go to the database together, one statement each kind
 * (statementBatches.ts): a node delivering hundreds of messages a second makes a few round trips
 * for them, not two per message.
 */
export class PgWorkClaims {
  private readonly claims: StatementBatches<ClaimRequest, boolean>;
  private readonly completions: StatementBatches<Omit<ClaimRequest, 'ttlMs'>, boolean>;

  /** When this node last pruned done claims (performance.now()). */
  private prunedAt = performance.now();

  /**
   * @param pruning with it, every `everyMs` (default ten minutes) a claim also prunes the done
   *   claims older than `keepDoneMs` in the background (see {@link prune} for how long is safe);
   *   without it, never.
   */
  constructor(
    private readonly pool: PgPool,
    private readonly pruning?: { readonly keepDoneMs: number; readonly everyMs?: number },
  ) {
    this.claims = new StatementBatches(
      async (requests) => {
        const { rows } = await this.pool.query<{ key: string }>(
          `INSERT INTO tidings_work_claims AS c (key, holder, expires_at, claimed_at)
           SELECT u.key, u.holder, clock_timestamp() + u.ttl * interval '1 millisecond', clock_timestamp()
             FROM unnest($1::text[], $2::text[], $3::double precision[]) AS u(key, holder, ttl)
           ON CONFLICT (key) DO UPDATE SET
             holder = excluded.holder,
             expires_at = excluded.expires_at,
             claimed_at = CASE WHEN c.holder = excluded.holder THEN c.claimed_at ELSE excluded.claimed_at END
           WHERE c.done_at IS NULL
             AND (c.holder IS NULL OR c.holder = excluded.holder OR c.expires_at <= clock_timestamp())
           RETURNING c.key`,
          [
            requests.map((request) => request.key),
            requests.map((request) => request.node),
            requests.map((request) => request.ttlMs),
          ],
        );
        const claimed = new Set(rows.map((row) => row.key));
        return requests.map((request) => claimed.has(request.key));
      },
      (request) => request.key,
    );
    this.completions = new StatementBatches(
      async (requests) => {
        const { rows } = await this.pool.query<{ key: string }>(
          `UPDATE tidings_work_claims c SET done_at = clock_timestamp()
             FROM unnest($1::text[], $2::text[]) AS u(key, holder)
            WHERE c.key = u.key AND c.holder = u.holder AND c.done_at IS NULL
           RETURNING c.key`,
          [requests.map((request) => request.key), requests.map((request) => request.node)],
        );
        const completed = new Set(rows.map((row) => row.key));
        return requests.map((request) => completed.has(request.key));
      },
      (request) => request.key,
    );
  }

  /**
   * Claims `key` for `node` for `ttlMs`. True when there was no claim, or the claim is not done
   * and has run out or been released, or is `node`'s already (then it is extended).
   */
  async claim(key: string, node: string, ttlMs: number): Promise<boolean> {
    const now = performance.now();
    const pruning = this.pruning;
    if (pruning !== undefined && now - this.prunedAt >= (pruning.everyMs ?? PRUNE_EVERY_MS)) {
      this.prunedAt = now;
      this.prune(pruning.keepDoneMs).catch(() => undefined);
    }
    return this.claims.submit({ key, node, ttlMs: positiveTtl(ttlMs) });
  }

  /**
   * Marks `node`'s claim of `key` done: no node claims it again. False when the claim is not
   * `node`'s (another node took it over after it ran out; that node will do the work again).
   */
  async complete(key: string, node: string): Promise<boolean> {
    return this.completions.submit({ key, node });
  }

  /** Gives `node`'s claim of `key` up (the work was not done), so any node may claim it at once. */
  async release(key: string, node: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE tidings_work_claims SET holder = NULL, expires_at = clock_timestamp()
        WHERE key = $1 AND holder = $2 AND done_at IS NULL`,
      [key, node],
    );
    return rowCount === 1;
  }

  /**
   * Deletes the done claims older than `olderThanMs`; answers how many. A key pruned can be
   * claimed again, so `olderThanMs` must be longer than any key can come back (the retry horizon
   * of its work). Open claims are kept.
   */
  async prune(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM tidings_work_claims
        WHERE done_at < clock_timestamp() - $1::double precision * interval '1 millisecond'`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }
}

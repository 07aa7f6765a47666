import type { Migration } from './migrations.js';
import type { PgPool } from './pool.js';

export { LeaseKeeper } from './leaseKeeper.js';
export type { LeaseKeeperOptions, LeaseStatus } from './leaseKeeper.js';

/**
 * The processor leases. A row per lease name, kept after release so that its checkpoint outlives
 * its holders; `holder` is null once released. Expiry is the database's clock (`clock_timestamp()`
 * in every statement), so the nodes' clocks never have to agree. `tidings_lease_nodes` is the
 * keepers' presence, so that a node can count the live nodes and take only its share.
 */
export const leaseMigrations: readonly Migration[] = [
  {
    name: 'leases-1',
    sql: `
      CREATE TABLE tidings_leases (
        name text PRIMARY KEY,
        holder text,
        expires_at timestamptz NOT NULL,
        checkpoint text,
        acquired_at timestamptz NOT NULL,
        renewed_at timestamptz NOT NULL
      );
      CREATE TABLE tidings_lease_nodes (
        node text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
    `,
  },
];

/** The answer of {@link PgLeases.tryAcquire}. */
export type LeaseAcquisition =
  /** Held by the caller until the ttl; `checkpoint` is what the last holder saved, if anything. */
  | { readonly held: true; readonly checkpoint?: string }
  /** Held by another node until `expiresAt` (the database's time). */
  | { readonly held: false; readonly holder: string; readonly expiresAt: Date };

/** One lease as the database has it, for readiness and operators. */
export interface LeaseRow {
  readonly name: string;
  /** Null when released, or when the lease has expired (whoever held it last no longer does). */
  readonly holder: string | null;
  /** Who held it last (also after release or expiry), for diagnostics. */
  readonly lastHolder: string | null;
  readonly expiresAt: Date;
  readonly checkpoint: string | null;
  readonly acquiredAt: Date;
  readonly renewedAt: Date;
}

/** A ttl in ms as an interval, computed by the database. */
const TTL = (parameter: string): string =>
  `(${parameter}::double precision * interval '1 millisecond')`;

const positiveTtl = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`not a lease ttl: ${ttlMs}`);
  return ttlMs;
};

/**
 * The lease statements, one statement per operation. A lease is held by `holder` while
 * `expires_at` is in the database's future; only the holder renews it, writes its checkpoint or
 * releases it. None of these calls keeps time on the node: that is {@link LeaseKeeper}'s part.
 */
export class PgLeases {
  constructor(private readonly pool: PgPool) {}

  /**
   * Takes the lease if it is free (never held, released, or expired), or renews it if `node`
   * holds it already. When it is another node's, says whose and until when.
   */
  async tryAcquire(name: string, node: string, ttlMs: number): Promise<LeaseAcquisition> {
    const ttl = positiveTtl(ttlMs);
    // The CTE's read of the table sees the statement's snapshot, the row as it was before this
    // statement: when the upsert did nothing, that is the holder that kept us out. A row inserted
    // by a concurrent transaction that committed after the snapshot is not in it; then the answer
    // has no row, and one more attempt sees it.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { rows } = await this.pool.query<{
        held: boolean;
        checkpoint: string | null;
        holder: string | null;
        expires_at: Date | null;
      }>(
        `WITH taken AS (
           INSERT INTO tidings_leases AS l (name, holder, expires_at, acquired_at, renewed_at)
           VALUES ($1, $2, clock_timestamp() + ${TTL('$3')}, clock_timestamp(), clock_timestamp())
           ON CONFLICT (name) DO UPDATE SET
             holder = excluded.holder,
             expires_at = excluded.expires_at,
             acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > clock_timestamp()
                                THEN l.acquired_at ELSE excluded.acquired_at END,
             renewed_at = excluded.renewed_at
           WHERE l.holder IS NULL OR l.holder = excluded.holder OR l.expires_at <= clock_timestamp()
           RETURNING l.checkpoint
         )
         SELECT true AS held, checkpoint, NULL AS holder, NULL::timestamptz AS expires_at FROM taken
         UNION ALL
         SELECT false, NULL, holder, expires_at FROM tidings_leases
          WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
        [name, node, ttl],
      );
      const row = rows[0];
      if (row === undefined) continue;
      if (row.held)
        return row.checkpoint === null
          ? { held: true }
          : { held: true, checkpoint: row.checkpoint };
      if (row.holder !== null && row.expires_at !== null) {
        return { held: false, holder: row.holder, expiresAt: row.expires_at };
      }
    }
    throw new Error(`lease ${name}: no stable answer after 3 attempts`);
  }

  /**
   * Extends `node`'s lease by `ttlMs` from now and saves `checkpoint` with it (kept as it is when
   * undefined). False when the lease is not `node`'s any more, or has expired: an expired lease
   * is taken again with {@link tryAcquire}, so that its holder learns its checkpoint afresh.
   */
  async renew(name: string, node: string, ttlMs: number, checkpoint?: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE tidings_leases
          SET expires_at = clock_timestamp() + ${TTL('$3')},
              renewed_at = clock_timestamp(),
              checkpoint = COALESCE($4, checkpoint)
        WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()`,
      [name, node, positiveTtl(ttlMs), checkpoint ?? null],
    );
    return rowCount === 1;
  }

  /**
   * Frees `node`'s lease at once, saving `checkpoint` (kept as it is when undefined), so that
   * another node can take it without waiting for the ttl. Also after expiry, as long as nobody
   * took it since: the row still names `node`, so no other holder's checkpoint is overwritten.
   * False when the lease is not `node`'s.
   */
  async release(name: string, node: string, checkpoint?: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE tidings_leases
          SET holder = NULL, expires_at = clock_timestamp(), checkpoint = COALESCE($3, checkpoint)
        WHERE name = $1 AND holder = $2`,
      [name, node, checkpoint ?? null],
    );
    return rowCount === 1;
  }

  /**
   * The checkpoint saved with the lease `name` (by its holder's renewals and its release), held or
   * not; undefined when none was saved yet. Any node may read how far the leased work got.
   */
  async checkpointOf(name: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ checkpoint: string | null }>(
      'SELECT checkpoint FROM tidings_leases WHERE name = $1',
      [name],
    );
    return rows[0]?.checkpoint ?? undefined;
  }

  /** Every lease, by name; `holder` is null for a free one. */
  async list(): Promise<readonly LeaseRow[]> {
    const { rows } = await this.pool.query<{
      name: string;
      holder: string | null;
      last_holder: string | null;
      expires_at: Date;
      checkpoint: string | null;
      acquired_at: Date;
      renewed_at: Date;
    }>(
      `SELECT name, CASE WHEN expires_at > clock_timestamp() THEN holder END AS holder,
              holder AS last_holder, expires_at, checkpoint, acquired_at, renewed_at
         FROM tidings_leases ORDER BY name`,
    );
    return rows.map((row) => ({
      name: row.name,
      holder: row.holder,
      lastHolder: row.last_holder,
      expiresAt: row.expires_at,
      checkpoint: row.checkpoint,
      acquiredAt: row.acquired_at,
      renewedAt: row.renewed_at,
    }));
  }

  /**
   * Records that `node` is alive for `ttlMs`, and answers how many nodes are (itself included).
   * Rows of nodes gone for a day are deleted on the way.
   */
  async heartbeat(node: string, ttlMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ live: number }>(
      `WITH beat AS (
         INSERT INTO tidings_lease_nodes (node, expires_at) VALUES ($1, clock_timestamp() + ${TTL('$2')})
         ON CONFLICT (node) DO UPDATE SET expires_at = excluded.expires_at
         RETURNING node
       ), gone AS (
         DELETE FROM tidings_lease_nodes WHERE expires_at < clock_timestamp() - interval '1 day'
       )
       SELECT 1 + (SELECT count(*) FROM tidings_lease_nodes
                    WHERE node <> $1 AND expires_at > clock_timestamp())::int AS live
         FROM beat`,
      [node, positiveTtl(ttlMs)],
    );
    return rows[0]?.live ?? 1;
  }

  /** Removes `node` from the live nodes (it stops), so the others count their shares without it. */
  async leave(node: string): Promise<void> {
    await this.pool.query('DELETE FROM tidings_lease_nodes WHERE node = $1', [node]);
  }
}

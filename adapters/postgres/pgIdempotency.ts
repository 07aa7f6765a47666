import { randomUUID } from 'node:crypto';
import {
  bodyHash,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyStart,
  type IdempotencyStore,
} from '../http/idempotency.js';
import type { Migration } from './migrations.js';
import { inTransaction, type PgPool } from './pool.js';

/**
 * Answers to requests that carried an Idempotency-Key, shared by the nodes, kept 24 h: the same
 * columns as the SQLite table (adapters/sqlite/database.ts), times as timestamptz.
 */
export const idempotencyMigrations: readonly Migration[] = [
  {
    name: 'pgIdempotency-1',
    sql: `
      CREATE TABLE tidings_idempotency_keys (
        app_id text NOT NULL,
        key text NOT NULL,
        body_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'done', 'abandoned')),
        status integer,
        response text,
        owner text,
        created_at timestamptz NOT NULL,
        first_at timestamptz NOT NULL,
        PRIMARY KEY (app_id, key)
      );
      CREATE INDEX tidings_idempotency_keys_by_age ON tidings_idempotency_keys (created_at);
    `,
  },
];

/**
 * A pending claim younger than this is answered "in progress", whichever node made it; an older
 * one is taken to be of a request that died without cleaning up, and a retry takes it over (its
 * events are deduplicated by ids derived from the key anyway).
 *
 * Unlike the single-process store, a claim of another owner is NOT taken over at once. There, one
 * process holds the data folder, so another owner is a process that is gone. Here another owner
 * is another node, which is most likely alive and still running the request: taking its claim
 * over would run the request twice — two messages for one key, the very thing the key prevents.
 * A node that really died is seen as gone once its presence in `tidings_lease_nodes` runs out
 * (about 5 s), and its claim is taken over then; a claim of an owner no keeper knows waits this
 * long.
 */
const ABANDONED_AFTER_MS = 60 * 1000;

interface KeyRow {
  readonly owner: string | null;
  /**
   * Whether the node in the owner's name (`<node>/<id>`) shows itself live in
   * `tidings_lease_nodes`; null when the owner names no node the keepers know.
   */
  readonly owner_live: boolean | null;
  readonly body_hash: string;
  readonly state: 'pending' | 'done' | 'abandoned';
  readonly status: number | null;
  readonly response: string | null;
  /** When this claim was made (the latest takeover's time). */
  readonly created_at: Date;
  /** When the key was first claimed within its window. */
  readonly first_at: Date;
}

/**
 * The Idempotency-Key store in the shared database. Two nodes beginning the same key at once get
 * one 'new' between them: the claim is an insert on the key's primary key (the second waits for
 * the first to commit and then finds its row), and every later decision reads the row locked
 * (`FOR UPDATE`). Times are the callers' `now` (the nodes' clocks, as in the single-process
 * store); only the window edges and the takeover age depend on them, never the one-'new' rule.
 */
export class PgIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly pool: PgPool,
    /**
     * This node's process (one per start), as `<node id>/<random>` so that another node sees
     * when the node is gone; only its own claims are completed or abandoned by it.
     */
    private readonly owner: string = randomUUID(),
  ) {}

  begin(
    appId: string,
    key: string,
    body: unknown,
    now: Date,
    windowMs: number = IDEMPOTENCY_TTL_MS,
  ): Promise<IdempotencyStart> {
    const window = Math.min(windowMs, IDEMPOTENCY_TTL_MS);
    const hash = bodyHash(body);
    const at = now.toISOString();
    return inTransaction(this.pool, async (client) => {
      // A row deleted by `prune` between the insert and the read is gone: the next try inserts.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const inserted = await client.query(
          `INSERT INTO tidings_idempotency_keys
             (app_id, key, body_hash, state, owner, created_at, first_at)
           VALUES ($1, $2, $3, 'pending', $4, $5, $5)
           ON CONFLICT (app_id, key) DO NOTHING`,
          [appId, key, hash, this.owner, now],
        );
        if (inserted.rowCount === 1) return { kind: 'new', since: at };
        const row = (
          await client.query<KeyRow>(
            `SELECT owner, body_hash, state, status, response, created_at, first_at,
                    (SELECT n.expires_at > clock_timestamp() FROM tidings_lease_nodes n
                      WHERE n.node = split_part(k.owner, '/', 1)) AS owner_live
               FROM tidings_idempotency_keys k WHERE app_id = $1 AND key = $2 FOR UPDATE OF k`,
            [appId, key],
          )
        ).rows[0];
        if (row === undefined) continue;
        // The window runs from the key's first use; an older row is a fresh start.
        const fresh = now.getTime() - row.first_at.getTime() >= window;
        if (!fresh) {
          if (row.body_hash !== hash) return { kind: 'reused' };
          if (row.state === 'done') {
            return {
              kind: 'replay',
              status: row.status ?? 200,
              body: JSON.parse(row.response ?? 'null') as unknown,
            };
          }
          // A node that no longer shows itself live (its lease keeper's presence ran out: it
          // died) runs nothing: its claim is taken over at once, as on a single node.
          if (
            row.state === 'pending' &&
            row.owner_live !== false &&
            now.getTime() - row.created_at.getTime() < ABANDONED_AFTER_MS
          ) {
            return { kind: 'in_flight' };
          }
        }
        // Fresh, given up, or left by a request that died: claim it, keeping its first time
        // unless the window starts afresh.
        const since = fresh ? now : row.first_at;
        await client.query(
          `UPDATE tidings_idempotency_keys
              SET body_hash = $3, state = 'pending', status = NULL, response = NULL,
                  owner = $4, created_at = $5, first_at = $6
            WHERE app_id = $1 AND key = $2`,
          [appId, key, hash, this.owner, now, since],
        );
        return { kind: 'new', since: since.toISOString() };
      }
      throw new Error(`idempotency key ${key}: no stable row after 3 attempts`);
    });
  }

  async complete(appId: string, key: string, status: number, body: unknown): Promise<void> {
    // Only this store's claim: one taken over by another node is that node's to answer.
    await this.pool.query(
      `UPDATE tidings_idempotency_keys SET state = 'done', status = $3, response = $4
        WHERE app_id = $1 AND key = $2 AND state = 'pending' AND owner = $5`,
      [appId, key, status, JSON.stringify(body), this.owner],
    );
  }

  async abandon(appId: string, key: string): Promise<void> {
    // Only this store's claim: releasing another node's would let a third request run beside it.
    await this.pool.query(
      `UPDATE tidings_idempotency_keys SET state = 'abandoned', owner = NULL
        WHERE app_id = $1 AND key = $2 AND state = 'pending' AND owner = $3`,
      [appId, key, this.owner],
    );
  }

  async prune(now: Date): Promise<void> {
    await this.pool.query('DELETE FROM tidings_idempotency_keys WHERE created_at < $1', [
      new Date(now.getTime() - IDEMPOTENCY_TTL_MS),
    ]);
  }
}

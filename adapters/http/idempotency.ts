import { createHash, randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../sqlite/database.js';

/** How long an answer is kept for replay (API.md: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A request of this process still marked in progress after this long is taken to have failed
 * without cleaning up, and a retry may take over (its events are deduplicated by ids derived
 * from the key anyway). A claim of another process is taken over at once: only one process holds
 * the data folder (the data-folder lock), so that process is gone.
 */
const ABANDONED_AFTER_MS = 60 * 1000;

export type IdempotencyStart =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_flight' };

/** Stored answers of POST requests by (app, Idempotency-Key). */
export interface IdempotencyStore {
  /** Claims the key for this body, or says why not (replay the first answer, other body, in progress). */
  begin(appId: string, key: string, body: unknown, now: Date): IdempotencyStart;
  complete(appId: string, key: string, status: number, body: unknown): void;
  /** Forgets a claim whose request failed unexpectedly, so a retry can run. */
  abandon(appId: string, key: string): void;
  /** Deletes answers older than the TTL. */
  prune(now: Date): void;
}

interface KeyRow {
  readonly owner: string | null;
  readonly body_hash: string;
  readonly state: 'pending' | 'done';
  readonly status: number | null;
  readonly response: string | null;
  readonly created_at: string;
}

/** A stable hash of a JSON body (key order does not matter). */
export const bodyHash = (body: unknown): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  // JSON.stringify has no text for undefined (absent fields never reach here, but be total).
  return value === undefined ? 'null' : JSON.stringify(value);
};

export const sqliteIdempotencyStore = (
  db: SqliteDatabase,
  /** This server process (one per start). */
  owner: string = randomUUID(),
): IdempotencyStore => {
  const select = db.prepare<[string, string], KeyRow>(
    'SELECT owner, body_hash, state, status, response, created_at FROM idempotency_keys WHERE app_id = ? AND key = ?',
  );
  const claim = db.prepare<[string, string, string, string, string]>(
    `INSERT INTO idempotency_keys (app_id, key, body_hash, state, created_at, owner) VALUES (?, ?, ?, 'pending', ?, ?)
     ON CONFLICT (app_id, key) DO UPDATE SET body_hash = excluded.body_hash, state = 'pending', status = NULL,
       response = NULL, created_at = excluded.created_at, owner = excluded.owner`,
  );
  const complete = db.prepare<[number, string, string, string]>(
    "UPDATE idempotency_keys SET state = 'done', status = ?, response = ? WHERE app_id = ? AND key = ?",
  );
  const remove = db.prepare<[string, string]>(
    "DELETE FROM idempotency_keys WHERE app_id = ? AND key = ? AND state = 'pending'",
  );
  const prune = db.prepare<[string]>('DELETE FROM idempotency_keys WHERE created_at < ?');
  const begin = db.transaction(
    (appId: string, key: string, body: unknown, now: Date): IdempotencyStart => {
      const hash = bodyHash(body);
      const row = select.get(appId, key);
      const age = row === undefined ? Infinity : now.getTime() - Date.parse(row.created_at);
      if (row !== undefined && age < IDEMPOTENCY_TTL_MS) {
        if (row.body_hash !== hash) return { kind: 'reused' };
        if (row.state === 'done') {
          return {
            kind: 'replay',
            status: row.status ?? 200,
            body: JSON.parse(row.response ?? 'null') as unknown,
          };
        }
        if (age < ABANDONED_AFTER_MS && row.owner === owner) return { kind: 'in_flight' };
      }
      claim.run(appId, key, hash, now.toISOString(), owner);
      return { kind: 'new' };
    },
  );
  return {
    begin: (appId, key, body, now) => begin(appId, key, body, now),
    complete: (appId, key, status, body) => {
      complete.run(status, JSON.stringify(body), appId, key);
    },
    abandon: (appId, key) => {
      remove.run(appId, key);
    },
    prune: (now) => {
      prune.run(new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString());
    },
  };
};

import { createHash, randomUUID } from 'node:crypto';
import { isPromise, type MaybePromise } from '../../application/shared/maybePromise.js';
import type { LogFields, Logger } from '../../domain/shared/logger.js';
import type { SqliteDatabase } from '../sqlite/database.js';

/** How long an answer is kept for replay (docs/api.md: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A request of this process still marked in progress after this long is taken to have failed
 * without cleaning up, and a retry may take over (its events are deduplicated by ids derived
 * from the key anyway). A claim of another process is taken over at once: only one process holds
 * the data folder (the data-folder lock), so that process is gone.
 */
const ABANDONED_AFTER_MS = 60 * 1000;

export type IdempotencyStart =
  /**
   * Run the request. `since` is when the key was first claimed within its 24 h: now for a fresh
   * key, the first claim's time when a retry takes over a failed or abandoned claim, so whatever
   * the request derives from it (message ids, a delay's start) is the same in every attempt.
   */
  | { readonly kind: 'new'; readonly since: string }
  | { readonly kind: 'replay'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_flight' };

/**
 * Stored answers of POST requests by (app, Idempotency-Key). Each method answers at once when the
 * keys are in this process's database (SQLite), with a promise when they are in the database the
 * nodes share; callers await only a promise (see application/shared/maybePromise.ts).
 */
export interface IdempotencyStore {
  /**
   * Claims the key for this body, or says why not (replay the first answer, other body, in
   * progress). `windowMs` (at most the 24 h kept, the default) is how long after its first use the
   * key names the same request; a use after it starts afresh (the compatible ingress's repeats).
   */
  begin(
    appId: string,
    key: string,
    body: unknown,
    now: Date,
    windowMs?: number,
  ): MaybePromise<IdempotencyStart>;
  /** Keeps the answer of a claimed key, to be replayed to every retry with the same body. */
  complete(appId: string, key: string, status: number, body: unknown): MaybePromise<void>;
  /**
   * Releases a claim whose request failed or answered "try again", so a retry can run (and
   * keeps its first time, see `since`); nothing is replayed for it.
   */
  abandon(appId: string, key: string): MaybePromise<void>;
  /** Deletes answers older than the TTL. */
  prune(now: Date): MaybePromise<void>;
}

/**
 * Records a claimed request's outcome (`complete` or `abandon` of the store) so that a failure
 * to record goes no further than the log: the request's answer stands (an accepted message stays
 * accepted), and the claim, left pending, is taken over by a retry once it counts as abandoned.
 * The answer is a promise only when the store's is, and it never rejects.
 */
export const recordOutcome = (
  logger: Logger,
  fields: LogFields,
  write: () => MaybePromise<void>,
): MaybePromise<void> => {
  const failed = (error: unknown): void => {
    logger.error('could not record the outcome of an Idempotency-Key', { ...fields, error });
  };
  try {
    const written = write();
    return isPromise(written) ? written.catch(failed) : undefined;
  } catch (error) {
    failed(error);
    return undefined;
  }
};

interface KeyRow {
  readonly owner: string | null;
  readonly body_hash: string;
  /** `abandoned`: released by its request (failed, or answered "try again"); may be taken over. */
  readonly state: 'pending' | 'done' | 'abandoned';
  readonly status: number | null;
  readonly response: string | null;
  /** When this claim was made (the latest takeover's time). */
  readonly created_at: string;
  /** When the key was first claimed; null in rows written before this column existed. */
  readonly first_at: string | null;
}

/** A stable hash of a JSON body (key order does not matter). */
export const bodyHash = (body: unknown): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

/**
 * JSON with every object's members sorted by name. It walks the value with a list of work
 * instead of recursion: the batch route takes any JSON as its items, so a body nested 100,000
 * levels deep (well inside 1 MiB) reaches here and must not overflow the stack.
 */
const canonicalJson = (root: unknown): string => {
  const out: string[] = [];
  /** What is left to write, last first: a value, or text written as it is. */
  const work: ({ readonly value: unknown } | string)[] = [{ value: root }];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const { value } = item;
    if (Array.isArray(value)) {
      out.push('[');
      work.push(']');
      for (let index = value.length - 1; index >= 0; index -= 1) {
        work.push({ value: value[index] as unknown });
        if (index > 0) work.push(',');
      }
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      );
      out.push('{');
      work.push('}');
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [name, member] = entries[index] ?? ['', null];
        work.push({ value: member }, `${JSON.stringify(name)}:`);
        if (index > 0) work.push(',');
      }
    } else {
      // JSON.stringify has no text for undefined (absent fields never reach here, but be total).
      out.push(value === undefined ? 'null' : JSON.stringify(value));
    }
  }
  return out.join('');
};

const age = (time: string, now: Date): number => now.getTime() - Date.parse(time);

/** The embedded store's keys: the same port, answered at once (no promise). */
export interface SqliteIdempotencyStore extends IdempotencyStore {
  begin(appId: string, key: string, body: unknown, now: Date, windowMs?: number): IdempotencyStart;
  complete(appId: string, key: string, status: number, body: unknown): void;
  abandon(appId: string, key: string): void;
  prune(now: Date): void;
}

export const sqliteIdempotencyStore = (
  db: SqliteDatabase,
  /** This server process (one per start). */
  owner: string = randomUUID(),
): SqliteIdempotencyStore => {
  const select = db.prepare<[string, string], KeyRow>(
    'SELECT owner, body_hash, state, status, response, created_at, first_at FROM idempotency_keys WHERE app_id = ? AND key = ?',
  );
  const claim = db.prepare<[string, string, string, string, string, string]>(
    `INSERT INTO idempotency_keys (app_id, key, body_hash, state, created_at, owner, first_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)
     ON CONFLICT (app_id, key) DO UPDATE SET body_hash = excluded.body_hash, state = 'pending', status = NULL,
       response = NULL, created_at = excluded.created_at, owner = excluded.owner, first_at = excluded.first_at`,
  );
  const complete = db.prepare<[number, string, string, string]>(
    "UPDATE idempotency_keys SET state = 'done', status = ?, response = ? WHERE app_id = ? AND key = ?",
  );
  const release = db.prepare<[string, string]>(
    "UPDATE idempotency_keys SET state = 'abandoned', owner = NULL WHERE app_id = ? AND key = ? AND state = 'pending'",
  );
  const prune = db.prepare<[string]>('DELETE FROM idempotency_keys WHERE created_at < ?');
  const begin = db.transaction(
    (appId: string, key: string, body: unknown, now: Date, windowMs: number): IdempotencyStart => {
      const hash = bodyHash(body);
      const at = now.toISOString();
      const row = select.get(appId, key);
      const firstAt = row === undefined ? undefined : (row.first_at ?? row.created_at);
      // The window (24 h) runs from the key's first use; an older row is a fresh start.
      if (row !== undefined && firstAt !== undefined && age(firstAt, now) < windowMs) {
        if (row.body_hash !== hash) return { kind: 'reused' };
        if (row.state === 'done') {
          return {
            kind: 'replay',
            status: row.status ?? 200,
            body: JSON.parse(row.response ?? 'null') as unknown,
          };
        }
        if (
          row.state === 'pending' &&
          age(row.created_at, now) < ABANDONED_AFTER_MS &&
          row.owner === owner
        ) {
          return { kind: 'in_flight' };
        }
        // A claim given up, or left by a request that died: take it over, keeping its first time.
        claim.run(appId, key, hash, at, owner, firstAt);
        return { kind: 'new', since: firstAt };
      }
      claim.run(appId, key, hash, at, owner, at);
      return { kind: 'new', since: at };
    },
  );
  return {
    begin: (appId, key, body, now, windowMs = IDEMPOTENCY_TTL_MS) =>
      begin(appId, key, body, now, Math.min(windowMs, IDEMPOTENCY_TTL_MS)),
    complete: (appId, key, status, body) => {
      complete.run(status, JSON.stringify(body), appId, key);
    },
    abandon: (appId, key) => {
      release.run(appId, key);
    },
    prune: (now) => {
      prune.run(new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString());
    },
  };
};

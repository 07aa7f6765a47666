import type { ChainLink, ChainReport, Digest } from '../../domain/shared/hashChain.js';
import type { MaybePromise } from '../shared/maybePromise.js';

/**
 * The log as auditors read it (docs/audit.md): every event with its place in the hash chain. The
 * embedded store implements it (adapters/sqlite/auditLog.ts), answering at once; the shared
 * PostgreSQL log too (adapters/postgres/pgAuditLog.ts), answering promises. Callers `await` each
 * answer, and read `scan` with `for await`.
 */
export interface AuditLog {
  /** Events of the log matching `query`, oldest first, at most `query.limit`. */
  events(query: AuditQuery): MaybePromise<readonly AuditEvent[]>;
  /**
   * Every event matching `query` (no limit), oldest first, read a page at a time as it is
   * consumed (memory does not grow with the log).
   */
  scan(
    query: Omit<AuditQuery, 'limit' | 'before'>,
  ): Iterable<AuditEvent> | AsyncIterable<AuditEvent>;
  /**
   * Recomputes the chain from position `from` (the first event by default) to `to` (the head),
   * trusting the hash of the event before `from`; tells `onProgress` how many it checked so far.
   */
  verify(
    range: { readonly from?: number; readonly to?: number },
    onProgress?: (checked: number) => void,
  ): Promise<ChainReport>;
  /**
   * The positions from the first event that occurred at or after `since` to the last that
   * occurred at or before `until` (the whole log without them); undefined if there is none.
   */
  positionRange(times: {
    readonly since?: string;
    readonly until?: string;
  }): MaybePromise<{ readonly first: number; readonly last: number } | undefined>;
  /** The last event's position and hash; undefined while the log is empty. */
  head(): MaybePromise<{ readonly position: number; readonly hash: Digest } | undefined>;
  /** The hash at `position`, undefined if there is no such event. */
  hashAt(position: number): MaybePromise<Digest | undefined>;
}

export interface AuditQuery {
  /** Only events after this position. */
  readonly after?: number;
  /** Only events before this position: the page that ends just before it. */
  readonly before?: number;
  readonly limit: number;
  readonly types?: readonly string[];
  readonly stream?: string;
  /** Only events whose data names this message (`data.messageId`). */
  readonly messageId?: string;
  /** Only events that occurred at or after this time (ISO 8601). */
  readonly since?: string;
  /** Only events that occurred at or before this time (ISO 8601). */
  readonly until?: string;
}

/** One stored event with its chain fields; `data` and `metadata` are its JSON texts as stored. */
export interface AuditEvent extends ChainLink {
  readonly data: string;
  readonly metadata: string;
  readonly dataDigest: Digest;
  readonly hash: Digest;
  /** The hash of the event before it in the log (the genesis hash for the first). */
  readonly previousHash: Digest;
}

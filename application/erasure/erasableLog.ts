import type { MaybePromise } from '../shared/maybePromise.js';

/**
 * The log as erasure needs it (docs/audit.md, "Erasure"): finding a person's events and replacing
 * their stored data while the chain's digests stay. The embedded store implements it
 * (adapters/sqlite/dataErasure.ts), answering at once; the shared PostgreSQL log too
 * (adapters/postgres/pgErasableLog.ts), answering promises. Callers `await` each answer.
 * EventStoreDB, whose events cannot be rewritten, does not implement it.
 */
export interface ErasableLog {
  /** The streams holding an event of `type` whose data's `field` (top level) is `value`. */
  streamsWith(type: string, field: string, value: string): MaybePromise<readonly string[]>;
  /** The persons deleted so far: the recipient ids of every RecipientErased. */
  erasedRecipients(): MaybePromise<readonly string[]>;
  /**
   * The person a message or complaint stream is about: the recipient id of its MessageSubmitted
   * or ComplaintFiled, if it has one.
   */
  recipientOf(stream: string): MaybePromise<string | undefined>;
  /** The events of `types` in `streams`, in log order, with their data as stored. */
  eventsOf(
    streams: readonly string[],
    types: readonly string[],
  ): MaybePromise<readonly StoredData[]>;
  /**
   * Replaces the stored data of these events in one transaction (their digests stay), then wipes
   * the old bytes from the database's files as far as the database allows (docs/audit.md, "No
   * bytes left"): the embedded store's write-ahead log included, PostgreSQL's dead tuples pruned.
   */
  rewrite(
    changes: readonly { readonly position: number; readonly data: unknown }[],
  ): MaybePromise<void>;
}

/** One stored event's place and data. */
export interface StoredData {
  readonly position: number;
  readonly stream: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * What one node knows of the shared log's recent commits, from its own commits and the other
 * nodes' notices (`NOTIFY` carries each commit's range and event types): enough to tell a
 * subscription filtered by type that nothing of its types was written after its cursor, without a
 * query. Every commit wakes every subscription of every node, and most of them (a read model of
 * apps, of complaints) have nothing to read; this spares those reads.
 *
 * It is conservative by construction: `knownTo` only grows over commits all seen without a gap
 * (a notice may arrive after a later own commit), and only positions after the point where
 * listening began are covered; anything else is "unknown", and the caller queries.
 */
export class CommitNotices {
  /** Every commit up to here is known (0: nothing is). */
  private knownTo = 0;
  /** From here on notices are complete: listening started when the log's head was here. */
  private since: number | undefined;
  /** Commits beyond a gap, by the head before them: the head after them. */
  private readonly ahead = new Map<number, number>();
  /** The last position (an upper bound) at which each type was written. */
  private readonly lastWritten = new Map<string, number>();
  /** The last position of a commit whose types are unknown (a notice too long to list them). */
  private lastUnknown = 0;

  /** Counts the starts and ends of listening: a reader compares it before and after a wait. */
  private epochs = 0;

  /**
   * Which spell of listening this is: unchanged across a wait only when the connection stayed up
   * (notices were complete) all along.
   */
  get epoch(): number {
    return this.epochs;
  }

  /** Listening began (again) when the log's head was `head`: notices cover everything after it. */
  listening(head: number): void {
    this.epochs += 1;
    this.since = head;
    // Notices of commits after `head` may have arrived already: keep them, and join them on.
    this.knownTo = Math.max(this.knownTo, head);
    this.join();
  }

  /** Whether notices are being received (listening began and the connection is up). */
  get isListening(): boolean {
    return this.since !== undefined;
  }

  /** The listening connection is gone: notices may be missed until {@link listening} again. */
  deaf(): void {
    if (this.since !== undefined) this.epochs += 1;
    this.since = undefined;
  }

  /** A commit of positions `before`+1 … `after`, with its types (undefined: not listed). */
  committed(before: number, after: number, types: readonly string[] | undefined): void {
    if (types === undefined) this.lastUnknown = Math.max(this.lastUnknown, after);
    else
      for (const type of types)
        this.lastWritten.set(type, Math.max(this.lastWritten.get(type) ?? 0, after));
    if (before <= this.knownTo) this.knownTo = Math.max(this.knownTo, after);
    else this.ahead.set(before, Math.max(this.ahead.get(before) ?? 0, after));
    this.join();
    // A gap that never closes (a notice lost): stop trusting notices until listening again.
    if (this.ahead.size > MAX_AHEAD) {
      this.ahead.clear();
      this.deaf();
    }
  }

  /** Moves `knownTo` over the commits beyond it that now follow without a gap. */
  private join(): void {
    for (
      let next = this.ahead.get(this.knownTo);
      next !== undefined;
      next = this.ahead.get(this.knownTo)
    ) {
      this.ahead.delete(this.knownTo);
      this.knownTo = Math.max(this.knownTo, next);
    }
    let moved = false;
    for (const [before, after] of [...this.ahead]) {
      if (before >= this.knownTo) continue;
      this.ahead.delete(before);
      if (after > this.knownTo) {
        this.knownTo = after;
        moved = true;
      }
    }
    if (moved) this.join();
  }

  /**
   * How far a reader of `types` after `after` may move on without a query (nothing of its types
   * lies between), or undefined when that is not known.
   */
  quietTo(after: number, types: readonly string[]): number | undefined {
    if (this.since === undefined || after < this.since || after >= this.knownTo) return undefined;
    if (this.lastUnknown > after) return undefined;
    for (const type of types) if ((this.lastWritten.get(type) ?? 0) > after) return undefined;
    return this.knownTo;
  }
}

/** Commits kept beyond a gap at most. */
const MAX_AHEAD = 10_000;

/** Longest notice payload sent with its types listed (PostgreSQL allows 8,000 bytes). */
const MAX_PAYLOAD = 7_000;

/** A commit's notice: `[before, after, types]`, or `[before, after, null]` when too long. */
export const noticeOf = (before: number, after: number, types: readonly string[]): string => {
  const listed = JSON.stringify([before, after, types]);
  return listed.length <= MAX_PAYLOAD ? listed : JSON.stringify([before, after, null]);
};

/** Reads a notice; undefined when it is not one. */
export const parseNotice = (
  payload: string | undefined,
): { before: number; after: number; types: readonly string[] | undefined } | undefined => {
  try {
    const value = JSON.parse(payload ?? '') as unknown;
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [before, after, types] = value as [unknown, unknown, unknown];
    if (typeof before !== 'number' || typeof after !== 'number') return undefined;
    if (types === null) return { before, after, types: undefined };
    if (!Array.isArray(types) || !types.every((type) => typeof type === 'string')) return undefined;
    return { before, after, types };
  } catch {
    return undefined;
  }
};

/**
 * The notice a rewrite of stored events sends (an erasure, adapters/postgres/pgErasableLog.ts),
 * in the rewrite's own transaction: it arrives once the new data is what a read gets. Not a
 * commit's notice ({@link parseNotice} reads it as none).
 */
export const REWRITE_NOTICE = 'rewritten';

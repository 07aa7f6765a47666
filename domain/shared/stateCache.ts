/**
 * Folded aggregate states by stream, each with the revision it was folded to, so a command on a
 * stream that was just written (a message moving through the pipeline, a busy binding) need not
 * read, decode and fold its whole history again. Bounded: the least recently used streams are
 * dropped.
 *
 * An entry is never trusted blindly: `loadAggregate` reads the stream after the cached revision
 * and folds whatever another writer added, so a cached state always answers as the store does.
 * States are immutable (deciders' `evolve` returns new states), so sharing them is safe.
 *
 * Each entry also remembers the event ids of the stream's latest revisions (at most
 * `idsPerStream` of them, as 32-bit fingerprints), so the command handler can tell that a command
 * was applied already without reading the stream: see {@link StateCache.findId}.
 */
export interface CachedState<State> {
  readonly revision: number;
  readonly state: State;
}

/**
 * What the cache remembers of one event id in one stream. The cache keeps fingerprints, not the
 * ids themselves (4 bytes an event instead of a 36-character string), so a candidate is only a
 * maybe: read it to be sure. A fingerprint never misses an id it was made from, so when there is
 * no candidate, the id is not at any revision from `knownFrom` to `revision`.
 */
export interface IdLookup {
  /** Revisions whose event id may be the one looked up, oldest first. */
  readonly candidates: readonly number[];
  /** The first revision whose id is remembered; 0 when every id up to `revision` is. */
  readonly knownFrom: number;
  /** The cached revision: ids after it are not known. */
  readonly revision: number;
}

/**
 * The fingerprints of a stream's ids from revision `from` on, one per revision without gaps, up to
 * the entry's revision (`from + prints.length === revision + 1`).
 */
interface RecentIds {
  from: number;
  prints: number[];
}

/** An entry of the recency list: least recently used at the head, most recent at the tail. */
interface Node {
  readonly stream: string;
  entry: CachedState<unknown>;
  ids: RecentIds;
  newer: Node | undefined;
  older: Node | undefined;
}

export class StateCache {
  /**
   * A map to list nodes plus the list itself: every operation is O(1), and the map is never
   * iterated (a Map whose oldest keys are deleted over and over slows down iteration from its
   * start, which a Map-order LRU would do at every eviction).
   */
  private readonly nodes = new Map<string, Node>();
  private oldest: Node | undefined;
  private newest: Node | undefined;
  private hits = 0;
  private misses = 0;
  private generationCount = 0;

  /** Counts every `delete` and `clear`: a load notes it before reading (see `set`'s `asOf`). */
  get generation(): number {
    return this.generationCount;
  }

  /**
   * @param capacity streams held at most.
   * @param idsPerStream event ids remembered per stream, the latest ones: a stream at most this
   *   long is answered from memory alone; in a longer one a command the cache does not recognise
   *   makes the handler read the older revisions to be sure.
   */
  constructor(
    readonly capacity = 20_000,
    readonly idsPerStream = 256,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`state cache capacity must be a positive integer, got ${capacity}`);
    }
    if (!Number.isInteger(idsPerStream) || idsPerStream < 1) {
      throw new RangeError(
        `state cache ids per stream must be a positive integer, got ${idsPerStream}`,
      );
    }
  }

  /** The cached state of `stream` (marked as recently used), if any. */
  get<State>(stream: string): CachedState<State> | undefined {
    const node = this.nodes.get(stream);
    if (node === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.touch(node);
    return node.entry as CachedState<State>;
  }

  /**
   * Records `state` at `revision`, unless a later revision of the stream is already cached.
   * `ids` are the ids of the events that lead to `revision` (the last of them is the event at
   * `revision`): the whole stream's after a read from its start, the appended ones after an
   * append. Ids that do not join up with those already remembered replace them, so what is
   * remembered is always an unbroken run of revisions ending at the cached one.
   */
  set(
    stream: string,
    revision: number,
    state: unknown,
    ids: readonly string[] = [],
    /**
     * The {@link generation} the state was folded under: a state read before a `delete` or a
     * `clear` may hold what those were for (data an erasure rewrote since), so it is not kept.
     */
    asOf?: number,
  ): void {
    if (asOf !== undefined && asOf !== this.generation) return;
    const existing = this.nodes.get(stream);
    if (existing !== undefined) {
      if (existing.entry.revision > revision) return;
      existing.entry = { revision, state };
      existing.ids = this.joined(existing.ids, revision, ids);
      this.touch(existing);
      return;
    }
    const node: Node = {
      stream,
      entry: { revision, state },
      ids: this.joined(undefined, revision, ids),
      newer: undefined,
      older: this.newest,
    };
    if (this.newest === undefined) this.oldest = node;
    else this.newest.newer = node;
    this.newest = node;
    this.nodes.set(stream, node);
    if (this.nodes.size > this.capacity && this.oldest !== undefined) this.remove(this.oldest);
  }

  /**
   * Where event `id` may be in `stream`, as far as the cache remembers; undefined when the stream
   * is not cached. Does not count as a use of the entry.
   */
  findId(stream: string, id: string): IdLookup | undefined {
    const node = this.nodes.get(stream);
    if (node === undefined) return undefined;
    const print = fingerprint(id);
    const { from, prints } = node.ids;
    const candidates: number[] = [];
    for (let index = 0; index < prints.length; index += 1) {
      if (prints[index] === print) candidates.push(from + index);
    }
    return { candidates, knownFrom: from, revision: node.entry.revision };
  }

  /** Forgets `stream` (its stored history is the only truth again). */
  delete(stream: string): void {
    this.generationCount += 1;
    const node = this.nodes.get(stream);
    if (node !== undefined) this.remove(node);
  }

  /**
   * Forgets every stream: for a node that learns that another rewrote stored events (an erasure
   * on a shared log, docs/audit.md) without learning which streams they are in.
   */
  clear(): void {
    this.generationCount += 1;
    this.nodes.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  get stats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.nodes.size, hits: this.hits, misses: this.misses };
  }

  /**
   * The ids remembered at `revision`: `ids` (the events up to it) after those of `known` when they
   * join up (or overlap: a revision's event never changes), else `ids` alone; the latest
   * `idsPerStream` of them.
   */
  private joined(
    known: RecentIds | undefined,
    revision: number,
    ids: readonly string[],
  ): RecentIds {
    const kept = ids.length > this.idsPerStream ? ids.slice(ids.length - this.idsPerStream) : ids;
    const start = revision - kept.length + 1;
    const fresh = kept.map(fingerprint);
    if (known === undefined || start <= known.from || start > known.from + known.prints.length) {
      return { from: start, prints: fresh };
    }
    // In place: an entry's ids are its own, and this runs at every cached append.
    known.prints.length = start - known.from;
    known.prints.push(...fresh);
    const excess = known.prints.length - this.idsPerStream;
    if (excess > 0) {
      known.prints.splice(0, excess);
      known.from += excess;
    }
    return known;
  }

  /** Moves `node` to the most recent end. */
  private touch(node: Node): void {
    if (node === this.newest) return;
    this.unlink(node);
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest === undefined) this.oldest = node;
    else this.newest.newer = node;
    this.newest = node;
  }

  private remove(node: Node): void {
    this.unlink(node);
    this.nodes.delete(node.stream);
  }

  private unlink(node: Node): void {
    if (node.older === undefined) this.oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.newest = node.older;
    else node.newer.older = node.older;
    node.newer = undefined;
    node.older = undefined;
  }
}

/**
 * FNV-1a, 32 bits: cheap, and spread well enough that two ids of one stream's latest revisions
 * rarely share a fingerprint (a shared one costs a read, never a wrong answer).
 */
const fingerprint = (id: string): number => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index += 1) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

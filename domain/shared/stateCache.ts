/**
 * Folded aggregate states by stream, each with the revision it was folded to, so a command on a
 * stream that was just written (a message moving through the pipeline, a busy binding) need not
 * read, decode and fold its whole history again. Bounded: the least recently used streams are
 * dropped.
 *
 * An entry is never trusted blindly: `loadAggregate` reads the stream after the cached revision
 * and folds whatever another writer added, so a cached state always answers as the store does.
 * States are immutable (deciders' `evolve` returns new states), so sharing them is safe.
 */
export interface CachedState<State> {
  readonly revision: number;
  readonly state: State;
}

/** An entry of the recency list: least recently used at the head, most recent at the tail. */
interface Node {
  readonly stream: string;
  entry: CachedState<unknown>;
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

  constructor(readonly capacity = 20_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`state cache capacity must be a positive integer, got ${capacity}`);
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

  /** Records `state` at `revision`, unless a later revision of the stream is already cached. */
  set(stream: string, revision: number, state: unknown): void {
    const existing = this.nodes.get(stream);
    if (existing !== undefined) {
      if (existing.entry.revision > revision) return;
      existing.entry = { revision, state };
      this.touch(existing);
      return;
    }
    const node: Node = { stream, entry: { revision, state }, newer: undefined, older: this.newest };
    if (this.newest === undefined) this.oldest = node;
    else this.newest.newer = node;
    this.newest = node;
    this.nodes.set(stream, node);
    if (this.nodes.size > this.capacity && this.oldest !== undefined) this.remove(this.oldest);
  }

  /** Forgets `stream` (its stored history is the only truth again). */
  delete(stream: string): void {
    const node = this.nodes.get(stream);
    if (node !== undefined) this.remove(node);
  }

  get stats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.nodes.size, hits: this.hits, misses: this.misses };
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

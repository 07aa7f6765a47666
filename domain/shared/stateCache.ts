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

export class StateCache {
  private readonly entries = new Map<string, CachedState<unknown>>();
  private hits = 0;
  private misses = 0;

  constructor(readonly capacity = 20_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`state cache capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** The cached state of `stream` (marked as recently used), if any. */
  get<State>(stream: string): CachedState<State> | undefined {
    const entry = this.entries.get(stream);
    if (entry === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.entries.delete(stream);
    this.entries.set(stream, entry);
    return entry as CachedState<State>;
  }

  /** Records `state` at `revision`, unless a later revision of the stream is already cached. */
  set(stream: string, revision: number, state: unknown): void {
    const existing = this.entries.get(stream);
    if (existing !== undefined) {
      if (existing.revision > revision) return;
      this.entries.delete(stream);
    }
    this.entries.set(stream, { revision, state });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Forgets `stream` (its stored history is the only truth again). */
  delete(stream: string): void {
    this.entries.delete(stream);
  }

  get stats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.entries.size, hits: this.hits, misses: this.misses };
  }
}

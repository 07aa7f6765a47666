/**
 * Runs asynchronous work one at a time per key, in the order it was asked for, and work under
 * different keys concurrently. The command buses use it per stream: two commands of this process
 * on one aggregate (a message's three device attempts finishing at once) then decide one after the
 * other on the state the first one left in the cache, instead of both reading the same revision and
 * the second one losing the append, re-reading the whole stream and trying again.
 */
export class KeyedSerializer {
  /** The last work queued per key; removed once it settles and nothing queued behind it. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier work of `key` has settled (whether it failed or not). */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? work() : previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}

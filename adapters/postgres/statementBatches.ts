/** One item waiting for the next statement of a {@link StatementBatches}, with its answer. */
interface Waiting<Item, Answer> {
  readonly item: Item;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: unknown) => void;
}

/** PostgreSQL's "deadlock detected": the statement was rolled back and may simply be run again. */
const DEADLOCK = '40P01';
const DEADLOCK_RETRIES = 3;

/**
 * Runs many small requests of one kind (a claim, a completion) as few statements: a request that
 * comes while none is in flight is sent at once (after the current tick, so that those made in the
 * same tick go together), and those that come meanwhile wait and go together in the next one. The
 * group commit of the log does the same with appends. At low load nothing waits; under load one
 * round trip serves a whole group.
 *
 * Items whose `keyOf` is already in the group wait for the next one, so a statement never touches
 * one row twice (an upsert cannot), and two requests for one key are decided in order; with
 * `sameKey: 'together'` they go in the same group instead (in the order they came), for a `run`
 * that decides them together (the takes of one token bucket).
 *
 * The price: one statement of a kind is in flight at a time per process, so a slow one (a row
 * lock held elsewhere, up to the pool's query timeout) delays the others of its kind; and a
 * statement that fails fails every request of its group (each caller hears the error and may
 * retry). A deadlock with another node's statement is run again, up to three times.
 */
export class StatementBatches<Item, Answer> {
  private waiting: Waiting<Item, Answer>[] = [];
  private running = false;

  constructor(
    /**
     * Runs one statement for `items` (sorted by key; distinct keys unless `sameKey` is
     * `together`); one answer per item, in order.
     */
    private readonly run: (items: readonly Item[]) => Promise<readonly Answer[]>,
    private readonly keyOf: (item: Item) => string,
    private readonly sameKey: 'next-group' | 'together' = 'next-group',
    private readonly maxItems = 500,
  ) {}

  submit(item: Item): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.takeGroup();
        try {
          const answers = await this.runRetryingDeadlocks(group.map((waiting) => waiting.item));
          group.forEach((waiting, index) => {
            const answer = answers[index];
            if (answer === undefined)
              waiting.reject(new Error('a batched statement lost its answer'));
            else waiting.resolve(answer);
          });
        } catch (error) {
          for (const waiting of group) waiting.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * The next group: at most `maxItems`, one per key (later ones for a key stay, in order), sorted
   * by key so that every node locks rows in one order.
   */
  private takeGroup(): Waiting<Item, Answer>[] {
    const group: Waiting<Item, Answer>[] = [];
    const keys = new Set<string>();
    const left: Waiting<Item, Answer>[] = [];
    for (const waiting of this.waiting) {
      const key = this.keyOf(waiting.item);
      if (group.length < this.maxItems && (this.sameKey === 'together' || !keys.has(key))) {
        keys.add(key);
        group.push(waiting);
      } else left.push(waiting);
    }
    this.waiting = left;
    return group.sort((a, b) => {
      const keyA = this.keyOf(a.item);
      const keyB = this.keyOf(b.item);
      return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
    });
  }

  private async runRetryingDeadlocks(items: readonly Item[]): Promise<readonly Answer[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.run(items);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (code !== DEADLOCK || attempt >= DEADLOCK_RETRIES) throw error;
      }
    }
  }
}

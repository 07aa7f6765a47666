/**
 * Claims that spread side-effect work over the nodes of a deployment (README "Running several
 * nodes"): before a node sends a delivery or a callback attempt, it claims the attempt; a claim
 * another node holds, or an attempt already made, is refused, so each attempt is made by one node
 * at a time. A claim whose node died runs out after its hold and can be taken over; the channel
 * then sees the attempt again, with the same notification id. A single node needs none.
 */
export interface AttemptClaims {
  /** True when this node may make the attempt `key` now. */
  claim(key: string): Promise<boolean>;
  /** The attempt `key` is recorded: no node makes it again. */
  done(key: string): Promise<void>;
  /** How long a claim stays with its node, in ms: a refused key is not asked again before then. */
  readonly holdMs: number;
}

/** Keys refused by {@link AttemptClaims}, each until its hold may have run out. */
export class RefusedClaims {
  private readonly until = new Map<string, number>();

  constructor(private readonly holdMs: number) {}

  /** Whether `key` was refused and its holder may still hold it. */
  has(key: string, now = performance.now()): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string, now = performance.now()): void {
    this.until.delete(key);
    this.until.set(key, now + this.holdMs);
    // Bounded: forget what ran out (a Map iterates oldest first).
    for (const [old, at] of this.until) {
      if (at > now || this.until.size <= 10_000) break;
      this.until.delete(old);
    }
  }
}

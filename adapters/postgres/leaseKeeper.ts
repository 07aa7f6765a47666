import type { LeaseAcquisition, PgLeases } from './leases.js';

/** How a {@link LeaseKeeper} runs. */
export interface LeaseKeeperOptions {
  readonly leases: PgLeases;
  /** The leases to keep, e.g. one per reactor. */
  readonly names: readonly string[];
  /** This node's id, unique among the nodes sharing the database (one per process start). */
  readonly node: string;
  /** How long a lease lasts after each renewal, in ms; default 6,000. */
  readonly ttlMs?: number;
  /** How often held leases are renewed and free ones tried, in ms; default 2,000. */
  readonly renewIntervalMs?: number;
  /**
   * How long before the ttl runs out the node gives a lease up locally, in ms: the time its
   * `onLost` has to stop the work before another node may start it. Default ttl / 6 (1 s).
   */
  readonly safetyMarginMs?: number;
  /** How long one database call may take before it counts as failed, in ms; default the interval. */
  readonly requestTimeoutMs?: number;
  /**
   * Take only this node's share of the leases (the names over the live nodes, rounded up), and
   * hand surplus ones over, one a round, when more nodes are live; default true.
   */
  readonly fairShare?: boolean;
  /** Start the work of `name`, resuming from `checkpoint` (what its last holder saved). */
  readonly onAcquired?: (name: string, checkpoint: string | undefined) => Promise<void> | void;
  /** Stop the work of `name` now, promptly (within the safety margin). */
  readonly onLost?: (name: string) => Promise<void> | void;
  /** A failed database call or callback; the keeper carries on. Default: ignored. */
  readonly onError?: (error: Error, during: string) => void;
  /** A monotonic clock in ms; default `performance.now`. */
  readonly monotonicNow?: () => number;
}

/** One lease for `/readyz`: who holds it in the database, and whether this node works on it. */
export interface LeaseStatus {
  readonly name: string;
  /** Null when free (never taken, released or expired). */
  readonly holder: string | null;
  readonly expiresAt: Date | null;
  /** Whether this node holds it and works on it (its `onAcquired` ran, its `onLost` did not). */
  readonly heldByMe: boolean;
}

/**
 * `held`: ours, renewed each round. `releasing`: being handed over (its `onLost` runs, then the
 * release), still renewed so that a slow `onLost` does not let the lease lapse under the work.
 */
type LeaseState = 'free' | 'held' | 'releasing';

interface LocalLease {
  state: LeaseState;
  /** Bumped on each acquisition and each return to free: answers of an older one are ignored. */
  generation: number;
  /** The node's monotonic time after which it no longer counts on holding the lease. */
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  /** Reported by the owner and not yet saved; sent with the next renewal or the release. */
  checkpoint: string | undefined;
  /** The lease's callbacks, in order: `onAcquired`, `onLost`, `onAcquired`, … */
  callbacks: Promise<void>;
}

const DEFAULT_TTL_MS = 6_000;
const DEFAULT_RENEW_INTERVAL_MS = 2_000;

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

/** A start position in the names for a node, so that nodes starting together try different ones first. */
const offsetOf = (node: string, count: number): number => {
  let hash = 0;
  for (const char of node) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return count === 0 ? 0 : hash % count;
};

/**
 * Keeps one node's processor leases, so that each processor runs on exactly one node at a time
 * and moves to a live node soon after its holder dies (within ttl + interval: 8 s by default).
 *
 * **Safety.** Each round the keeper renews what it holds. A lease counts as held until
 * `deadline` = (the moment the last successful renewal was *sent*) + ttl − safety margin, on the
 * node's monotonic clock. The database set the expiry to its clock + ttl when the statement ran,
 * which is after it was sent, so the node's deadline comes first whatever the network delay, and
 * a timer calls `onLost` at it even if every database call hangs. A renewal that fails (the
 * database unreachable, a timeout) counts as not renewed: the deadline stands, and the next round
 * tries again. A renewal answered "not yours" loses the lease at once. Another node takes the
 * lease only after the database's expiry, so two nodes never both think they hold it, as long as
 * `onLost` stops the work within the margin.
 *
 * **Callbacks.** Per lease they alternate `onAcquired`, `onLost` (also after an `onAcquired` that
 * threw, which hands the lease back), each awaited before the next. `onAcquired` should start the
 * work and return; it does not hold up the renewals.
 *
 * **Checkpoints.** The owner reports progress with {@link setCheckpoint}; it is saved with the
 * next renewal, or with the release of a hand-over ({@link stop}, or a surplus lease given to
 * another node), where one reported during `onLost` still counts. The
 * next holder gets the last saved one in `onAcquired`. A lease lost to a failed renewal loses the
 * unsaved report: the next holder resumes from the one before, so the work since runs again.
 *
 * **Spreading.** Each keeper records its presence in `tidings_lease_nodes` every round (for
 * ttl − margin, so a dead node's presence ends before its leases do) and takes free leases only up
 * to its share, ⌈names / live nodes⌉; a node holding more than its share (another node started)
 * hands the surplus over, one lease a round, the one last in its order. Nodes start their tries
 * at different names. With `fairShare: false` a node takes every free lease.
 */
export class LeaseKeeper {
  private readonly leases: PgLeases;
  private readonly names: readonly string[];
  private readonly node: string;
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly marginMs: number;
  private readonly requestTimeoutMs: number;
  private readonly fairShare: boolean;
  private readonly now: () => number;
  private readonly onAcquired: (
    name: string,
    checkpoint: string | undefined,
  ) => Promise<void> | void;
  private readonly onLost: (name: string) => Promise<void> | void;
  private readonly onError: (error: Error, during: string) => void;
  /** The names in this node's order of preference. */
  private readonly order: readonly string[];
  private readonly local = new Map<string, LocalLease>();
  private started = false;
  /** Set by {@link stop}: no more acquisitions; renewals go on until everything is handed over. */
  private stopping = false;
  /** The round loop has ended (stopped or halted). */
  private ended = false;
  /** Set by {@link halt}: behave as a node that died, writing nothing more. */
  private halted = false;
  private roundTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.leases = options.leases;
    this.names = [...options.names];
    this.node = options.node;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.intervalMs = options.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS;
    this.marginMs = options.safetyMarginMs ?? this.ttlMs / 6;
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.intervalMs;
    this.fairShare = options.fairShare ?? true;
    this.now = options.monotonicNow ?? (() => performance.now());
    this.onAcquired = options.onAcquired ?? (() => undefined);
    this.onLost = options.onLost ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
    if (new Set(this.names).size !== this.names.length) throw new Error('lease names repeat');
    if (!(this.intervalMs > 0 && this.marginMs >= 0 && this.requestTimeoutMs > 0)) {
      throw new Error(
        'lease interval and request timeout must be positive, the margin not negative',
      );
    }
    // At least one renewal must be due before the node would give the lease up.
    if (this.intervalMs >= this.ttlMs - this.marginMs) {
      throw new Error(
        `lease renew interval ${this.intervalMs} ms must be shorter than ttl − margin (${this.ttlMs - this.marginMs} ms)`,
      );
    }
    const offset = offsetOf(this.node, this.names.length);
    this.order = [...this.names.slice(offset), ...this.names.slice(0, offset)];
    for (const name of this.names) {
      this.local.set(name, {
        state: 'free',
        generation: 0,
        deadline: 0,
        timer: undefined,
        checkpoint: undefined,
        callbacks: Promise.resolve(),
      });
    }
  }

  /** Runs the first round (and the callbacks it started), then keeps going every interval. */
  async start(): Promise<void> {
    if (this.started) throw new Error('lease keeper started twice');
    this.started = true;
    await this.runRound();
    await this.callbacksDone();
  }

  /** The leases this node holds and works on now. */
  held(): readonly string[] {
    return this.names.filter((name) => this.lease(name).state === 'held');
  }

  /**
   * Reports how far the work of a held lease got; saved with the next renewal (or the release).
   * False when this node does not hold `name`.
   */
  setCheckpoint(name: string, checkpoint: string): boolean {
    const lease = this.local.get(name);
    if (lease === undefined || lease.state === 'free') return false;
    lease.checkpoint = checkpoint;
    return true;
  }

  /** The leases as the database has them, with whether this node works on each; for `/readyz`. */
  async snapshot(): Promise<readonly LeaseStatus[]> {
    const rows = new Map((await this.timed(this.leases.list())).map((row) => [row.name, row]));
    return this.names.map((name) => {
      const row = rows.get(name);
      return {
        name,
        holder: row?.holder ?? null,
        expiresAt: row?.expiresAt ?? null,
        heldByMe: this.lease(name).state === 'held',
      };
    });
  }

  /**
   * Hands every lease over: calls `onLost`, then releases it with its checkpoint, so another node
   * takes it at once; renewals go on meanwhile. Then leaves the live nodes.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  /**
   * Stops at once as a node that died would: no more renewals, releases or callbacks, and the
   * leases lapse at their expiry. For tests of failover, and for a process that must exit now.
   */
  halt(): void {
    this.halted = true;
    this.ended = true;
    clearTimeout(this.roundTimer);
    for (const lease of this.local.values()) {
      clearTimeout(lease.timer);
      lease.state = 'free';
      lease.generation += 1;
    }
  }

  private async stopNow(): Promise<void> {
    this.stopping = true;
    await this.round;
    await Promise.all(
      this.names.map((name) =>
        this.lease(name).state === 'held' ? this.handOver(name) : Promise.resolve(),
      ),
    );
    await this.callbacksDone();
    this.ended = true;
    clearTimeout(this.roundTimer);
    await this.round;
    if (this.halted) return;
    try {
      await this.timed(this.leases.leave(this.node));
    } catch (error) {
      this.onError(asError(error), 'leave the live nodes');
    }
  }

  private lease(name: string): LocalLease {
    const lease = this.local.get(name);
    if (lease === undefined) throw new Error(`not a lease of this keeper: ${name}`);
    return lease;
  }

  private async runRound(): Promise<void> {
    const startedAt = this.now();
    this.round = this.playRound().catch((error: unknown) => {
      this.onError(asError(error), 'lease round');
    });
    await this.round;
    if (this.ended) return;
    const wait = Math.max(0, this.intervalMs - (this.now() - startedAt));
    this.roundTimer = setTimeout(() => void this.runRound(), wait);
  }

  private async playRound(): Promise<void> {
    const renewals = this.names
      .filter((name) => this.lease(name).state !== 'free')
      .map((name) => this.renewOne(name));
    if (this.stopping) {
      await Promise.all(renewals);
      return;
    }
    const [live] = await Promise.all([this.countLive(), ...renewals]);
    if (live === undefined || this.windingDown()) return;
    const share = this.fairShare ? Math.ceil(this.names.length / live) : this.names.length;
    const mine = this.order.filter((name) => this.lease(name).state === 'held');
    const surplus = mine[mine.length - 1];
    if (mine.length > share && surplus !== undefined) {
      await this.handOver(surplus);
      return;
    }
    let holding = mine.length;
    for (const name of this.order) {
      if (holding >= share || this.windingDown()) return;
      if (this.lease(name).state !== 'free') continue;
      if (await this.acquireOne(name)) holding += 1;
    }
  }

  /** Stopping or ended: no more acquisitions (read after awaits, which may have changed it). */
  private windingDown(): boolean {
    return this.stopping || this.ended;
  }

  /** Records this node as live and answers how many are; undefined when the database fails. */
  private async countLive(): Promise<number | undefined> {
    try {
      return await this.timed(this.leases.heartbeat(this.node, this.ttlMs - this.marginMs));
    } catch (error) {
      this.onError(asError(error), 'heartbeat');
      return undefined;
    }
  }

  private async renewOne(name: string): Promise<void> {
    const lease = this.lease(name);
    const { generation, checkpoint } = lease;
    const sentAt = this.now();
    let renewed: boolean;
    try {
      renewed = await this.timed(this.leases.renew(name, this.node, this.ttlMs, checkpoint));
    } catch (error) {
      // Not renewed: the deadline of the last renewal stands, and the next round tries again.
      this.onError(asError(error), `renew lease ${name}`);
      return;
    }
    if (this.halted || lease.generation !== generation || lease.state === 'free') return;
    if (!renewed) {
      // Taken by another node after an expiry: the work must stop now.
      if (lease.state === 'held') this.lose(name);
      return;
    }
    if (lease.checkpoint === checkpoint) lease.checkpoint = undefined;
    this.extend(name, sentAt);
  }

  /** Tries to take a free lease; true when this node holds it now. */
  private async acquireOne(name: string): Promise<boolean> {
    const lease = this.lease(name);
    const sentAt = this.now();
    let answer: LeaseAcquisition;
    try {
      answer = await this.timed(this.leases.tryAcquire(name, this.node, this.ttlMs));
    } catch (error) {
      this.onError(asError(error), `acquire lease ${name}`);
      return false;
    }
    if (this.halted || !answer.held || lease.state !== 'free') return false;
    if (this.stopping) {
      await this.release(name, undefined);
      return false;
    }
    // An answer that came after the deadline it would give is no lease: the next round asks again.
    if (this.now() >= sentAt + this.ttlMs - this.marginMs) return false;
    lease.state = 'held';
    lease.generation += 1;
    lease.checkpoint = undefined;
    this.extend(name, sentAt);
    const { checkpoint } = answer;
    const generation = lease.generation;
    void this.enqueue(name, `onAcquired ${name}`, async () => {
      try {
        await this.onAcquired(name, checkpoint);
      } catch (error) {
        this.onError(asError(error), `onAcquired ${name}`);
        if (lease.generation === generation && lease.state === 'held') void this.handOver(name);
      }
    });
    return true;
  }

  /** Moves the deadline to `sentAt` + ttl − margin, and loses the lease when that is past. */
  private extend(name: string, sentAt: number): void {
    const lease = this.lease(name);
    lease.deadline = Math.max(lease.deadline, sentAt + this.ttlMs - this.marginMs);
    this.armDeadline(name);
  }

  /**
   * Loses the lease at its deadline. Timers may fire a fraction of a millisecond early by the
   * monotonic clock, so an early one waits the rest.
   */
  private armDeadline(name: string): void {
    const lease = this.lease(name);
    clearTimeout(lease.timer);
    lease.timer = undefined;
    if (this.halted || lease.state !== 'held') return;
    const left = lease.deadline - this.now();
    if (left <= 0) {
      this.lose(name);
      return;
    }
    lease.timer = setTimeout(() => {
      this.armDeadline(name);
    }, Math.ceil(left));
  }

  /** The lease is not ours any more (or may not be): stop the work, without a release. */
  private lose(name: string): void {
    const lease = this.lease(name);
    lease.state = 'free';
    lease.generation += 1;
    lease.checkpoint = undefined;
    clearTimeout(lease.timer);
    void this.enqueue(name, `onLost ${name}`, () => this.onLost(name));
  }

  /** Stops the work of a held lease (awaiting `onLost`), then releases it with its checkpoint. */
  private async handOver(name: string): Promise<void> {
    const lease = this.lease(name);
    if (lease.state !== 'held') return;
    lease.state = 'releasing';
    await this.enqueue(name, `onLost ${name}`, () => this.onLost(name));
    if (this.halted) return;
    clearTimeout(lease.timer);
    await this.release(name, lease.checkpoint);
    lease.state = 'free';
    lease.generation += 1;
    lease.checkpoint = undefined;
  }

  private async release(name: string, checkpoint: string | undefined): Promise<void> {
    try {
      await this.timed(this.leases.release(name, this.node, checkpoint));
    } catch (error) {
      // The lease lapses at its expiry instead.
      this.onError(asError(error), `release lease ${name}`);
    }
  }

  /** Runs `callback` after the lease's earlier callbacks; resolves when it has run. */
  private enqueue(
    name: string,
    during: string,
    callback: () => Promise<void> | void,
  ): Promise<void> {
    const lease = this.lease(name);
    lease.callbacks = lease.callbacks.then(async () => {
      try {
        await callback();
      } catch (error) {
        this.onError(asError(error), during);
      }
    });
    return lease.callbacks;
  }

  /** Waits until no lease has a callback running or queued (callbacks may queue more). */
  private async callbacksDone(): Promise<void> {
    for (;;) {
      const chains = this.names.map((name) => this.lease(name).callbacks);
      await Promise.all(chains);
      if (this.names.every((name, index) => this.lease(name).callbacks === chains[index])) return;
    }
  }

  /** A database call that counts as failed after the request timeout (its late answer is ignored). */
  private async timed<T>(call: Promise<T>): Promise<T> {
    call.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`database call timed out after ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

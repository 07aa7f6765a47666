import type { WalSync } from './database.js';
import { settle, type Committed } from './groupCommit.js';

/**
 * Answers committed appends once they are durable. With a {@link WalSync} a commit waits for a WAL
 * sync that began after it: one sync runs at a time, and the commits made meanwhile wait for the
 * next one, which then serves them all. Until then its events are hidden from readers
 * ({@link visibleTo}), so nobody acts on an event that a power cut could still take back. Without
 * one, a commit is as durable as the connection's `synchronous` setting makes it, and is answered
 * at once.
 */
export class WalSyncQueue {
  /** Committed, not yet synced: waiting for the next sync. */
  private unsynced: Committed[] = [];
  /** Committed and being synced now. */
  private syncing: Committed[] | undefined;
  /** Waiting for the last sync to finish (a close). */
  private readonly synced = new Set<() => void>();

  /** @param onAnswered called after each round of answers: new events are visible now */
  constructor(
    private readonly walSync: WalSync | undefined,
    private readonly onAnswered: () => void,
  ) {}

  /**
   * The last position readers may see: everything, unless commits wait for their WAL sync —
   * events become visible when they are durable, as their appends are acknowledged.
   */
  visibleTo(): number {
    const first = this.syncing?.[0] ?? this.unsynced[0];
    return first === undefined ? Number.MAX_SAFE_INTEGER : first.headBefore;
  }

  /** Answers `committed`'s appends once it is durable. */
  acknowledge(committed: Committed): void {
    if (this.walSync === undefined) {
      settle(committed);
      this.onAnswered();
      return;
    }
    this.unsynced.push(committed);
    this.startSync();
  }

  /** Resolves once every commit acknowledged so far is synced, then releases the WAL file. */
  async close(): Promise<void> {
    while (this.syncing !== undefined || this.unsynced.length > 0) {
      await new Promise<void>((resolve) => this.synced.add(resolve));
    }
    this.walSync?.close();
  }

  /** Read through a method: `startSync` may have begun another sync. */
  private isSyncing(): boolean {
    return this.syncing !== undefined;
  }

  /**
   * Syncs the WAL for every commit not synced yet, unless a sync is running, then answers their
   * appends and starts the next sync if commits came meanwhile.
   */
  private startSync(): void {
    const walSync = this.walSync;
    if (walSync === undefined || this.syncing !== undefined || this.unsynced.length === 0) return;
    const group = this.unsynced;
    this.unsynced = [];
    this.syncing = group;
    walSync.sync((error) => {
      this.syncing = undefined;
      for (const committed of group) {
        // Committed but perhaps not on disk: the appender hears of the failure; a retry with the
        // same event ids finds them stored and is answered with the first append's result.
        if (error === null) settle(committed);
        else for (const append of committed.batch) append.reject(error);
      }
      this.onAnswered();
      this.startSync();
      if (!this.isSyncing()) {
        for (const resolve of [...this.synced]) resolve();
        this.synced.clear();
      }
    });
  }
}

import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { LogRead } from './eventRows.js';

/**
 * The latest events appended through the store, in position order, covering exactly the positions
 * (from, to]: every subscription that keeps up reads the new events from here instead of querying
 * and parsing them once per subscription. It holds at most twice `capacity` events, and at least
 * `capacity` once that many were appended since it (re)started (trimming is done in bulk); a
 * capacity of 0 turns it off.
 *
 * It only knows what the store committed: the store uses it while the log's head is its `to`
 * (nothing foreign written, foreignWrites.ts) and reads the database otherwise.
 */
export class RecentWindow {
  private events: RecordedEvent[] = [];
  private from = 0;
  private to: number | undefined;
  /** Positions of each type in the window, ascending: filtered reads jump to their events. */
  private byType = new Map<string, number[]>();

  constructor(private readonly capacity: number) {}

  /**
   * The last position the window holds if it holds everything after `after` up to it; undefined
   * when it is empty or starts later.
   */
  coveredTo(after: number): number | undefined {
    return this.to === undefined || after < this.from ? undefined : this.to;
  }

  /**
   * Up to `maxCount` events after `after` and not past `to`, which must lie within
   * {@link coveredTo}`(after)`; with `types`, only events of those types. Reports how far it looked,
   * as a read of the database does.
   */
  read(after: number, maxCount: number, types: readonly string[] | undefined, to: number): LogRead {
    const events: RecordedEvent[] = [];
    if (after >= to) return { events, scannedTo: after };
    if (types === undefined) {
      // Positions in the window are consecutive, so the first one after `after` is found directly.
      const last = Math.min(to, after + maxCount);
      for (let position = after + 1; position <= last; position += 1) {
        const event = this.at(position);
        if (event !== undefined) events.push(event);
      }
      return { events, scannedTo: last };
    }
    const positions = this.positionsOf(types, after, maxCount, to);
    for (const position of positions) {
      const event = this.at(position);
      if (event !== undefined) events.push(event);
    }
    const scannedTo = positions.length === maxCount ? (positions.at(-1) ?? to) : to;
    return { events, scannedTo };
  }

  /**
   * Adds a committed batch (the log's head moved from `headBefore` to `headAfter`). A batch that
   * starts where the window ends continues it; one that starts elsewhere (after a foreign write)
   * restarts the window from it; one that is not exactly the positions `headBefore + 1 …
   * headAfter`, none missing, empties it, since the window must never have holes.
   */
  remember(appended: readonly RecordedEvent[], headBefore: number, headAfter: number): void {
    if (this.capacity === 0) return;
    const consecutive =
      appended.length === headAfter - headBefore &&
      appended.every((event, index) => Number(event.position.commit) === headBefore + index + 1);
    if (!consecutive) {
      this.events = [];
      this.byType = new Map();
      this.to = undefined;
      return;
    }
    if (this.to !== headBefore) {
      this.events = [];
      this.byType = new Map();
      this.from = headBefore;
    }
    for (const event of appended) {
      this.events.push(event);
      const ofType = this.byType.get(event.type);
      if (ofType === undefined) this.byType.set(event.type, [Number(event.position.commit)]);
      else ofType.push(Number(event.position.commit));
    }
    this.to = headAfter;
    if (this.events.length > 2 * this.capacity) this.trim();
  }

  /** The event at `position`, if the window holds it, now has this data (docs/audit.md, "Erasure"). */
  rewritten(position: number, data: unknown): void {
    const index = position - this.from - 1;
    const event = this.events[index];
    if (event !== undefined) this.events[index] = { ...event, data };
  }

  /**
   * Drops every event up to `position` (the window keeps no holes, so its start moves past it):
   * for a store that learns of a rewrite by its record (docs/audit.md, "Erasure") and does not
   * hold the data written. Reads of those positions go to the database from then on.
   */
  forgetThrough(position: number): void {
    if (this.to === undefined || position <= this.from) return;
    const last = Math.min(position, this.to);
    this.events = this.events.slice(last - this.from);
    this.from = last;
    for (const [type, positions] of this.byType) {
      const kept = positions.slice(firstAfter(positions, this.from));
      if (kept.length === 0) this.byType.delete(type);
      else this.byType.set(type, kept);
    }
  }

  /** The event at `position`, if the window holds it. */
  at(position: number): RecordedEvent | undefined {
    return this.events[position - this.from - 1];
  }

  /** The first `maxCount` positions in (after, to] holding one of `types`, ascending. */
  private positionsOf(
    types: readonly string[],
    after: number,
    maxCount: number,
    to: number,
  ): number[] {
    const positions: number[] = [];
    for (const type of new Set(types)) {
      const ofType = this.byType.get(type);
      if (ofType === undefined) continue;
      // The first `maxCount` of each type: together they hold the first `maxCount` of all.
      const start = firstAfter(ofType, after);
      const end = Math.min(ofType.length, start + maxCount);
      for (let index = start; index < end; index += 1) {
        const position = ofType[index] ?? 0;
        if (position > to) break;
        positions.push(position);
      }
    }
    if (types.length > 1) positions.sort((a, b) => a - b);
    if (positions.length > maxCount) positions.length = maxCount;
    return positions;
  }

  /** Keeps the latest `capacity` events. */
  private trim(): void {
    const drop = this.events.length - this.capacity;
    this.events = this.events.slice(drop);
    this.from += drop;
    for (const [type, positions] of this.byType) {
      const kept = positions.slice(firstAfter(positions, this.from));
      if (kept.length === 0) this.byType.delete(type);
      else this.byType.set(type, kept);
    }
  }
}

/** Index of the first entry of ascending `positions` greater than `after` (binary search). */
const firstAfter = (positions: readonly number[], after: number): number => {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((positions[middle] ?? 0) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
};

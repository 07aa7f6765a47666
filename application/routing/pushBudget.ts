const HOUR_MS = 60 * 60 * 1000;

/**
 * Device pushes per binding in the last hour, for the push budget. The router is the only writer
 * of device pushes, so it keeps the exact recent history in memory and learns a binding's earlier
 * pushes from the read model the first time it meets it (after a start), which covers pushes made
 * before a restart.
 */
export class PushBudget {
  private readonly recent = new Map<string, number[]>();

  constructor(
    readonly perHour: number,
    private readonly pushesSince: (bindingId: string, since: string) => readonly string[],
  ) {}

  /** Device pushes for the binding within the hour before `now`. */
  used(bindingId: string, now: number): number {
    const count = this.history(bindingId, now).length;
    // A binding quiet for an hour is forgotten; meeting it again re-reads the (empty) history.
    if (count === 0) this.recent.delete(bindingId);
    return count;
  }

  /**
   * Records a device push made at `now`. Called after {@link used} for the same binding, once
   * the routing is stored: by then the read model already lists this push, so the history is
   * not re-read from it here (a binding `used` just forgot would count its first push twice).
   */
  record(bindingId: string, now: number): void {
    // `used` has just dropped the pushes older than an hour from this list.
    const times = this.recent.get(bindingId);
    if (times === undefined) this.recent.set(bindingId, [now]);
    else times.push(now);
  }

  private history(bindingId: string, now: number): number[] {
    const since = now - HOUR_MS;
    const times =
      this.recent.get(bindingId) ??
      this.pushesSince(bindingId, new Date(since).toISOString()).map((at) => Date.parse(at));
    while (times.length > 0 && (times[0] ?? 0) <= since) times.shift();
    this.recent.set(bindingId, times);
    return times;
  }
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Device pushes per binding in the last hour, for the push budget. Routing (the router stage, or
 * a submission routed in its own command) is the only writer of device pushes, on one node, so
 * the budget keeps the exact recent history in memory and learns a binding's earlier pushes from
 * the read model the first time it meets it (after a start), which covers pushes made before a
 * restart.
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
   * Counts a device push decided at `now`, before its routing is stored, so that routings of one
   * binding decided at the same time (the router's, and the submissions routed in their own
   * command) count each other. Called right after {@link used} for the same binding, with no
   * turn of the loop between, so the list is the one `used` has just trimmed. Call the answer
   * when the routing was not stored after all (refused, or a repeat counted the first time).
   */
  reserve(bindingId: string, now: number): () => void {
    const times = this.recent.get(bindingId);
    if (times === undefined) this.recent.set(bindingId, [now]);
    else times.push(now);
    return () => {
      const list = this.recent.get(bindingId);
      const index = list?.lastIndexOf(now) ?? -1;
      if (list !== undefined && index >= 0) list.splice(index, 1);
    };
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

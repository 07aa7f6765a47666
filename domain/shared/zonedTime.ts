import { DateTime } from 'luxon';

/** A calendar date in some time zone. */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Minutes since midnight of an `HH:MM` clock time (validated by the caller: CLOCK_TIME). */
export const minutesOfClock = (clock: string): number =>
  Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** The date and the minutes since midnight (with seconds as a fraction) of `at` in `zone`. */
export const localClockOf = (
  at: string,
  zone: string,
): { readonly date: LocalDate; readonly minutes: number } => {
  const local = DateTime.fromISO(at, { zone });
  return {
    date: { year: local.year, month: local.month, day: local.day },
    minutes: local.hour * 60 + local.minute + local.second / 60 + local.millisecond / 60_000,
  };
};

/** The date `days` after `date` (negative: before), on the calendar. */
export const addLocalDays = (date: LocalDate, days: number): LocalDate => {
  const next = DateTime.fromObject(date, { zone: 'UTC' }).plus({ days });
  return { year: next.year, month: next.month, day: next.day };
};

/**
 * The first instant (ISO 8601 UTC) at which the wall clock in `zone` reads `clock` or later on
 * `date`. Usually the instant it reads `clock`; on a day that skips it (the spring-forward gap of
 * daylight saving), the first instant after the gap; on a day that reads it twice (fall back),
 * the first of the two.
 */
export const instantOfLocalClock = (zone: string, date: LocalDate, clock: string): string => {
  const minutes = minutesOfClock(clock);
  const wanted = { ...date, hour: Math.floor(minutes / 60), minute: minutes % 60 };
  // Luxon answers a skipped wall time shifted forward by the gap, and a repeated one at its first
  // offset. Shifted means the clock jumped over `clock`: look for the jump, minute by minute, by
  // halving the span between the naive instant under the later offset and the answer.
  const answer = DateTime.fromObject(wanted, { zone });
  const wantedWall = Date.UTC(date.year, date.month - 1, date.day, wanted.hour, wanted.minute);
  const wallOf = (ms: number): number => {
    const local = DateTime.fromMillis(ms, { zone });
    return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  };
  if (answer.hour === wanted.hour && answer.minute === wanted.minute) {
    // A wall time read twice: the offset in force a few hours earlier gives the first reading.
    const earlierOffset = DateTime.fromMillis(answer.toMillis() - 3 * 60 * 60_000, { zone }).offset;
    const first = wantedWall - earlierOffset * 60_000;
    const chosen =
      first < answer.toMillis() && wallOf(first) === wantedWall ? first : answer.toMillis();
    return new Date(chosen).toISOString();
  }
  let before = answer.toMillis() - 24 * 60 * 60_000;
  let after = answer.toMillis();
  while (after - before > 60_000) {
    const middle = before + Math.floor((after - before) / 120_000) * 60_000;
    if (wallOf(middle) >= wantedWall) after = middle;
    else before = middle;
  }
  return new Date(after).toISOString();
};

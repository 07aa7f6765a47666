import {
  addLocalDays,
  instantOfLocalClock,
  localClockOf,
  minutesOfClock,
} from '../shared/zonedTime.js';
import type { QuietHours } from './recipientPreferences.js';

/**
 * When the quiet hours that `at` falls in end (ISO 8601 UTC), or undefined when `at` is outside
 * them. Quiet hours are a span of the wall clock in the person's zone (UTC when they chose none),
 * from `start` (inside) to `end` (outside); a start later than the end spans midnight (22:00 to
 * 07:00). Days with a daylight-saving change are read by the wall clock too: quiet hours ending at
 * 02:30 on a night that skips from 02:00 to 03:00 end at 03:00; on a night that repeats 02:00 to
 * 03:00 they end at the first 02:30.
 */
export const quietHoursEndAt = (
  quiet: QuietHours,
  zone: string,
  at: string,
): string | undefined => {
  const start = minutesOfClock(quiet.start);
  const end = minutesOfClock(quiet.end);
  const { date, minutes } = localClockOf(at, zone);
  const spansMidnight = start > end;
  const inside = spansMidnight
    ? minutes >= start || minutes < end
    : minutes >= start && minutes < end;
  if (!inside) return undefined;
  // Before midnight in a span across it, the end is tomorrow's; otherwise today's.
  const endDate = spansMidnight && minutes >= start ? addLocalDays(date, 1) : date;
  const endsAt = instantOfLocalClock(zone, endDate, quiet.end);
  // In an hour the clock repeats, the quiet hours ended at the first reading of their end.
  return Date.parse(endsAt) > Date.parse(at) ? endsAt : undefined;
};

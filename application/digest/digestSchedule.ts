import {
  addLocalDays,
  instantOfLocalClock,
  localClockOf,
  type LocalDate,
} from '../../domain/shared/zonedTime.js';

/** How late a digest may still go out: a server down at its time sends it when back, within this. */
export const DIGEST_MAX_LATENESS_MS = 12 * 60 * 60_000;

/** One day's digest time. */
export interface DigestOccurrence {
  /** `YYYY-MM-DD` in the person's zone: the day whose digest it is (its id derives from it). */
  readonly date: string;
  /** The instant, ISO 8601 UTC. */
  readonly at: string;
}

const isoDate = ({ year, month, day }: LocalDate): string =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/**
 * The latest time at or before `now` at which the wall clock in `zone` read `clock` (`HH:MM`):
 * today's if it has come, else yesterday's. On a day that skips `clock` (the spring-forward gap
 * of daylight saving) it is the first instant after the gap; on a day that reads it twice, the
 * first reading (domain/shared/zonedTime.ts).
 */
export const latestDigestOccurrence = (
  clock: string,
  zone: string,
  now: string,
): DigestOccurrence => {
  const { date } = localClockOf(now, zone);
  const today = instantOfLocalClock(zone, date, clock);
  if (Date.parse(today) <= Date.parse(now)) return { date: isoDate(date), at: today };
  const yesterday = addLocalDays(date, -1);
  return { date: isoDate(yesterday), at: instantOfLocalClock(zone, yesterday, clock) };
};

/**
 * The digest due at `now` for a digest at `clock` in `zone`: the latest occurrence, unless it
 * came more than {@link DIGEST_MAX_LATENESS_MS} ago (a server back after that skips the day's
 * digest). Undefined when none is due. The digest step also skips an occurrence earlier than
 * when the person chose this time ({@link isChosenBy}).
 */
export const dueDigestOccurrence = (
  clock: string,
  zone: string,
  now: string,
): DigestOccurrence | undefined => {
  const occurrence = latestDigestOccurrence(clock, zone, now);
  return Date.parse(now) - Date.parse(occurrence.at) > DIGEST_MAX_LATENESS_MS
    ? undefined
    : occurrence;
};

/**
 * Whether the person had chosen their digest's time by `occurrence` (`chosenAt`, from
 * digestChosenAt.ts): a digest set at 10:00 for 08:00 first goes out tomorrow, not at once.
 */
export const isChosenBy = (occurrence: DigestOccurrence, chosenAt: string | undefined): boolean =>
  chosenAt !== undefined && Date.parse(chosenAt) <= Date.parse(occurrence.at);

/**
 * The messages a digest sums up: those that reached the inbox in `[from, until)`, from the day
 * before's digest time to this one's, on the wall clock of the zone — so that on a day with a
 * daylight-saving change (23 or 25 hours long) each message is in exactly one day's digest.
 */
export const digestWindow = (
  occurrence: DigestOccurrence,
  clock: string,
  zone: string,
): { readonly from: string; readonly until: string } => {
  const [year, month, day] = occurrence.date.split('-').map(Number);
  const date: LocalDate = { year: year ?? 1970, month: month ?? 1, day: day ?? 1 };
  return { from: instantOfLocalClock(zone, addLocalDays(date, -1), clock), until: occurrence.at };
};

/**
 * Time arithmetic for deciders. Times are ISO 8601 UTC strings (see `IsoTime`); they are
 * compared as instants, not as text, so `...:00Z` and `...:00.000Z` are the same moment.
 */

const toMillis = (time: string): number => {
  const millis = Date.parse(time);
  // A decider only sees times that passed the IsoTime codec; an unparsable one is a bug upstream.
  if (Number.isNaN(millis)) throw new TypeError(`not an ISO 8601 time: ${time}`);
  return millis;
};

/** True if instant `a` is strictly earlier than instant `b`. */
export const isBefore = (a: string, b: string): boolean => toMillis(a) < toMillis(b);

/** True if instant `a` is strictly later than instant `b`. */
export const isAfter = (a: string, b: string): boolean => toMillis(a) > toMillis(b);

/** True if `a` and `b` are the same instant, whatever their textual precision. */
export const isSameInstant = (a: string, b: string): boolean => toMillis(a) === toMillis(b);

/** The instant `days` whole days after `time`, as an ISO 8601 UTC string. */
export const addDays = (time: string, days: number): string =>
  new Date(toMillis(time) + days * 86_400_000).toISOString();

/** The instant `hours` hours after `time`, as an ISO 8601 UTC string. */
export const addHours = (time: string, hours: number): string =>
  new Date(toMillis(time) + hours * 3_600_000).toISOString();

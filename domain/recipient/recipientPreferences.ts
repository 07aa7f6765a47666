import * as t from 'io-ts';

/**
 * The languages Tidings writes in (pages, test pushes, summaries). `en` is the fallback for
 * everything that has no better clue.
 */
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** The codec of a {@link Locale}. */
export const LocaleCodec = t.keyof({ 'zh-CN': null, en: null }, 'Locale');

/** Whether `value` is one of the {@link LOCALES}. */
export const isLocale = (value: unknown): value is Locale =>
  typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/** A time of day on a 24-hour clock, `HH:MM` (00:00 to 23:59). */
export const CLOCK_TIME = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/;

/**
 * Whether `zone` is an IANA time zone this runtime knows (`Asia/Shanghai`, `UTC`). Intl is the
 * authority: it is what every later computation in that zone will use. Only names are accepted,
 * not offsets such as `+08:00`, which Intl also takes but which ignore daylight saving.
 */
export const isTimeZone = (zone: string): boolean => {
  if (zone.length === 0 || zone.length > 64 || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** Hours during which no device push goes out (docs/api.md, "Preferences"). */
export const QuietHours = t.type(
  { start: t.string, end: t.string, allowTimeSensitive: t.boolean },
  'QuietHours',
);
export type QuietHours = t.TypeOf<typeof QuietHours>;

/** One summary a day at `at`, to one of the person's devices. */
export const Digest = t.type({ at: t.string, deviceId: t.string }, 'Digest');
export type Digest = t.TypeOf<typeof Digest>;

/**
 * What a person chose. `null` means "not chosen": `locale` null follows the browser
 * (Accept-Language, then English); `timeZone` null shows times in the browser's own zone and
 * schedules (quiet hours, the digest) in UTC; `quietHours` and `digest` null are off.
 */
export const Preferences = t.type(
  {
    locale: t.union([LocaleCodec, t.null]),
    timeZone: t.union([t.string, t.null]),
    quietHours: t.union([QuietHours, t.null]),
    digest: t.union([Digest, t.null]),
  },
  'Preferences',
);
export type Preferences = t.TypeOf<typeof Preferences>;

/** A person's preferences before they set any. */
export const DEFAULT_PREFERENCES: Preferences = {
  locale: null,
  timeZone: null,
  quietHours: null,
  digest: null,
};

/** One field of the preferences that cannot be saved, as `{ path, message }` (a JSON pointer). */
export interface PreferenceProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Every reason `preferences` cannot be saved, each at its field's path: an unknown time zone, a
 * time that is not `HH:MM`, quiet hours that start when they end, a digest to a device the person
 * does not have (`deviceIds` are theirs). Empty when they can.
 */
export const preferenceProblems = (
  preferences: Preferences,
  deviceIds: readonly string[],
): readonly PreferenceProblem[] => {
  const problems: PreferenceProblem[] = [];
  const { locale, timeZone, quietHours, digest } = preferences;
  if (locale !== null && !isLocale(locale)) {
    problems.push({ path: '/locale', message: `must be one of ${LOCALES.join(', ')} or null` });
  }
  if (timeZone !== null && !isTimeZone(timeZone)) {
    problems.push({
      path: '/timeZone',
      message: 'is not an IANA time zone name (e.g. Asia/Shanghai, Europe/London, UTC)',
    });
  }
  if (quietHours !== null) {
    for (const field of ['start', 'end'] as const) {
      if (!CLOCK_TIME.test(quietHours[field])) {
        problems.push({
          path: `/quietHours/${field}`,
          message: 'must be a time HH:MM (00:00–23:59)',
        });
      }
    }
    if (quietHours.start === quietHours.end) {
      problems.push({ path: '/quietHours/end', message: 'must differ from start' });
    }
  }
  if (digest !== null) {
    if (!CLOCK_TIME.test(digest.at)) {
      problems.push({ path: '/digest/at', message: 'must be a time HH:MM (00:00–23:59)' });
    }
    if (!deviceIds.includes(digest.deviceId)) {
      problems.push({ path: '/digest/deviceId', message: 'is not one of your devices' });
    }
  }
  return problems;
};

/** Whether two sets of preferences say the same (whatever order their fields came in). */
export const samePreferences = (a: Preferences, b: Preferences): boolean =>
  a.locale === b.locale &&
  a.timeZone === b.timeZone &&
  (a.quietHours === null || b.quietHours === null
    ? a.quietHours === b.quietHours
    : a.quietHours.start === b.quietHours.start &&
      a.quietHours.end === b.quietHours.end &&
      a.quietHours.allowTimeSensitive === b.quietHours.allowTimeSensitive) &&
  (a.digest === null || b.digest === null
    ? a.digest === b.digest
    : a.digest.at === b.digest.at && a.digest.deviceId === b.digest.deviceId);

import * as t from 'io-ts';
import { setPreferences } from '../../../application/preferences/setPreferences.js';
import {
  CLOCK_TIME,
  isTimeZone,
  LOCALES,
  LocaleCodec,
} from '../../../domain/recipient/recipientPreferences.js';
import { boundedString, strictObject, withSchema } from '../codecs.js';
import { defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

/**
 * `codec` or null. Unlike `t.union([codec, t.null])` a wrong value is reported once, with the
 * codec's own message, rather than once per member (`must be null` says nothing useful); the
 * generated schema is still the union's.
 */
const nullOr = <C extends t.Mixed>(codec: C): t.UnionType<[C, t.NullC], t.TypeOf<C> | null> =>
  new t.UnionType<[C, t.NullC], t.TypeOf<C> | null>(
    `${codec.name} | null`,
    (u): u is t.TypeOf<C> | null => u === null || codec.is(u),
    // The member's context entry, as io-ts's own union adds it (field paths leave it out).
    (u, c) => (u === null ? t.success(null) : codec.validate(u, t.appendContext(c, '0', codec, u))),
    (a) => (a === null ? null : (codec.encode(a) as t.TypeOf<C>)),
    [codec, t.null],
  );

const ClockTime = boundedString('ClockTime', {
  pattern: CLOCK_TIME,
  description: 'a time of day HH:MM, 00:00 to 23:59',
});

/** An IANA time zone name that this server's Intl knows. */
const TimeZone = withSchema(
  new t.Type<string>(
    'TimeZone',
    (u): u is string => typeof u === 'string' && isTimeZone(u),
    (u, c) =>
      typeof u !== 'string'
        ? t.failure(u, c, 'must be a string')
        : isTimeZone(u)
          ? t.success(u)
          : t.failure(
              u,
              c,
              'is not an IANA time zone name (e.g. Asia/Shanghai, Europe/London, UTC)',
            ),
    t.identity,
  ),
  {
    type: 'string',
    maxLength: 64,
    description: 'an IANA time zone name, e.g. Asia/Shanghai',
    examples: ['Asia/Shanghai'],
  },
);

const QuietHoursBody = strictObject('QuietHours', {
  start: ClockTime,
  end: ClockTime,
  allowTimeSensitive: t.boolean,
});

const DigestBody = strictObject('Digest', {
  at: ClockTime,
  deviceId: boundedString('DeviceId', { minLength: 1, maxLength: 64 }),
});

const PreferencesBody = strictObject('PreferencesBody', {
  locale: nullOr(LocaleCodec),
  timeZone: nullOr(TimeZone),
  quietHours: nullOr(QuietHoursBody),
  digest: nullOr(DigestBody),
});

const PreferencesView = t.type(
  {
    locale: t.union([LocaleCodec, t.null]),
    timeZone: t.union([t.string, t.null]),
    quietHours: t.union([
      t.type({ start: t.string, end: t.string, allowTimeSensitive: t.boolean }),
      t.null,
    ]),
    digest: t.union([t.type({ at: t.string, deviceId: t.string }), t.null]),
  },
  'Preferences',
);

/** The person's preferences (docs/api.md, "Preferences"). */
export const preferencesRoutes = (deps: ApiDeps): Route[] => {
  const save = setPreferences(deps);
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/preferences',
        tag: 'recipient',
        summary: 'Your preferences: language, time zone, quiet hours, digest',
        description: `null means not chosen: locale null follows the browser (Accept-Language, then English); timeZone null shows times in the browser's zone and schedules quiet hours and the digest in UTC; quietHours and digest null are off. Locales: ${LOCALES.join(', ')}.`,
        auth: 'recipient',
        responses: { 200: { description: 'As stored', body: PreferencesView } },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: deps.recipients.preferences(request.caller.recipientId),
        }),
    ),
    defineRoute(
      {
        method: 'put',
        path: '/v1/me/preferences',
        tag: 'recipient',
        summary: 'Save your preferences',
        description:
          'Replaces all four fields (each required; null for not chosen or off). timeZone must be an IANA name; quietHours start and end (HH:MM) must differ and may span midnight; digest.deviceId must be one of your devices. Anything invalid is 400 validation_failed naming each field, and nothing is saved.',
        auth: 'recipient',
        body: PreferencesBody,
        errors: ['validation_failed', 'not_found', 'conflict'],
        responses: { 200: { description: 'As saved', body: PreferencesView } },
      },
      async (request) => ({
        status: 200,
        body: orRefusal(
          await save(request.caller.recipientId, request.body, invocationOf(request)),
        ),
      }),
    ),
  ];
};

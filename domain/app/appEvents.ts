import * as t from 'io-ts';
import {
  eventCodec,
  HttpUrl,
  Int,
  IsoTime,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';
import { CallbackEventType } from '../callback/callbackEventTypes.js';

/** Why an app was suspended; `operator` when a person decided it by hand. */
export const AppSuspensionReason = t.keyof({
  score_below_threshold: null,
  complaint_surge: null,
  operator: null,
});
export type AppSuspensionReason = t.TypeOf<typeof AppSuspensionReason>;

/** Why an app was banned for good (until an operator reinstates it). */
export const AppBanReason = t.keyof({
  score_below_threshold: null,
  repeated_suspensions: null,
  operator: null,
});
export type AppBanReason = t.TypeOf<typeof AppBanReason>;

/** How a suspension ended: its time ran out, or an operator lifted it early. */
export const AppSuspensionLiftReason = t.keyof({ expired: null, reinstated: null });
export type AppSuspensionLiftReason = t.TypeOf<typeof AppSuspensionLiftReason>;

/** An operator registered a third-party app; only the hash of its secret is kept. */
export const AppRegistered = eventCodec(
  'AppRegistered',
  withOptional(
    {
      appId: t.string,
      name: t.string,
      redirectUris: t.readonlyArray(HttpUrl),
      secretHash: t.string,
    },
    { callbackUrl: HttpUrl },
  ),
);
export type AppRegistered = t.TypeOf<typeof AppRegistered>;

/** The app got a new secret; the old one stops working. */
export const AppSecretRotated = eventCodec(
  'AppSecretRotated',
  t.type({ appId: t.string, secretHash: t.string }),
);
export type AppSecretRotated = t.TypeOf<typeof AppSecretRotated>;

/** The app's allowed consent redirect targets were replaced. */
export const AppRedirectUrisChanged = eventCodec(
  'AppRedirectUrisChanged',
  t.type({ appId: t.string, redirectUris: t.readonlyArray(HttpUrl) }),
);
export type AppRedirectUrisChanged = t.TypeOf<typeof AppRedirectUrisChanged>;

/** The app lost reputation points, usually for upheld complaints. */
export const AppPenalized = eventCodec(
  'AppPenalized',
  t.type({
    appId: t.string,
    points: PositiveInt,
    scoreAfter: Int,
    complaintIds: t.readonlyArray(t.string),
    reason: t.string,
  }),
);
export type AppPenalized = t.TypeOf<typeof AppPenalized>;

/** The app may not send until `until`; a later `until` on a suspended app extends it. */
export const AppSuspended = eventCodec(
  'AppSuspended',
  t.type({
    appId: t.string,
    until: IsoTime,
    reason: AppSuspensionReason,
    complaintIds: t.readonlyArray(t.string),
  }),
);
export type AppSuspended = t.TypeOf<typeof AppSuspended>;

/** A suspension ended; the app may send again. */
export const AppSuspensionLifted = eventCodec(
  'AppSuspensionLifted',
  t.type({ appId: t.string, reason: AppSuspensionLiftReason, scoreAfter: Int }),
);
export type AppSuspensionLifted = t.TypeOf<typeof AppSuspensionLifted>;

/** The app may no longer send at all. */
export const AppBanned = eventCodec(
  'AppBanned',
  t.type({ appId: t.string, reason: AppBanReason, complaintIds: t.readonlyArray(t.string) }),
);
export type AppBanned = t.TypeOf<typeof AppBanned>;

/** An operator restored a suspended or banned app to active. */
export const AppReinstated = eventCodec(
  'AppReinstated',
  withOptional({ appId: t.string, scoreAfter: Int }, { note: t.string }),
);
export type AppReinstated = t.TypeOf<typeof AppReinstated>;

/**
 * The app registered its callback, or changed it. `secret` is the signing secret sealed with the
 * data folder's key (never in clear in the log); after a rotation the one before keeps signing
 * too, beside the new one, until `previousSecretUntil`, so a receiver can switch over. `since` is
 * when the app first registered it: events from before then are never sent to it.
 */
export const AppCallbackSet = eventCodec(
  'AppCallbackSet',
  withOptional(
    {
      appId: t.string,
      url: HttpUrl,
      events: t.readonlyArray(CallbackEventType),
      secret: t.string,
      since: IsoTime,
    },
    { previousSecret: t.string, previousSecretUntil: IsoTime },
  ),
);
export type AppCallbackSet = t.TypeOf<typeof AppCallbackSet>;

/** The app removed its callback: nothing more is sent, deliveries not made yet are given up. */
export const AppCallbackRemoved = eventCodec('AppCallbackRemoved', t.type({ appId: t.string }));
export type AppCallbackRemoved = t.TypeOf<typeof AppCallbackRemoved>;

/** The app turned the Bark- and ntfy-compatible ingress on or off for its binding keys. */
export const AppCompatIngressChanged = eventCodec(
  'AppCompatIngressChanged',
  t.type({ appId: t.string, enabled: t.boolean }),
);
export type AppCompatIngressChanged = t.TypeOf<typeof AppCompatIngressChanged>;

/** Every event of the App aggregate (stream `app-<appId>`). */
export const AppEventCodec = t.union([
  AppRegistered,
  AppSecretRotated,
  AppRedirectUrisChanged,
  AppPenalized,
  AppSuspended,
  AppSuspensionLifted,
  AppBanned,
  AppReinstated,
  AppCallbackSet,
  AppCallbackRemoved,
  AppCompatIngressChanged,
]);
export type AppEvent = t.TypeOf<typeof AppEventCodec>;

/** The type names of App events, read off the codecs so the list cannot drift from them. */
export const appEventTypes: readonly AppEvent['type'][] = typeNamesOf(AppEventCodec);

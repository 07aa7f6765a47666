import * as t from 'io-ts';
import { PenaltyLadder } from '../reputation/penaltyLadder.js';
import {
  commandCodec,
  HttpUrl,
  Int,
  IsoTime,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';
import { CallbackEventType } from '../callback/callbackEventTypes.js';
import { AppBanReason, AppSuspensionLiftReason, AppSuspensionReason } from './appEvents.js';

/**
 * Registers an app. The caller makes the id and the secret and passes only the secret's hash; a
 * `callbackUrl` registers the callback too, signed with `callbackSecret` (sealed), for every type.
 */
export const RegisterApp = commandCodec(
  'RegisterApp',
  withOptional(
    {
      appId: t.string,
      name: t.string,
      redirectUris: t.readonlyArray(HttpUrl),
      secretHash: t.string,
    },
    { callbackUrl: HttpUrl, callbackSecret: t.string },
  ),
);
export type RegisterApp = t.TypeOf<typeof RegisterApp>;

/** Replaces the app's secret hash (the caller shows the new secret once). */
export const RotateAppSecret = commandCodec(
  'RotateAppSecret',
  t.type({ appId: t.string, secretHash: t.string }),
);
export type RotateAppSecret = t.TypeOf<typeof RotateAppSecret>;

/** Replaces the list of redirect URIs the consent page may send people back to. */
export const ChangeAppRedirectUris = commandCodec(
  'ChangeAppRedirectUris',
  t.type({ appId: t.string, redirectUris: t.readonlyArray(HttpUrl) }),
);
export type ChangeAppRedirectUris = t.TypeOf<typeof ChangeAppRedirectUris>;

/**
 * Takes `points` off the app's score. `complaintIds` name the complaints paid for; a complaint
 * is never charged twice, so a redelivered policy event does no harm.
 */
export const PenalizeApp = commandCodec(
  'PenalizeApp',
  t.type({
    appId: t.string,
    points: PositiveInt,
    complaintIds: t.readonlyArray(t.string),
    reason: t.string,
  }),
);
export type PenalizeApp = t.TypeOf<typeof PenalizeApp>;

/** Suspends the app until `until` (must be later than `now`). */
export const SuspendApp = commandCodec(
  'SuspendApp',
  t.type({
    appId: t.string,
    until: IsoTime,
    reason: AppSuspensionReason,
    complaintIds: t.readonlyArray(t.string),
  }),
);
export type SuspendApp = t.TypeOf<typeof SuspendApp>;

/**
 * Ends a suspension. `expired` is the scheduler's and is refused before `until`; `reinstated` is
 * an operator's early lift. `scoreAfter` lets the policy restore a score; absent, it is kept.
 */
export const LiftAppSuspension = commandCodec(
  'LiftAppSuspension',
  withOptional(
    { appId: t.string, reason: AppSuspensionLiftReason },
    // `recoverTo`: the score comes back to at least this, judged on the score at decision time.
    { scoreAfter: Int, recoverTo: Int },
  ),
);
export type LiftAppSuspension = t.TypeOf<typeof LiftAppSuspension>;

/** Bans the app (also ends any suspension). */
export const BanApp = commandCodec(
  'BanApp',
  t.type({ appId: t.string, reason: AppBanReason, complaintIds: t.readonlyArray(t.string) }),
);
export type BanApp = t.TypeOf<typeof BanApp>;

/** Restores a suspended or banned app; `scoreAfter` absent keeps the current score. */
export const ReinstateApp = commandCodec(
  'ReinstateApp',
  withOptional({ appId: t.string }, { note: t.string, scoreAfter: Int, recoverTo: Int }),
);
export type ReinstateApp = t.TypeOf<typeof ReinstateApp>;

/**
 * Charges one upheld complaint by the penalty ladder and applies its consequence in the same
 * step: the decider sees the current score and suspension count, so concurrent penalties (each
 * retried on conflict) can never skip a threshold or suspend twice.
 */
export const ApplyPenalty = commandCodec(
  'ApplyPenalty',
  t.type({
    appId: t.string,
    complaintId: t.string,
    severity: t.keyof({ minor: null, major: null, severe: null }),
    ladder: PenaltyLadder,
  }),
);
export type ApplyPenalty = t.TypeOf<typeof ApplyPenalty>;

/**
 * Registers or changes the app's callback. `secret` (sealed) is a fresh one the caller made: it
 * is taken when the app had no callback or `rotate` is set, and otherwise the current secret
 * stays. A rotation keeps the current secret signing beside the new one for `rotationWindowHours`.
 */
export const SetAppCallback = commandCodec(
  'SetAppCallback',
  t.type({
    appId: t.string,
    url: HttpUrl,
    events: t.readonlyArray(CallbackEventType),
    secret: t.string,
    rotate: t.boolean,
    rotationWindowHours: PositiveInt,
  }),
);
export type SetAppCallback = t.TypeOf<typeof SetAppCallback>;

/** Removes the app's callback (a no-op when it has none). */
export const RemoveAppCallback = commandCodec('RemoveAppCallback', t.type({ appId: t.string }));
export type RemoveAppCallback = t.TypeOf<typeof RemoveAppCallback>;

/** Turns the compatible ingress (docs/api.md, "Compatible ingress") on or off. */
export const SetAppCompatIngress = commandCodec(
  'SetAppCompatIngress',
  t.type({ appId: t.string, enabled: t.boolean }),
);
export type SetAppCompatIngress = t.TypeOf<typeof SetAppCompatIngress>;

/** Every command of the App aggregate. */
export const AppCommandCodec = t.union([
  RegisterApp,
  RotateAppSecret,
  ChangeAppRedirectUris,
  PenalizeApp,
  SuspendApp,
  LiftAppSuspension,
  BanApp,
  ReinstateApp,
  ApplyPenalty,
  SetAppCallback,
  RemoveAppCallback,
  SetAppCompatIngress,
]);
export type AppCommand = t.TypeOf<typeof AppCommandCodec>;

/** The type names of App commands, read off the codecs. */
export const appCommandTypes: readonly AppCommand['type'][] = typeNamesOf(AppCommandCodec);

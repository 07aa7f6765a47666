import * as t from 'io-ts';
import { CommandMetadataCodec, HttpUrl, Int, IsoTime, PositiveInt } from '../shared/codecs.js';
import { AppBanReason, AppSuspensionLiftReason, AppSuspensionReason } from './appEvents.js';

/** Registers an app. The caller makes the id and the secret and passes only the secret's hash. */
export const RegisterApp = t.type({
  type: t.literal('RegisterApp'),
  data: t.intersection([
    t.type({
      appId: t.string,
      name: t.string,
      redirectUris: t.readonlyArray(HttpUrl),
      secretHash: t.string,
    }),
    t.partial({ callbackUrl: HttpUrl }),
  ]),
  metadata: CommandMetadataCodec,
});
export type RegisterApp = t.TypeOf<typeof RegisterApp>;

/** Replaces the app's secret hash (the caller shows the new secret once). */
export const RotateAppSecret = t.type({
  type: t.literal('RotateAppSecret'),
  data: t.type({ appId: t.string, secretHash: t.string }),
  metadata: CommandMetadataCodec,
});
export type RotateAppSecret = t.TypeOf<typeof RotateAppSecret>;

/** Replaces the list of redirect URIs the consent page may send people back to. */
export const ChangeAppRedirectUris = t.type({
  type: t.literal('ChangeAppRedirectUris'),
  data: t.type({ appId: t.string, redirectUris: t.readonlyArray(HttpUrl) }),
  metadata: CommandMetadataCodec,
});
export type ChangeAppRedirectUris = t.TypeOf<typeof ChangeAppRedirectUris>;

/**
 * Takes `points` off the app's score. `complaintIds` name the complaints paid for; a complaint
 * is never charged twice, so a redelivered policy event does no harm.
 */
export const PenalizeApp = t.type({
  type: t.literal('PenalizeApp'),
  data: t.type({
    appId: t.string,
    points: PositiveInt,
    complaintIds: t.readonlyArray(t.string),
    reason: t.string,
  }),
  metadata: CommandMetadataCodec,
});
export type PenalizeApp = t.TypeOf<typeof PenalizeApp>;

/** Suspends the app until `until` (must be later than `now`). */
export const SuspendApp = t.type({
  type: t.literal('SuspendApp'),
  data: t.type({
    appId: t.string,
    until: IsoTime,
    reason: AppSuspensionReason,
    complaintIds: t.readonlyArray(t.string),
  }),
  metadata: CommandMetadataCodec,
});
export type SuspendApp = t.TypeOf<typeof SuspendApp>;

/**
 * Ends a suspension. `expired` is the scheduler's and is refused before `until`; `reinstated` is
 * an operator's early lift. `scoreAfter` lets the policy restore a score; absent, it is kept.
 */
export const LiftAppSuspension = t.type({
  type: t.literal('LiftAppSuspension'),
  data: t.intersection([
    t.type({ appId: t.string, reason: AppSuspensionLiftReason }),
    t.partial({ scoreAfter: Int }),
  ]),
  metadata: CommandMetadataCodec,
});
export type LiftAppSuspension = t.TypeOf<typeof LiftAppSuspension>;

/** Bans the app (also ends any suspension). */
export const BanApp = t.type({
  type: t.literal('BanApp'),
  data: t.type({ appId: t.string, reason: AppBanReason, complaintIds: t.readonlyArray(t.string) }),
  metadata: CommandMetadataCodec,
});
export type BanApp = t.TypeOf<typeof BanApp>;

/** Restores a suspended or banned app; `scoreAfter` absent keeps the current score. */
export const ReinstateApp = t.type({
  type: t.literal('ReinstateApp'),
  data: t.intersection([
    t.type({ appId: t.string }),
    t.partial({ note: t.string, scoreAfter: Int }),
  ]),
  metadata: CommandMetadataCodec,
});
export type ReinstateApp = t.TypeOf<typeof ReinstateApp>;

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
]);
export type AppCommand = t.TypeOf<typeof AppCommandCodec>;

/** The type names of App commands, read off the codecs. */
export const appCommandTypes: readonly AppCommand['type'][] = AppCommandCodec.types.map(
  (codec) => codec.props.type.value,
);

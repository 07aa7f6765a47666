import * as t from 'io-ts';
import { CommandMetadataCodec, IsoTime } from '../shared/codecs.js';
import { BindingLevel, ConsentLevel } from './bindingEvents.js';

/**
 * Records a person's consent. The caller derives `bindingId` from (appId, openid), so consenting
 * again lands on the same stream, and makes a new key, passing only its hash. The decider picks
 * BindingAuthorized for a new binding and BindingReauthorized for an existing one.
 */
export const AuthorizeBinding = t.type({
  type: t.literal('AuthorizeBinding'),
  data: t.type({
    bindingId: t.string,
    appId: t.string,
    recipientId: t.string,
    openid: t.string,
    level: ConsentLevel,
    keyHash: t.string,
  }),
  metadata: CommandMetadataCodec,
});
export type AuthorizeBinding = t.TypeOf<typeof AuthorizeBinding>;

/**
 * Every command below is made by the person who owns the binding; `recipientId` names them, and
 * a binding owned by someone else answers `not_found`, exactly like a missing one.
 */
const ownedBinding = { bindingId: t.string, recipientId: t.string };

/** Changes how loudly the app may reach the person. */
export const ChangeBindingLevel = t.type({
  type: t.literal('ChangeBindingLevel'),
  data: t.type({ ...ownedBinding, level: BindingLevel }),
  metadata: CommandMetadataCodec,
});
export type ChangeBindingLevel = t.TypeOf<typeof ChangeBindingLevel>;

/** Mutes the app until `until` (must be later than `now`). */
export const MuteBinding = t.type({
  type: t.literal('MuteBinding'),
  data: t.type({ ...ownedBinding, until: IsoTime }),
  metadata: CommandMetadataCodec,
});
export type MuteBinding = t.TypeOf<typeof MuteBinding>;

/** Ends a mute early. */
export const UnmuteBinding = t.type({
  type: t.literal('UnmuteBinding'),
  data: t.type(ownedBinding),
  metadata: CommandMetadataCodec,
});
export type UnmuteBinding = t.TypeOf<typeof UnmuteBinding>;

/** Blocks the app's messages without unbinding. */
export const BlockBinding = t.type({
  type: t.literal('BlockBinding'),
  data: t.type(ownedBinding),
  metadata: CommandMetadataCodec,
});
export type BlockBinding = t.TypeOf<typeof BlockBinding>;

/** Lifts a block. */
export const UnblockBinding = t.type({
  type: t.literal('UnblockBinding'),
  data: t.type(ownedBinding),
  metadata: CommandMetadataCodec,
});
export type UnblockBinding = t.TypeOf<typeof UnblockBinding>;

/** Unbinds the app (API: `DELETE /v1/me/apps/:bindingId`). */
export const RevokeBinding = t.type({
  type: t.literal('RevokeBinding'),
  data: t.type(ownedBinding),
  metadata: CommandMetadataCodec,
});
export type RevokeBinding = t.TypeOf<typeof RevokeBinding>;

/** Every command of the Binding aggregate. */
export const BindingCommandCodec = t.union([
  AuthorizeBinding,
  ChangeBindingLevel,
  MuteBinding,
  UnmuteBinding,
  BlockBinding,
  UnblockBinding,
  RevokeBinding,
]);
export type BindingCommand = t.TypeOf<typeof BindingCommandCodec>;

/** The type names of Binding commands, read off the codecs. */
export const bindingCommandTypes: readonly BindingCommand['type'][] = BindingCommandCodec.types.map(
  (codec) => codec.props.type.value,
);

import * as t from 'io-ts';
import { commandCodec, IsoTime, typeNamesOf } from '../shared/codecs.js';
import { BindingLevel, ConsentLevel } from './bindingEvents.js';

/**
 * Records a person's consent. The caller derives `bindingId` from (appId, openid), so consenting
 * again lands on the same stream, and makes a new key, passing only its hash. The decider picks
 * BindingAuthorized for a new binding and BindingReauthorized for an existing one.
 */
export const AuthorizeBinding = commandCodec(
  'AuthorizeBinding',
  t.type({
    bindingId: t.string,
    appId: t.string,
    recipientId: t.string,
    openid: t.string,
    level: ConsentLevel,
    keyHash: t.string,
  }),
);
export type AuthorizeBinding = t.TypeOf<typeof AuthorizeBinding>;

/**
 * Every command below is made by the person who owns the binding; `recipientId` names them, and
 * a binding owned by someone else answers `not_found`, exactly like a missing one.
 */
const ownedBinding = { bindingId: t.string, recipientId: t.string };

/** Changes how loudly the app may reach the person. */
export const ChangeBindingLevel = commandCodec(
  'ChangeBindingLevel',
  t.type({ ...ownedBinding, level: BindingLevel }),
);
export type ChangeBindingLevel = t.TypeOf<typeof ChangeBindingLevel>;

/** Mutes the app until `until` (must be later than `now`). */
export const MuteBinding = commandCodec('MuteBinding', t.type({ ...ownedBinding, until: IsoTime }));
export type MuteBinding = t.TypeOf<typeof MuteBinding>;

/** Ends a mute early. */
export const UnmuteBinding = commandCodec('UnmuteBinding', t.type(ownedBinding));
export type UnmuteBinding = t.TypeOf<typeof UnmuteBinding>;

/** Blocks the app's messages without unbinding. */
export const BlockBinding = commandCodec('BlockBinding', t.type(ownedBinding));
export type BlockBinding = t.TypeOf<typeof BlockBinding>;

/** Lifts a block. */
export const UnblockBinding = commandCodec('UnblockBinding', t.type(ownedBinding));
export type UnblockBinding = t.TypeOf<typeof UnblockBinding>;

/**
 * Chooses the devices the app's strong messages reach (`null`: all of the person's working
 * devices). The edge has checked that each id is one of the person's devices.
 */
export const ChooseBindingDevices = commandCodec(
  'ChooseBindingDevices',
  t.type({ ...ownedBinding, devices: t.union([t.readonlyArray(t.string), t.null]) }),
);
export type ChooseBindingDevices = t.TypeOf<typeof ChooseBindingDevices>;

/** Unbinds the app (API: `DELETE /v1/me/apps/:bindingId`). */
export const RevokeBinding = commandCodec('RevokeBinding', t.type(ownedBinding));
export type RevokeBinding = t.TypeOf<typeof RevokeBinding>;

/** Every command of the Binding aggregate. */
export const BindingCommandCodec = t.union([
  AuthorizeBinding,
  ChangeBindingLevel,
  MuteBinding,
  UnmuteBinding,
  BlockBinding,
  UnblockBinding,
  ChooseBindingDevices,
  RevokeBinding,
]);
export type BindingCommand = t.TypeOf<typeof BindingCommandCodec>;

/** The type names of Binding commands, read off the codecs. */
export const bindingCommandTypes: readonly BindingCommand['type'][] =
  typeNamesOf(BindingCommandCodec);

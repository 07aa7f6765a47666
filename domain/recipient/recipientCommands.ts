import * as t from 'io-ts';
import { commandCodec, IsoTime, typeNamesOf, withOptional } from '../shared/codecs.js';
import { DeviceSettingValues, SealedSecrets } from './recipientEvents.js';
import { Preferences } from './recipientPreferences.js';

/**
 * Creates a person's account. The caller makes the id, hashes the password, and makes sure the
 * username is free (uniqueness spans streams, so one decider cannot promise it).
 */
export const RegisterRecipient = commandCodec(
  'RegisterRecipient',
  t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
);
export type RegisterRecipient = t.TypeOf<typeof RegisterRecipient>;

/**
 * Adds a device of channel `kind`. The edge has checked the settings against the channel's
 * declarations and the outbound guard, made `deviceId`, sealed the secret settings and made the
 * fingerprint; the decider sees no secret in clear.
 */
export const AddDevice = commandCodec(
  'AddDevice',
  t.type({
    recipientId: t.string,
    deviceId: t.string,
    kind: t.string,
    name: t.string,
    settings: DeviceSettingValues,
    secrets: SealedSecrets,
    fingerprint: t.string,
  }),
);
export type AddDevice = t.TypeOf<typeof AddDevice>;

/** Saves a device again with its whole new name, settings and secrets (checked as for AddDevice). */
export const UpdateDevice = commandCodec(
  'UpdateDevice',
  t.type({
    recipientId: t.string,
    deviceId: t.string,
    name: t.string,
    settings: DeviceSettingValues,
    secrets: SealedSecrets,
    fingerprint: t.string,
  }),
);
export type UpdateDevice = t.TypeOf<typeof UpdateDevice>;

/** Removes one of the person's devices. */
export const RemoveDevice = commandCodec(
  'RemoveDevice',
  t.type({ recipientId: t.string, deviceId: t.string }),
);
export type RemoveDevice = t.TypeOf<typeof RemoveDevice>;

/**
 * The delivery worker reports that a device's channel refused it for good (docs/plugins.md:
 * `device_unknown`); `fingerprint` is that of the configuration the refused push used. Ignored
 * when the person has saved the device differently since, or removed it.
 */
export const MarkDeviceBroken = commandCodec(
  'MarkDeviceBroken',
  t.type({ recipientId: t.string, deviceId: t.string, fingerprint: t.string, reason: t.string }),
);
export type MarkDeviceBroken = t.TypeOf<typeof MarkDeviceBroken>;

/**
 * Records a login: the edge has checked the password and made the session id; only its hash
 * comes here. The session lasts until `expiresAt` (must be after `now`).
 */
export const StartSession = commandCodec(
  'StartSession',
  t.type({ recipientId: t.string, sessionHash: t.string, expiresAt: IsoTime }),
);
export type StartSession = t.TypeOf<typeof StartSession>;

/** Ends one session (logout); ending a session that is not open changes nothing. */
export const EndSession = commandCodec(
  'EndSession',
  t.type({ recipientId: t.string, sessionHash: t.string }),
);
export type EndSession = t.TypeOf<typeof EndSession>;

/** Deletes the account (docs/audit.md, "Erasure"); deleting a deleted account changes nothing. */
export const EraseRecipient = commandCodec(
  'EraseRecipient',
  withOptional(
    { recipientId: t.string, by: t.keyof({ self: null, operator: null }) },
    { reason: t.string },
  ),
);
export type EraseRecipient = t.TypeOf<typeof EraseRecipient>;

/**
 * The erasure processor records which events' data it is about to erase (positions in the log)
 * and the digest of each one's erased data; only for a deleted account.
 */
export const RecordDataErased = commandCodec(
  'RecordDataErased',
  t.type({
    recipientId: t.string,
    events: t.readonlyArray(t.type({ position: t.number, dataDigest: t.string })),
  }),
);
export type RecordDataErased = t.TypeOf<typeof RecordDataErased>;

/**
 * Saves the person's preferences as a whole (language, time zone, quiet hours, digest). Refused
 * with `validation_failed`, naming each field, when one cannot be saved (`preferenceProblems`).
 */
export const SetPreferences = commandCodec(
  'SetPreferences',
  t.type({ recipientId: t.string, preferences: Preferences }),
);
export type SetPreferences = t.TypeOf<typeof SetPreferences>;

/** Every command of the Recipient aggregate. */
export const RecipientCommandCodec = t.union([
  RegisterRecipient,
  AddDevice,
  UpdateDevice,
  RemoveDevice,
  MarkDeviceBroken,
  StartSession,
  EndSession,
  SetPreferences,
  EraseRecipient,
  RecordDataErased,
]);
export type RecipientCommand = t.TypeOf<typeof RecipientCommandCodec>;

/** The type names of Recipient commands, read off the codecs. */
export const recipientCommandTypes: readonly RecipientCommand['type'][] =
  typeNamesOf(RecipientCommandCodec);

import * as t from 'io-ts';
import { eventCodec, HttpUrl, IsoTime, typeNamesOf, withOptional } from '../shared/codecs.js';
import { DATA_ERASED_EVENT, ERASED } from '../shared/hashChain.js';
import { Preferences } from './recipientPreferences.js';

/** A person created an account; only the slow-KDF hash of the password is kept. */
export const RecipientRegistered = eventCodec(
  'RecipientRegistered',
  t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
);
export type RecipientRegistered = t.TypeOf<typeof RecipientRegistered>;

/**
 * A value of one device setting: text, a number or a yes/no (the kinds channels declare,
 * channels/channel.ts `SettingValue`).
 */
export const DeviceSettingValue = t.union([t.string, t.number, t.boolean]);
export type DeviceSettingValue = t.TypeOf<typeof DeviceSettingValue>;

/** A device's non-secret settings by the names its channel declares. */
export const DeviceSettingValues = t.readonly(t.record(t.string, DeviceSettingValue));
export type DeviceSettingValues = t.TypeOf<typeof DeviceSettingValues>;

/**
 * A device's secret settings, each SEALED (encrypted with the data folder's device key,
 * `v1.<…>`): never the clear value, so the log can be read, exported and backed up without them.
 */
export const SealedSecrets = t.readonly(t.record(t.string, t.string));
export type SealedSecrets = t.TypeOf<typeof SealedSecrets>;

/**
 * The person added a device of a channel `kind`. `fingerprint` is a keyed hash over all its
 * settings, secrets included, so the same device saved again is recognised without the secrets.
 */
export const RecipientDeviceAdded = eventCodec(
  'RecipientDeviceAdded',
  t.type({
    recipientId: t.string,
    deviceId: t.string,
    kind: t.string,
    name: t.string,
    settings: DeviceSettingValues,
    secrets: SealedSecrets,
    fingerprint: t.string,
    addedAt: IsoTime,
  }),
);
export type RecipientDeviceAdded = t.TypeOf<typeof RecipientDeviceAdded>;

/**
 * The person saved a device again: name, settings and secrets replace the old ones as a whole,
 * and a broken device works again (saving it is how the person says it does).
 */
export const RecipientDeviceUpdated = eventCodec(
  'RecipientDeviceUpdated',
  t.type({
    recipientId: t.string,
    deviceId: t.string,
    name: t.string,
    settings: DeviceSettingValues,
    secrets: SealedSecrets,
    fingerprint: t.string,
  }),
);
export type RecipientDeviceUpdated = t.TypeOf<typeof RecipientDeviceUpdated>;

/** The person removed a device; nothing more is pushed to it. */
export const RecipientDeviceRemoved = eventCodec(
  'RecipientDeviceRemoved',
  t.type({ recipientId: t.string, deviceId: t.string }),
);
export type RecipientDeviceRemoved = t.TypeOf<typeof RecipientDeviceRemoved>;

/**
 * The device's channel refused it for good (`device_unknown`): nothing is pushed to it until the
 * person saves it again. Written for every kind, the legacy Bark device (`bark`) included.
 */
export const RecipientDeviceBroken = eventCodec(
  'RecipientDeviceBroken',
  t.type({ recipientId: t.string, deviceId: t.string, reason: t.string }),
);
export type RecipientDeviceBroken = t.TypeOf<typeof RecipientDeviceBroken>;

/**
 * LEGACY (no longer written; still folded): the person set (or replaced) the Bark device that
 * strong pushes go to, its key in clear. It folds into the device list as the device `bark`.
 */
export const RecipientBarkDeviceSet = eventCodec(
  'RecipientBarkDeviceSet',
  // An erased person's events read `[erased]` where their data was (docs/audit.md, "Erasure").
  t.type({
    recipientId: t.string,
    serverUrl: t.union([HttpUrl, t.literal(ERASED)]),
    deviceKey: t.string,
  }),
);
export type RecipientBarkDeviceSet = t.TypeOf<typeof RecipientBarkDeviceSet>;

/** LEGACY (no longer written; still folded): the person removed their Bark device. */
export const RecipientBarkDeviceRemoved = eventCodec(
  'RecipientBarkDeviceRemoved',
  t.type({ recipientId: t.string }),
);
export type RecipientBarkDeviceRemoved = t.TypeOf<typeof RecipientBarkDeviceRemoved>;

/**
 * LEGACY (no longer written; still folded, RecipientDeviceBroken replaced it):
 * Bark refused this device key for good (it does not know it, or Apple invalidated its token):
 * strong messages reach the inbox only until the person sets a device again.
 */
export const RecipientBarkDeviceBroken = eventCodec(
  'RecipientBarkDeviceBroken',
  t.type({ recipientId: t.string, deviceKey: t.string, reason: t.string }),
);
export type RecipientBarkDeviceBroken = t.TypeOf<typeof RecipientBarkDeviceBroken>;

/**
 * The person logged in. Only the hash of the session id is kept (the id itself is the cookie);
 * `startedAt` lets the state forget sessions that expired before this one began.
 */
export const RecipientSessionStarted = eventCodec(
  'RecipientSessionStarted',
  t.type({ recipientId: t.string, sessionHash: t.string, startedAt: IsoTime, expiresAt: IsoTime }),
);
export type RecipientSessionStarted = t.TypeOf<typeof RecipientSessionStarted>;

/** The person logged out of one session. */
export const RecipientSessionEnded = eventCodec(
  'RecipientSessionEnded',
  t.type({ recipientId: t.string, sessionHash: t.string }),
);
export type RecipientSessionEnded = t.TypeOf<typeof RecipientSessionEnded>;

/**
 * The person saved their preferences; they replace the earlier ones as a whole. Written only
 * when something changed.
 */
export const RecipientPreferencesSet = eventCodec(
  'RecipientPreferencesSet',
  t.type({ recipientId: t.string, preferences: Preferences }),
);
export type RecipientPreferencesSet = t.TypeOf<typeof RecipientPreferencesSet>;

/**
 * The person's account was deleted, by themselves (`self`, `DELETE /v1/me`) or by an operator
 * (`operator`, `DELETE /v1/admin/recipients/:id`, with a reason). From here on the account takes
 * no command; the erasure processor then revokes the person's bindings and erases their personal
 * data from the log (docs/audit.md, "Erasure").
 */
export const RecipientErased = eventCodec(
  'RecipientErased',
  withOptional(
    { recipientId: t.string, by: t.keyof({ self: null, operator: null }) },
    { reason: t.string },
  ),
);
export type RecipientErased = t.TypeOf<typeof RecipientErased>;

/**
 * The data of the listed events (all before this one) was erased: the person's fields read
 * `[erased]`, and each event's erased data has the digest listed, which the chain's verifier
 * accepts in place of the digest the chain covers (domain/shared/hashChain.ts). Written before
 * the data is rewritten, so a crash in between leaves nothing unexplained; one erasure may write
 * several (at most 2,000 events each).
 */
export const RecipientDataErased = eventCodec(
  DATA_ERASED_EVENT,
  t.type({
    recipientId: t.string,
    events: t.readonlyArray(t.type({ position: t.number, dataDigest: t.string })),
  }),
);
export type RecipientDataErased = t.TypeOf<typeof RecipientDataErased>;

/** Every event of the Recipient aggregate (stream `recipient-<recipientId>`). */
export const RecipientEventCodec = t.union([
  RecipientRegistered,
  RecipientBarkDeviceSet,
  RecipientBarkDeviceRemoved,
  RecipientBarkDeviceBroken,
  RecipientDeviceAdded,
  RecipientDeviceUpdated,
  RecipientDeviceRemoved,
  RecipientDeviceBroken,
  RecipientSessionStarted,
  RecipientSessionEnded,
  RecipientPreferencesSet,
  RecipientErased,
  RecipientDataErased,
]);
export type RecipientEvent = t.TypeOf<typeof RecipientEventCodec>;

/** The type names of Recipient events, read off the codecs. */
export const recipientEventTypes: readonly RecipientEvent['type'][] =
  typeNamesOf(RecipientEventCodec);

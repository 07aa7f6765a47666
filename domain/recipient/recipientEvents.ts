import * as t from 'io-ts';
import { eventCodec, HttpUrl, IsoTime, typeNamesOf } from '../shared/codecs.js';

/** A person created an account; only the slow-KDF hash of the password is kept. */
export const RecipientRegistered = eventCodec(
  'RecipientRegistered',
  t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
);
export type RecipientRegistered = t.TypeOf<typeof RecipientRegistered>;

/** The person set (or replaced) the Bark device that strong pushes go to. */
export const RecipientBarkDeviceSet = eventCodec(
  'RecipientBarkDeviceSet',
  t.type({ recipientId: t.string, serverUrl: HttpUrl, deviceKey: t.string }),
);
export type RecipientBarkDeviceSet = t.TypeOf<typeof RecipientBarkDeviceSet>;

/** The person removed their Bark device; strong messages reach the inbox only. */
export const RecipientBarkDeviceRemoved = eventCodec(
  'RecipientBarkDeviceRemoved',
  t.type({ recipientId: t.string }),
);
export type RecipientBarkDeviceRemoved = t.TypeOf<typeof RecipientBarkDeviceRemoved>;

/**
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

/** Every event of the Recipient aggregate (stream `recipient-<recipientId>`). */
export const RecipientEventCodec = t.union([
  RecipientRegistered,
  RecipientBarkDeviceSet,
  RecipientBarkDeviceRemoved,
  RecipientBarkDeviceBroken,
  RecipientSessionStarted,
  RecipientSessionEnded,
]);
export type RecipientEvent = t.TypeOf<typeof RecipientEventCodec>;

/** The type names of Recipient events, read off the codecs. */
export const recipientEventTypes: readonly RecipientEvent['type'][] =
  typeNamesOf(RecipientEventCodec);

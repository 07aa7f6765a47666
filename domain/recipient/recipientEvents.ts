import * as t from 'io-ts';
import { eventCodec, HttpUrl, typeNamesOf } from '../shared/codecs.js';

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

/** Every event of the Recipient aggregate (stream `recipient-<recipientId>`). */
export const RecipientEventCodec = t.union([
  RecipientRegistered,
  RecipientBarkDeviceSet,
  RecipientBarkDeviceRemoved,
]);
export type RecipientEvent = t.TypeOf<typeof RecipientEventCodec>;

/** The type names of Recipient events, read off the codecs. */
export const recipientEventTypes: readonly RecipientEvent['type'][] =
  typeNamesOf(RecipientEventCodec);

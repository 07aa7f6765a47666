import * as t from 'io-ts';
import { HttpUrl } from '../shared/codecs.js';

/** A person created an account; only the slow-KDF hash of the password is kept. */
export const RecipientRegistered = t.type({
  type: t.literal('RecipientRegistered'),
  data: t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
});
export type RecipientRegistered = t.TypeOf<typeof RecipientRegistered>;

/** The person set (or replaced) the Bark device that strong pushes go to. */
export const RecipientBarkDeviceSet = t.type({
  type: t.literal('RecipientBarkDeviceSet'),
  data: t.type({ recipientId: t.string, serverUrl: HttpUrl, deviceKey: t.string }),
});
export type RecipientBarkDeviceSet = t.TypeOf<typeof RecipientBarkDeviceSet>;

/** The person removed their Bark device; strong messages reach the inbox only. */
export const RecipientBarkDeviceRemoved = t.type({
  type: t.literal('RecipientBarkDeviceRemoved'),
  data: t.type({ recipientId: t.string }),
});
export type RecipientBarkDeviceRemoved = t.TypeOf<typeof RecipientBarkDeviceRemoved>;

/** Every event of the Recipient aggregate (stream `recipient-<recipientId>`). */
export const RecipientEventCodec = t.union([
  RecipientRegistered,
  RecipientBarkDeviceSet,
  RecipientBarkDeviceRemoved,
]);
export type RecipientEvent = t.TypeOf<typeof RecipientEventCodec>;

/** The type names of Recipient events, read off the codecs. */
export const recipientEventTypes: readonly RecipientEvent['type'][] = RecipientEventCodec.types.map(
  (codec) => codec.props.type.value,
);

import * as t from 'io-ts';
import { CommandMetadataCodec, HttpUrl } from '../shared/codecs.js';

/**
 * Creates a person's account. The caller makes the id, hashes the password, and makes sure the
 * username is free (uniqueness spans streams, so one decider cannot promise it).
 */
export const RegisterRecipient = t.type({
  type: t.literal('RegisterRecipient'),
  data: t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
  metadata: CommandMetadataCodec,
});
export type RegisterRecipient = t.TypeOf<typeof RegisterRecipient>;

/** Sets the person's Bark device; the edge has already refused forbidden destinations. */
export const SetBarkDevice = t.type({
  type: t.literal('SetBarkDevice'),
  data: t.type({ recipientId: t.string, serverUrl: HttpUrl, deviceKey: t.string }),
  metadata: CommandMetadataCodec,
});
export type SetBarkDevice = t.TypeOf<typeof SetBarkDevice>;

/** Removes the person's Bark device. */
export const RemoveBarkDevice = t.type({
  type: t.literal('RemoveBarkDevice'),
  data: t.type({ recipientId: t.string }),
  metadata: CommandMetadataCodec,
});
export type RemoveBarkDevice = t.TypeOf<typeof RemoveBarkDevice>;

/** Every command of the Recipient aggregate. */
export const RecipientCommandCodec = t.union([RegisterRecipient, SetBarkDevice, RemoveBarkDevice]);
export type RecipientCommand = t.TypeOf<typeof RecipientCommandCodec>;

/** The type names of Recipient commands, read off the codecs. */
export const recipientCommandTypes: readonly RecipientCommand['type'][] =
  RecipientCommandCodec.types.map((codec) => codec.props.type.value);

import * as t from 'io-ts';
import { commandCodec, HttpUrl, IsoTime, typeNamesOf } from '../shared/codecs.js';

/**
 * Creates a person's account. The caller makes the id, hashes the password, and makes sure the
 * username is free (uniqueness spans streams, so one decider cannot promise it).
 */
export const RegisterRecipient = commandCodec(
  'RegisterRecipient',
  t.type({ recipientId: t.string, username: t.string, passwordHash: t.string }),
);
export type RegisterRecipient = t.TypeOf<typeof RegisterRecipient>;

/** Sets the person's Bark device; the edge has already refused forbidden destinations. */
export const SetBarkDevice = commandCodec(
  'SetBarkDevice',
  t.type({ recipientId: t.string, serverUrl: HttpUrl, deviceKey: t.string }),
);
export type SetBarkDevice = t.TypeOf<typeof SetBarkDevice>;

/** Removes the person's Bark device. */
export const RemoveBarkDevice = commandCodec('RemoveBarkDevice', t.type({ recipientId: t.string }));
export type RemoveBarkDevice = t.TypeOf<typeof RemoveBarkDevice>;

/**
 * The delivery worker reports that the channel of `kind` refused the person's device for good
 * (docs/plugins.md: `device_unknown`); `settings` are those the refused push used, which name the
 * device. Ignored when the person has set another device of that kind since, or removed it.
 */
export const MarkDeviceBroken = commandCodec(
  'MarkDeviceBroken',
  t.type({
    recipientId: t.string,
    kind: t.string,
    settings: t.readonly(t.record(t.string, t.string)),
    reason: t.string,
  }),
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

/** Every command of the Recipient aggregate. */
export const RecipientCommandCodec = t.union([
  RegisterRecipient,
  SetBarkDevice,
  RemoveBarkDevice,
  MarkDeviceBroken,
  StartSession,
  EndSession,
]);
export type RecipientCommand = t.TypeOf<typeof RecipientCommandCodec>;

/** The type names of Recipient commands, read off the codecs. */
export const recipientCommandTypes: readonly RecipientCommand['type'][] =
  typeNamesOf(RecipientCommandCodec);

import * as t from 'io-ts';
import { commandCodec, typeNamesOf, withOptional } from '../shared/codecs.js';
import { ComplaintCategory, ComplaintSeverity } from './complaintEvents.js';

/**
 * A person complains about a message. The caller derives `complaintId` from (messageId,
 * recipientId), so each person has one complaint stream per message, and has checked that the
 * message was delivered to this person and sent by `appId`.
 */
export const FileComplaint = commandCodec(
  'FileComplaint',
  t.type({
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    recipientId: t.string,
    category: ComplaintCategory,
    reason: t.string,
  }),
);
export type FileComplaint = t.TypeOf<typeof FileComplaint>;

/** An operator upholds an open complaint. */
export const UpholdComplaint = commandCodec(
  'UpholdComplaint',
  withOptional({ complaintId: t.string, severity: ComplaintSeverity }, { note: t.string }),
);
export type UpholdComplaint = t.TypeOf<typeof UpholdComplaint>;

/** An operator dismisses an open complaint. */
export const DismissComplaint = commandCodec(
  'DismissComplaint',
  withOptional({ complaintId: t.string }, { note: t.string }),
);
export type DismissComplaint = t.TypeOf<typeof DismissComplaint>;

/** The person who filed an open complaint takes it back. */
export const WithdrawComplaint = commandCodec(
  'WithdrawComplaint',
  t.type({ complaintId: t.string, recipientId: t.string }),
);
export type WithdrawComplaint = t.TypeOf<typeof WithdrawComplaint>;

/** Every command of the Complaint aggregate. */
export const ComplaintCommandCodec = t.union([
  FileComplaint,
  UpholdComplaint,
  DismissComplaint,
  WithdrawComplaint,
]);
export type ComplaintCommand = t.TypeOf<typeof ComplaintCommandCodec>;

/** The type names of Complaint commands, read off the codecs. */
export const complaintCommandTypes: readonly ComplaintCommand['type'][] =
  typeNamesOf(ComplaintCommandCodec);

import * as t from 'io-ts';
import { CommandMetadataCodec } from '../shared/codecs.js';
import { ComplaintCategory, ComplaintSeverity } from './complaintEvents.js';

/**
 * A person complains about a message. The caller derives `complaintId` from (messageId,
 * recipientId), so each person has one complaint stream per message, and has checked that the
 * message was delivered to this person and sent by `appId`.
 */
export const FileComplaint = t.type({
  type: t.literal('FileComplaint'),
  data: t.type({
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    recipientId: t.string,
    category: ComplaintCategory,
    reason: t.string,
  }),
  metadata: CommandMetadataCodec,
});
export type FileComplaint = t.TypeOf<typeof FileComplaint>;

/** An operator upholds an open complaint. */
export const UpholdComplaint = t.type({
  type: t.literal('UpholdComplaint'),
  data: t.intersection([
    t.type({ complaintId: t.string, severity: ComplaintSeverity }),
    t.partial({ note: t.string }),
  ]),
  metadata: CommandMetadataCodec,
});
export type UpholdComplaint = t.TypeOf<typeof UpholdComplaint>;

/** An operator dismisses an open complaint. */
export const DismissComplaint = t.type({
  type: t.literal('DismissComplaint'),
  data: t.intersection([t.type({ complaintId: t.string }), t.partial({ note: t.string })]),
  metadata: CommandMetadataCodec,
});
export type DismissComplaint = t.TypeOf<typeof DismissComplaint>;

/** The person who filed an open complaint takes it back. */
export const WithdrawComplaint = t.type({
  type: t.literal('WithdrawComplaint'),
  data: t.type({ complaintId: t.string, recipientId: t.string }),
  metadata: CommandMetadataCodec,
});
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
  ComplaintCommandCodec.types.map((codec) => codec.props.type.value);

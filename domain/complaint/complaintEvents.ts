import * as t from 'io-ts';
import { eventCodec, typeNamesOf, withOptional } from '../shared/codecs.js';

/** What the person says is wrong with the message (API: `POST .../complaints`). */
export const ComplaintCategory = t.keyof({ spam: null, fraud: null, abuse: null, other: null });
export type ComplaintCategory = t.TypeOf<typeof ComplaintCategory>;

/** How bad an upheld complaint is; the penalty policy turns it into points. */
export const ComplaintSeverity = t.keyof({ minor: null, major: null, severe: null });
export type ComplaintSeverity = t.TypeOf<typeof ComplaintSeverity>;

/** A person complained about a message an app sent them. */
export const ComplaintFiled = eventCodec(
  'ComplaintFiled',
  t.type({
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    recipientId: t.string,
    category: ComplaintCategory,
    reason: t.string,
  }),
);
export type ComplaintFiled = t.TypeOf<typeof ComplaintFiled>;

/** An operator found the complaint justified; the penalty policy reacts to this. */
export const ComplaintUpheld = eventCodec(
  'ComplaintUpheld',
  withOptional({ complaintId: t.string, severity: ComplaintSeverity }, { note: t.string }),
);
export type ComplaintUpheld = t.TypeOf<typeof ComplaintUpheld>;

/** An operator found the complaint unjustified. */
export const ComplaintDismissed = eventCodec(
  'ComplaintDismissed',
  withOptional({ complaintId: t.string }, { note: t.string }),
);
export type ComplaintDismissed = t.TypeOf<typeof ComplaintDismissed>;

/** The person took the complaint back before it was decided. */
export const ComplaintWithdrawn = eventCodec(
  'ComplaintWithdrawn',
  t.type({ complaintId: t.string }),
);
export type ComplaintWithdrawn = t.TypeOf<typeof ComplaintWithdrawn>;

/** Every event of the Complaint aggregate (stream `complaint-<complaintId>`). */
export const ComplaintEventCodec = t.union([
  ComplaintFiled,
  ComplaintUpheld,
  ComplaintDismissed,
  ComplaintWithdrawn,
]);
export type ComplaintEvent = t.TypeOf<typeof ComplaintEventCodec>;

/** The type names of Complaint events, read off the codecs. */
export const complaintEventTypes: readonly ComplaintEvent['type'][] =
  typeNamesOf(ComplaintEventCodec);

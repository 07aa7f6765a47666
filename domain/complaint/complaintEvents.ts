import * as t from 'io-ts';

/** What the person says is wrong with the message (API: `POST .../complaints`). */
export const ComplaintCategory = t.keyof({ spam: null, fraud: null, abuse: null, other: null });
export type ComplaintCategory = t.TypeOf<typeof ComplaintCategory>;

/** How bad an upheld complaint is; the penalty policy turns it into points. */
export const ComplaintSeverity = t.keyof({ minor: null, major: null, severe: null });
export type ComplaintSeverity = t.TypeOf<typeof ComplaintSeverity>;

/** A person complained about a message an app sent them. */
export const ComplaintFiled = t.type({
  type: t.literal('ComplaintFiled'),
  data: t.type({
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    recipientId: t.string,
    category: ComplaintCategory,
    reason: t.string,
  }),
});
export type ComplaintFiled = t.TypeOf<typeof ComplaintFiled>;

/** An operator found the complaint justified; the penalty policy reacts to this. */
export const ComplaintUpheld = t.type({
  type: t.literal('ComplaintUpheld'),
  data: t.intersection([
    t.type({ complaintId: t.string, severity: ComplaintSeverity }),
    t.partial({ note: t.string }),
  ]),
});
export type ComplaintUpheld = t.TypeOf<typeof ComplaintUpheld>;

/** An operator found the complaint unjustified. */
export const ComplaintDismissed = t.type({
  type: t.literal('ComplaintDismissed'),
  data: t.intersection([t.type({ complaintId: t.string }), t.partial({ note: t.string })]),
});
export type ComplaintDismissed = t.TypeOf<typeof ComplaintDismissed>;

/** The person took the complaint back before it was decided. */
export const ComplaintWithdrawn = t.type({
  type: t.literal('ComplaintWithdrawn'),
  data: t.type({ complaintId: t.string }),
});
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
export const complaintEventTypes: readonly ComplaintEvent['type'][] = ComplaintEventCodec.types.map(
  (codec) => codec.props.type.value,
);

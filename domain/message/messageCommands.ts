import * as t from 'io-ts';
import {
  commandCodec,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';
import {
  MessagePushDropped,
  MessagePushMerged,
  MessagePushReleased,
  MessageRouting,
  MessageSubmission,
  MessageSuppressionReason,
} from './messageEvents.js';

/**
 * Facts the command handler looked up about the binding when the app sent the message. The
 * decider trusts them: it cannot read other streams.
 */
export const SubmittedBindingFacts = t.type({
  status: t.keyof({ active: null, revoked: null }),
  level: t.keyof({ strong: null, weak: null, none: null }),
  blocked: t.boolean,
});
export type SubmittedBindingFacts = t.TypeOf<typeof SubmittedBindingFacts>;

/** Facts the command handler looked up about the sending app's standing. */
export const SubmittedAppFacts = withOptional(
  { status: t.keyof({ active: null, suspended: null, banned: null }) },
  { suspendedUntil: IsoTime },
);
export type SubmittedAppFacts = t.TypeOf<typeof SubmittedAppFacts>;

/**
 * An app sends a message. `data` is the submission (recorded as is) plus the looked-up `binding`
 * and `app` facts (used to decide, never recorded). The caller makes `messageId`.
 */
export const SubmitMessage = commandCodec(
  'SubmitMessage',
  t.intersection([
    MessageSubmission,
    t.type({ binding: SubmittedBindingFacts, app: SubmittedAppFacts }),
  ]),
);
export type SubmitMessage = t.TypeOf<typeof SubmitMessage>;

/** A moderation policy approves the message (an operator's approval is `ApproveHeldMessage`). */
export const ApproveMessage = commandCodec(
  'ApproveMessage',
  t.type({ messageId: t.string, policy: t.string }),
);
export type ApproveMessage = t.TypeOf<typeof ApproveMessage>;

/** A moderation policy rejects the message (an operator's rejection is `RejectHeldMessage`). */
export const RejectMessage = commandCodec(
  'RejectMessage',
  t.type({ messageId: t.string, policy: t.string, reason: t.string }),
);
export type RejectMessage = t.TypeOf<typeof RejectMessage>;

/**
 * An operator approves a message a policy held for review (docs/api.md, "Operator"); recorded as
 * the verdict of policy `operator`. Only a held message can be approved this way.
 */
export const ApproveHeldMessage = commandCodec(
  'ApproveHeldMessage',
  t.type({ messageId: t.string }),
);
export type ApproveHeldMessage = t.TypeOf<typeof ApproveHeldMessage>;

/** An operator rejects a message a policy held for review; only a held message. */
export const RejectHeldMessage = commandCodec(
  'RejectHeldMessage',
  t.type({ messageId: t.string, reason: t.string }),
);
export type RejectHeldMessage = t.TypeOf<typeof RejectHeldMessage>;

/** A moderation policy asks an operator to decide. */
export const HoldMessage = commandCodec(
  'HoldMessage',
  t.type({ messageId: t.string, policy: t.string, reason: t.string }),
);
export type HoldMessage = t.TypeOf<typeof HoldMessage>;

/** Parks an approved message until its `deliverAt` (which must still be ahead). */
export const ScheduleMessage = commandCodec('ScheduleMessage', t.type({ messageId: t.string }));
export type ScheduleMessage = t.TypeOf<typeof ScheduleMessage>;

/** Sends a scheduled message to delivery once `deliverAt` has come. */
export const ReleaseMessage = commandCodec('ReleaseMessage', t.type({ messageId: t.string }));
export type ReleaseMessage = t.TypeOf<typeof ReleaseMessage>;

/** Stops a not yet delivered message, e.g. when the delivery router finds the binding blocked. */
export const SuppressMessage = commandCodec(
  'SuppressMessage',
  t.type({ messageId: t.string, reason: MessageSuppressionReason }),
);
export type SuppressMessage = t.TypeOf<typeof SuppressMessage>;

/**
 * The delivery router sends a due message to the channels it chose (see `decideDelivery`). The
 * inbox is delivered in the same step; device channels report back with `RecordDelivery`.
 */
export const RouteMessage = commandCodec('RouteMessage', MessageRouting);
export type RouteMessage = t.TypeOf<typeof RouteMessage>;

/** A routed channel reports success. */
export const RecordDelivery = commandCodec(
  'RecordDelivery',
  t.type({ messageId: t.string, channel: t.string, attempt: PositiveInt }),
);
export type RecordDelivery = t.TypeOf<typeof RecordDelivery>;

/** A routed channel reports a failed try; `retryAt` when another try is planned. */
export const RecordDeliveryFailure = commandCodec(
  'RecordDeliveryFailure',
  withOptional(
    { messageId: t.string, channel: t.string, attempt: PositiveInt, error: t.string },
    { retryAt: IsoTime },
  ),
);
export type RecordDeliveryFailure = t.TypeOf<typeof RecordDeliveryFailure>;

/**
 * The router gives up on one routed channel. `attempts` and `lastError` come with the command because a
 * channel's permanent refusal may end delivery without any failure having been recorded.
 */
export const AbandonDelivery = commandCodec(
  'AbandonDelivery',
  t.type({
    messageId: t.string,
    channel: t.string,
    attempts: NonNegativeInt,
    lastError: t.string,
  }),
);
export type AbandonDelivery = t.TypeOf<typeof AbandonDelivery>;

/** The person marks a message in their inbox read. */
export const MarkMessageRead = commandCodec(
  'MarkMessageRead',
  t.type({ messageId: t.string, recipientId: t.string }),
);
export type MarkMessageRead = t.TypeOf<typeof MarkMessageRead>;

/** The person removes a message from their inbox. */
export const ArchiveMessage = commandCodec(
  'ArchiveMessage',
  t.type({ messageId: t.string, recipientId: t.string }),
);
export type ArchiveMessage = t.TypeOf<typeof ArchiveMessage>;

/** The sending app cancels a message that is still waiting for its delivery time. */
export const CancelMessage = commandCodec(
  'CancelMessage',
  t.type({ messageId: t.string, appId: t.string }),
);
export type CancelMessage = t.TypeOf<typeof CancelMessage>;

/** The sending app recalls a delivered message. */
export const RecallMessage = commandCodec(
  'RecallMessage',
  t.type({ messageId: t.string, appId: t.string }),
);
export type RecallMessage = t.TypeOf<typeof RecallMessage>;

/**
 * Quiet hours ended: the deferred push of the message goes out on `channels` (a summary push of
 * `summaryOf` messages when more than one of the app's waited).
 */
export const ReleaseDeferredPush = commandCodec(
  'ReleaseDeferredPush',
  MessagePushReleased.props.data,
);
export type ReleaseDeferredPush = t.TypeOf<typeof ReleaseDeferredPush>;

/** Quiet hours ended: the deferred push of the message is folded into the summary push of `into`. */
export const MergeDeferredPush = commandCodec('MergeDeferredPush', MessagePushMerged.props.data);
export type MergeDeferredPush = t.TypeOf<typeof MergeDeferredPush>;

/** Quiet hours ended, and the binding, the app or the devices no longer let the push go out. */
export const DropDeferredPush = commandCodec('DropDeferredPush', MessagePushDropped.props.data);
export type DropDeferredPush = t.TypeOf<typeof DropDeferredPush>;

/** Every command of the Message aggregate. */
export const MessageCommandCodec = t.union([
  SubmitMessage,
  ApproveMessage,
  RejectMessage,
  ApproveHeldMessage,
  RejectHeldMessage,
  HoldMessage,
  ScheduleMessage,
  ReleaseMessage,
  SuppressMessage,
  RouteMessage,
  RecordDelivery,
  RecordDeliveryFailure,
  AbandonDelivery,
  MarkMessageRead,
  ArchiveMessage,
  CancelMessage,
  RecallMessage,
  ReleaseDeferredPush,
  MergeDeferredPush,
  DropDeferredPush,
]);
export type MessageCommand = t.TypeOf<typeof MessageCommandCodec>;

/** The type names of Message commands, read off the codecs. */
export const messageCommandTypes: readonly MessageCommand['type'][] =
  typeNamesOf(MessageCommandCodec);

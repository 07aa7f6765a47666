import * as t from 'io-ts';
import { CommandMetadataCodec, IsoTime, NonNegativeInt, PositiveInt } from '../shared/codecs.js';
import { MessageSubmission, MessageSuppressionReason } from './messageEvents.js';

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
export const SubmittedAppFacts = t.intersection([
  t.type({ status: t.keyof({ active: null, suspended: null, banned: null }) }),
  t.partial({ suspendedUntil: IsoTime }),
]);
export type SubmittedAppFacts = t.TypeOf<typeof SubmittedAppFacts>;

/**
 * An app sends a message. `data` is the submission (recorded as is) plus the looked-up `binding`
 * and `app` facts (used to decide, never recorded). The caller makes `messageId`.
 */
export const SubmitMessage = t.type({
  type: t.literal('SubmitMessage'),
  data: t.intersection([
    MessageSubmission,
    t.type({ binding: SubmittedBindingFacts, app: SubmittedAppFacts }),
  ]),
  metadata: CommandMetadataCodec,
});
export type SubmitMessage = t.TypeOf<typeof SubmitMessage>;

/** A moderation policy (or an operator, policy `operator`) approves the message. */
export const ApproveMessage = t.type({
  type: t.literal('ApproveMessage'),
  data: t.type({ messageId: t.string, policy: t.string }),
  metadata: CommandMetadataCodec,
});
export type ApproveMessage = t.TypeOf<typeof ApproveMessage>;

/** A moderation policy (or an operator) rejects the message. */
export const RejectMessage = t.type({
  type: t.literal('RejectMessage'),
  data: t.type({ messageId: t.string, policy: t.string, reason: t.string }),
  metadata: CommandMetadataCodec,
});
export type RejectMessage = t.TypeOf<typeof RejectMessage>;

/** A moderation policy asks an operator to decide. */
export const HoldMessage = t.type({
  type: t.literal('HoldMessage'),
  data: t.type({ messageId: t.string, policy: t.string, reason: t.string }),
  metadata: CommandMetadataCodec,
});
export type HoldMessage = t.TypeOf<typeof HoldMessage>;

/** Parks an approved message until its `deliverAt` (which must still be ahead). */
export const ScheduleMessage = t.type({
  type: t.literal('ScheduleMessage'),
  data: t.type({ messageId: t.string }),
  metadata: CommandMetadataCodec,
});
export type ScheduleMessage = t.TypeOf<typeof ScheduleMessage>;

/** Sends a scheduled message to delivery once `deliverAt` has come. */
export const ReleaseMessage = t.type({
  type: t.literal('ReleaseMessage'),
  data: t.type({ messageId: t.string }),
  metadata: CommandMetadataCodec,
});
export type ReleaseMessage = t.TypeOf<typeof ReleaseMessage>;

/** Stops a not yet delivered message, e.g. when the delivery router finds the binding blocked. */
export const SuppressMessage = t.type({
  type: t.literal('SuppressMessage'),
  data: t.type({ messageId: t.string, reason: MessageSuppressionReason }),
  metadata: CommandMetadataCodec,
});
export type SuppressMessage = t.TypeOf<typeof SuppressMessage>;

/** A channel reports success. */
export const RecordDelivery = t.type({
  type: t.literal('RecordDelivery'),
  data: t.type({ messageId: t.string, channel: t.string, attempt: PositiveInt }),
  metadata: CommandMetadataCodec,
});
export type RecordDelivery = t.TypeOf<typeof RecordDelivery>;

/** A channel reports a failed try; `retryAt` when another try is planned. */
export const RecordDeliveryFailure = t.type({
  type: t.literal('RecordDeliveryFailure'),
  data: t.intersection([
    t.type({ messageId: t.string, channel: t.string, attempt: PositiveInt, error: t.string }),
    t.partial({ retryAt: IsoTime }),
  ]),
  metadata: CommandMetadataCodec,
});
export type RecordDeliveryFailure = t.TypeOf<typeof RecordDeliveryFailure>;

/**
 * The router gives up on one channel. `attempts` and `lastError` come with the command because a
 * channel's permanent refusal may end delivery without any failure having been recorded.
 */
export const AbandonDelivery = t.type({
  type: t.literal('AbandonDelivery'),
  data: t.type({
    messageId: t.string,
    channel: t.string,
    attempts: NonNegativeInt,
    lastError: t.string,
  }),
  metadata: CommandMetadataCodec,
});
export type AbandonDelivery = t.TypeOf<typeof AbandonDelivery>;

/** The person marks a message in their inbox read. */
export const MarkMessageRead = t.type({
  type: t.literal('MarkMessageRead'),
  data: t.type({ messageId: t.string, recipientId: t.string }),
  metadata: CommandMetadataCodec,
});
export type MarkMessageRead = t.TypeOf<typeof MarkMessageRead>;

/** The person removes a message from their inbox. */
export const ArchiveMessage = t.type({
  type: t.literal('ArchiveMessage'),
  data: t.type({ messageId: t.string, recipientId: t.string }),
  metadata: CommandMetadataCodec,
});
export type ArchiveMessage = t.TypeOf<typeof ArchiveMessage>;

/** The sending app cancels a message that is still waiting for its delivery time. */
export const CancelMessage = t.type({
  type: t.literal('CancelMessage'),
  data: t.type({ messageId: t.string, appId: t.string }),
  metadata: CommandMetadataCodec,
});
export type CancelMessage = t.TypeOf<typeof CancelMessage>;

/** The sending app recalls a delivered message. */
export const RecallMessage = t.type({
  type: t.literal('RecallMessage'),
  data: t.type({ messageId: t.string, appId: t.string }),
  metadata: CommandMetadataCodec,
});
export type RecallMessage = t.TypeOf<typeof RecallMessage>;

/** Every command of the Message aggregate. */
export const MessageCommandCodec = t.union([
  SubmitMessage,
  ApproveMessage,
  RejectMessage,
  HoldMessage,
  ScheduleMessage,
  ReleaseMessage,
  SuppressMessage,
  RecordDelivery,
  RecordDeliveryFailure,
  AbandonDelivery,
  MarkMessageRead,
  ArchiveMessage,
  CancelMessage,
  RecallMessage,
]);
export type MessageCommand = t.TypeOf<typeof MessageCommandCodec>;

/** The type names of Message commands, read off the codecs. */
export const messageCommandTypes: readonly MessageCommand['type'][] = MessageCommandCodec.types.map(
  (codec) => codec.props.type.value,
);

import * as t from 'io-ts';
import {
  eventCodec,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../shared/codecs.js';

/** The app's hint for how a device push should interrupt (Bark's `level`). */
export const MessagePushLevel = t.keyof({ active: null, timeSensitive: null, passive: null });
export type MessagePushLevel = t.TypeOf<typeof MessagePushLevel>;

/** Why a message will not be delivered although nothing was wrong with its content. */
export const MessageSuppressionReason = t.keyof({
  level_none: null,
  blocked: null,
  revoked: null,
  app_suspended: null,
  app_banned: null,
});
export type MessageSuppressionReason = t.TypeOf<typeof MessageSuppressionReason>;

/**
 * The channel every routed message reaches: the person's inbox, which Tidings keeps itself.
 * Every other `channel` of the Message events is a device delivery target
 * (domain/delivery/deliveryTarget.ts: `<kind>:<deviceId>`, or the old logs' bare `bark`).
 */
export const INBOX_CHANNEL = 'inbox';

/**
 * Why a routed message reaches the inbox only, with no device push: the app is `weak` for the
 * person, the person `muted` it, the binding used up its push budget (`over_budget`), the
 * person has no device channel (`no_device`), or it came during the person's quiet hours
 * (`quiet_hours`: the push waits for their end, see {@link DeferredPush}).
 */
export const MessageInboxOnlyReason = t.keyof({
  weak: null,
  muted: null,
  over_budget: null,
  no_device: null,
  quiet_hours: null,
});
export type MessageInboxOnlyReason = t.TypeOf<typeof MessageInboxOnlyReason>;

const isRoutedChannels = (u: unknown): u is readonly string[] => {
  if (!Array.isArray(u)) return false;
  const list: readonly unknown[] = u;
  return (
    list[0] === INBOX_CHANNEL &&
    list.every((channel) => typeof channel === 'string' && channel !== '') &&
    new Set(list).size === list.length
  );
};

/**
 * The channels a message is routed to: the inbox first, then device channels, each once. The
 * inbox is never left out: a message the person should not see is suppressed, not routed.
 */
export const RoutedChannels = new t.Type<readonly string[], readonly string[], unknown>(
  'RoutedChannels',
  isRoutedChannels,
  (u, c) =>
    isRoutedChannels(u)
      ? t.success(u)
      : t.failure(u, c, "expected distinct channel names, 'inbox' first"),
  t.identity,
);

/** Device delivery targets (domain/delivery/deliveryTarget.ts), each once, never the inbox. */
const isDeviceChannels = (u: unknown): u is readonly string[] => {
  if (!Array.isArray(u)) return false;
  const list: readonly unknown[] = u;
  return (
    list.length > 0 &&
    list.every(
      (channel) => typeof channel === 'string' && channel !== '' && channel !== INBOX_CHANNEL,
    ) &&
    new Set(list).size === list.length
  );
};

/** A non-empty list of distinct device delivery targets. */
export const DeviceChannels = new t.Type<readonly string[], readonly string[], unknown>(
  'DeviceChannels',
  isDeviceChannels,
  (u, c) =>
    isDeviceChannels(u)
      ? t.success(u)
      : t.failure(u, c, "expected distinct device channel names, at least one, not 'inbox'"),
  t.identity,
);

/**
 * The device push of a message routed during the person's quiet hours: the devices it would have
 * gone to, and when the quiet hours end. At that time it is released (`MessagePushReleased`),
 * folded into one summary push of the same app (`MessagePushMerged`) or dropped
 * (`MessagePushDropped`), decided again on the facts of then.
 */
export const DeferredPush = t.type({ channels: DeviceChannels, until: IsoTime }, 'DeferredPush');
export type DeferredPush = t.TypeOf<typeof DeferredPush>;

/**
 * Where the delivery router sends a message. `inboxOnly` says why no device channel was chosen;
 * it is absent when device channels are listed. `deferred` comes with `inboxOnly: quiet_hours`
 * and only with it.
 */
export const MessageRouting = withOptional(
  { messageId: t.string, channels: RoutedChannels },
  { inboxOnly: MessageInboxOnlyReason, deferred: DeferredPush },
);
export type MessageRouting = t.TypeOf<typeof MessageRouting>;

/**
 * The content of a message and where it goes, as the app sent it (API: `POST /v1/messages`).
 * `deliverAt` is absent for "now"; the edge turns `delaySeconds` into it. `deviceId` names the
 * one device of the person a device push may go to (a device's test push,
 * `POST /v1/me/devices/:id/test`); apps cannot set it, and without it the binding decides.
 */
export const MessageSubmission = withOptional(
  {
    messageId: t.string,
    appId: t.string,
    bindingId: t.string,
    recipientId: t.string,
    body: t.string,
  },
  {
    title: t.string,
    subtitle: t.string,
    url: t.string,
    thread: t.string,
    level: MessagePushLevel,
    deliverAt: IsoTime,
    deviceId: t.string,
  },
);
export type MessageSubmission = t.TypeOf<typeof MessageSubmission>;

/** An app submitted a message for one binding; moderation comes next. */
export const MessageSubmitted = eventCodec('MessageSubmitted', MessageSubmission);
export type MessageSubmitted = t.TypeOf<typeof MessageSubmitted>;

/** The named moderation policy let the message through. */
export const MessageApproved = eventCodec(
  'MessageApproved',
  t.type({ messageId: t.string, policy: t.string }),
);
export type MessageApproved = t.TypeOf<typeof MessageApproved>;

/** The named moderation policy refused the message; it is never delivered. */
export const MessageRejected = eventCodec(
  'MessageRejected',
  t.type({ messageId: t.string, policy: t.string, reason: t.string }),
);
export type MessageRejected = t.TypeOf<typeof MessageRejected>;

/** The policy could not decide; an operator will approve or reject. */
export const MessageHeldForReview = eventCodec(
  'MessageHeldForReview',
  t.type({ messageId: t.string, policy: t.string, reason: t.string }),
);
export type MessageHeldForReview = t.TypeOf<typeof MessageHeldForReview>;

/** An approved message waits for `deliverAt`. */
export const MessageScheduled = eventCodec(
  'MessageScheduled',
  t.type({ messageId: t.string, deliverAt: IsoTime }),
);
export type MessageScheduled = t.TypeOf<typeof MessageScheduled>;

/** A scheduled message came due and goes to delivery. */
export const MessageReleased = eventCodec('MessageReleased', t.type({ messageId: t.string }));
export type MessageReleased = t.TypeOf<typeof MessageReleased>;

/** The message will not be delivered, by the person's choice or the app's standing. */
export const MessageSuppressed = eventCodec(
  'MessageSuppressed',
  t.type({ messageId: t.string, reason: MessageSuppressionReason }),
);
export type MessageSuppressed = t.TypeOf<typeof MessageSuppressed>;

/**
 * The delivery router chose the message's channels. Only these channels may then deliver; the
 * inbox delivery itself follows in the same decision.
 */
export const MessageRouted = eventCodec('MessageRouted', MessageRouting);
export type MessageRouted = t.TypeOf<typeof MessageRouted>;

/** One channel (e.g. `inbox`, `bark`) delivered the message on its `attempt`-th try. */
export const MessageDelivered = eventCodec(
  'MessageDelivered',
  t.type({ messageId: t.string, channel: t.string, attempt: PositiveInt }),
);
export type MessageDelivered = t.TypeOf<typeof MessageDelivered>;

/** One channel failed on its `attempt`-th try; `retryAt` says when the next try is planned. */
export const MessageDeliveryFailed = eventCodec(
  'MessageDeliveryFailed',
  withOptional(
    { messageId: t.string, channel: t.string, attempt: PositiveInt, error: t.string },
    { retryAt: IsoTime },
  ),
);
export type MessageDeliveryFailed = t.TypeOf<typeof MessageDeliveryFailed>;

/** Delivery on one channel was given up after `attempts` tries. */
export const MessageDeliveryAbandoned = eventCodec(
  'MessageDeliveryAbandoned',
  t.type({
    messageId: t.string,
    channel: t.string,
    attempts: NonNegativeInt,
    lastError: t.string,
  }),
);
export type MessageDeliveryAbandoned = t.TypeOf<typeof MessageDeliveryAbandoned>;

/** The person read the message in their inbox. */
export const MessageRead = eventCodec('MessageRead', t.type({ messageId: t.string }));
export type MessageRead = t.TypeOf<typeof MessageRead>;

/** The person removed the message from their inbox. */
export const MessageArchived = eventCodec('MessageArchived', t.type({ messageId: t.string }));
export type MessageArchived = t.TypeOf<typeof MessageArchived>;

/** The app cancelled the message before it was delivered. */
export const MessageCancelled = eventCodec('MessageCancelled', t.type({ messageId: t.string }));
export type MessageCancelled = t.TypeOf<typeof MessageCancelled>;

/** The app withdrew a delivered message from the inbox and the device. */
export const MessageRecalled = eventCodec('MessageRecalled', t.type({ messageId: t.string }));
export type MessageRecalled = t.TypeOf<typeof MessageRecalled>;

/**
 * The deferred push of a message (quiet hours ended) goes out on `channels`. `summaryOf` counts
 * the waiting messages of the same app this one push stands for, itself included, when more than
 * one: the channels then push a summary ("5 messages from …") instead of the message itself.
 */
export const MessagePushReleased = eventCodec(
  'MessagePushReleased',
  withOptional({ messageId: t.string, channels: DeviceChannels }, { summaryOf: PositiveInt }),
);
export type MessagePushReleased = t.TypeOf<typeof MessagePushReleased>;

/** The deferred push of a message is folded into the summary push of message `into`. */
export const MessagePushMerged = eventCodec(
  'MessagePushMerged',
  t.type({ messageId: t.string, into: t.string }),
);
export type MessagePushMerged = t.TypeOf<typeof MessagePushMerged>;

/**
 * Why a deferred push does not go out when quiet hours end: the binding, the app or the person's
 * devices no longer let it (a suppression or inbox-only reason of routing: unbound, blocked,
 * muted, weak, no device, over budget…), or the person has `seen` the message meanwhile (read,
 * archived or complained about it in the inbox).
 */
export const DeferredPushDropReason = t.union([
  MessageSuppressionReason,
  MessageInboxOnlyReason,
  t.literal('seen'),
]);
export type DeferredPushDropReason = t.TypeOf<typeof DeferredPushDropReason>;

/** The deferred push of a message will not go out (see {@link DeferredPushDropReason}). */
export const MessagePushDropped = eventCodec(
  'MessagePushDropped',
  t.type({ messageId: t.string, reason: DeferredPushDropReason }),
);
export type MessagePushDropped = t.TypeOf<typeof MessagePushDropped>;

/** Every event of the Message aggregate (stream `message-<messageId>`). */
export const MessageEventCodec = t.union([
  MessageSubmitted,
  MessageApproved,
  MessageRejected,
  MessageHeldForReview,
  MessageScheduled,
  MessageReleased,
  MessageSuppressed,
  MessageRouted,
  MessageDelivered,
  MessageDeliveryFailed,
  MessageDeliveryAbandoned,
  MessageRead,
  MessageArchived,
  MessageCancelled,
  MessageRecalled,
  MessagePushReleased,
  MessagePushMerged,
  MessagePushDropped,
]);
export type MessageEvent = t.TypeOf<typeof MessageEventCodec>;

/** The type names of Message events, read off the codecs. */
export const messageEventTypes: readonly MessageEvent['type'][] = typeNamesOf(MessageEventCodec);

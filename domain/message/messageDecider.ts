import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import { addDays, isAfter, isBefore, isSameInstant } from '../shared/time.js';
import type {
  AbandonDelivery,
  ApproveHeldMessage,
  ApproveMessage,
  ArchiveMessage,
  CancelMessage,
  DropDeferredPush,
  HoldMessage,
  MarkMessageRead,
  MergeDeferredPush,
  MessageCommand,
  RecallMessage,
  RecordDelivery,
  RecordDeliveryFailure,
  RejectHeldMessage,
  RejectMessage,
  ReleaseDeferredPush,
  ReleaseMessage,
  RouteMessage,
  ScheduleMessage,
  SubmitMessage,
  SuppressMessage,
} from './messageCommands.js';
import { DeviceChannels, INBOX_CHANNEL, RoutedChannels } from './messageEvents.js';
import type {
  DeferredPush,
  MessageEvent,
  MessageInboxOnlyReason,
  MessageSubmission,
} from './messageEvents.js';

/** How far ahead a message may be scheduled (API: `deliverAt` at most 30 days ahead). */
export const MAX_SCHEDULE_DAYS = 30;

/**
 * Where a message is in its life. `approved` and `released` are both "ready for delivery";
 * `delivered` means at least one channel delivered it. Routing alone does not change the status
 * (a routed message no channel delivered yet is still `approved` or `released`); in practice the
 * inbox delivers in the same decision.
 */
export type MessageStatus =
  | 'submitted'
  | 'held'
  | 'rejected'
  | 'approved'
  | 'scheduled'
  | 'released'
  | 'delivered'
  | 'suppressed'
  | 'cancelled'
  | 'recalled';

/**
 * Delivery on one channel. `pending`: a try failed and another is planned (`retryAt`);
 * `failed`: a try failed and none is planned yet; `delivered` and `abandoned` are final.
 */
export interface ChannelDelivery {
  readonly channel: string;
  readonly status: 'pending' | 'delivered' | 'failed' | 'abandoned';
  /** The highest attempt number reported for this channel. */
  readonly attempts: number;
  readonly lastError?: string;
  readonly retryAt?: string;
}

/** What is known about a submitted message. */
export interface MessageFacts {
  readonly status: MessageStatus;
  readonly submission: MessageSubmission;
  /** The outcome of moderation, once there is one; kept apart so repeats are recognised later. */
  readonly moderation?: 'approved' | 'rejected' | 'held';
  readonly scheduled: boolean;
  readonly released: boolean;
  /** The channels the router chose, inbox first; empty until the message is routed. */
  readonly routedChannels: readonly string[];
  /** Why the router chose the inbox only, when it did. */
  readonly inboxOnly?: MessageInboxOnlyReason;
  /** The device push that waits for the end of quiet hours, until it is released, merged or dropped. */
  readonly deferredPush?: DeferredPush;
  /** What became of a deferred push once quiet hours ended. */
  readonly deferredOutcome?: 'released' | 'merged' | 'dropped';
  readonly deliveries: readonly ChannelDelivery[];
  /**
   * The device channels (every channel but the inbox) that delivered, in order: the pushes a
   * recall must withdraw from the person's devices (Bark: `delete=1` with the same `id`).
   */
  readonly deliveredDeviceChannels: readonly string[];
  readonly read: boolean;
  readonly archived: boolean;
}

/** The Message aggregate's state: nothing submitted yet, or a submitted message. */
export type MessageState = { readonly status: 'empty' } | MessageFacts;

type Decision = E.Either<DomainError, readonly MessageEvent[]>;

/** The stream that holds one message's events. */
export const messageStreamName = (messageId: string): string => `message-${messageId}`;

const initialState = (): MessageState => ({ status: 'empty' });

const deliveryOf = (state: MessageFacts, channel: string): ChannelDelivery | undefined =>
  state.deliveries.find((delivery) => delivery.channel === channel);

const withDelivery = (state: MessageFacts, next: ChannelDelivery): MessageFacts => ({
  ...state,
  deliveries: [...state.deliveries.filter((d) => d.channel !== next.channel), next],
});

const evolve = (state: MessageState, event: MessageEvent): MessageState => {
  if (event.type === 'MessageSubmitted') {
    return {
      status: 'submitted',
      submission: event.data,
      scheduled: false,
      released: false,
      routedChannels: [],
      deliveries: [],
      deliveredDeviceChannels: [],
      read: false,
      archived: false,
    };
  }
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'MessageApproved':
      return { ...state, status: 'approved', moderation: 'approved' };
    case 'MessageRejected':
      return { ...state, status: 'rejected', moderation: 'rejected' };
    case 'MessageHeldForReview':
      return { ...state, status: 'held', moderation: 'held' };
    case 'MessageScheduled':
      return {
        ...state,
        status: 'scheduled',
        scheduled: true,
        submission: { ...state.submission, deliverAt: event.data.deliverAt },
      };
    case 'MessageReleased':
      return { ...state, status: 'released', released: true };
    case 'MessageSuppressed':
      return { ...state, status: 'suppressed' };
    case 'MessageRouted': {
      const { channels, inboxOnly, deferred } = event.data;
      return {
        ...state,
        routedChannels: channels,
        ...(inboxOnly === undefined ? {} : { inboxOnly }),
        ...(deferred === undefined ? {} : { deferredPush: deferred }),
      };
    }
    case 'MessagePushReleased': {
      const { deferredPush: _released, ...rest } = state;
      return {
        ...rest,
        routedChannels: [...state.routedChannels, ...event.data.channels],
        deferredOutcome: 'released',
      };
    }
    case 'MessagePushMerged':
    case 'MessagePushDropped': {
      const { deferredPush: _ended, ...rest } = state;
      return {
        ...rest,
        deferredOutcome: event.type === 'MessagePushMerged' ? 'merged' : 'dropped',
      };
    }
    case 'MessageDelivered': {
      const { channel, attempt } = event.data;
      const previous = deliveryOf(state, channel);
      const isNewDevice =
        channel !== INBOX_CHANNEL && !state.deliveredDeviceChannels.includes(channel);
      return {
        ...withDelivery(state, {
          channel,
          status: 'delivered',
          attempts: Math.max(attempt, previous?.attempts ?? 0),
        }),
        status: 'delivered',
        deliveredDeviceChannels: isNewDevice
          ? [...state.deliveredDeviceChannels, channel]
          : state.deliveredDeviceChannels,
      };
    }
    case 'MessageDeliveryFailed': {
      const { channel, attempt, error, retryAt } = event.data;
      return withDelivery(state, {
        channel,
        status: retryAt === undefined ? 'failed' : 'pending',
        attempts: attempt,
        lastError: error,
        ...(retryAt === undefined ? {} : { retryAt }),
      });
    }
    case 'MessageDeliveryAbandoned': {
      const { channel, attempts, lastError } = event.data;
      return withDelivery(state, { channel, status: 'abandoned', attempts, lastError });
    }
    case 'MessageRead':
      return { ...state, read: true };
    case 'MessageArchived':
      return { ...state, archived: true };
    case 'MessageCancelled':
      return { ...state, status: 'cancelled' };
    case 'MessageRecalled':
      return { ...state, status: 'recalled' };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const illegal = (state: MessageFacts, action: string): Decision =>
  E.left(
    domainError('illegal_state', `cannot ${action} a ${state.status} message`, {
      messageId: state.submission.messageId,
      state: state.status,
    }),
  );

const notFound = (messageId: string): Decision =>
  E.left(domainError('not_found', `message ${messageId} does not exist`, { messageId }));

/** The submission part of the command, field by field: the looked-up facts are not recorded. */
const submissionOf = (command: SubmitMessage): MessageSubmission => {
  const { messageId, appId, bindingId, recipientId, body } = command.data;
  const { title, subtitle, url, thread, level, deliverAt, deviceId } = command.data;
  return {
    messageId,
    appId,
    bindingId,
    recipientId,
    body,
    ...(title === undefined ? {} : { title }),
    ...(subtitle === undefined ? {} : { subtitle }),
    ...(url === undefined ? {} : { url }),
    ...(thread === undefined ? {} : { thread }),
    ...(level === undefined ? {} : { level }),
    ...(deliverAt === undefined ? {} : { deliverAt }),
    ...(deviceId === undefined ? {} : { deviceId }),
  };
};

/** Every field of a submission; a Record so the compiler flags a field added but not listed. */
const submissionFields: Readonly<Record<keyof MessageSubmission, true>> = {
  messageId: true,
  appId: true,
  bindingId: true,
  recipientId: true,
  body: true,
  title: true,
  subtitle: true,
  url: true,
  thread: true,
  level: true,
  deliverAt: true,
  deviceId: true,
};

const sameSubmission = (a: MessageSubmission, b: MessageSubmission): boolean =>
  (Object.keys(submissionFields) as (keyof MessageSubmission)[]).every((key) => {
    if (key !== 'deliverAt') return a[key] === b[key];
    // Times are compared as instants: `...:00Z` and `...:00.000Z` are the same moment.
    return a.deliverAt === undefined || b.deliverAt === undefined
      ? a.deliverAt === b.deliverAt
      : isSameInstant(a.deliverAt, b.deliverAt);
  });

const submitMessage = (command: SubmitMessage, state: MessageState): Decision => {
  const submission = submissionOf(command);
  const { messageId, deliverAt } = submission;
  if (state.status !== 'empty') {
    return sameSubmission(state.submission, submission)
      ? E.right([])
      : E.left(domainError('already_exists', `message ${messageId} already exists`, { messageId }));
  }
  const { app, binding } = command.data;
  const { now } = command.metadata;
  if (app.status === 'banned') {
    return E.left(domainError('app_banned', 'the app is banned', { appId: submission.appId }));
  }
  // A suspension whose end has passed only waits for the scheduler to lift it: let it send.
  if (
    app.status === 'suspended' &&
    (app.suspendedUntil === undefined || isBefore(now, app.suspendedUntil))
  ) {
    return E.left(
      domainError(
        'app_suspended',
        'the app is suspended',
        app.suspendedUntil === undefined ? undefined : { suspendedUntil: app.suspendedUntil },
      ),
    );
  }
  if (binding.status === 'revoked') {
    return E.left(
      domainError('binding_revoked', 'the person unbound this app', {
        bindingId: submission.bindingId,
      }),
    );
  }
  if (deliverAt !== undefined && isAfter(deliverAt, addDays(now, MAX_SCHEDULE_DAYS))) {
    return E.left(
      domainError('validation_failed', `deliverAt is more than ${MAX_SCHEDULE_DAYS} days ahead`, {
        deliverAt,
      }),
    );
  }
  const submitted: MessageEvent = { type: 'MessageSubmitted', data: submission };
  // Accepted but silently dropped: the app learns `suppressed`, the person hears nothing.
  if (binding.blocked) {
    return E.right([
      submitted,
      { type: 'MessageSuppressed', data: { messageId, reason: 'blocked' } },
    ]);
  }
  if (binding.level === 'none') {
    return E.right([
      submitted,
      { type: 'MessageSuppressed', data: { messageId, reason: 'level_none' } },
    ]);
  }
  return E.right([submitted]);
};

/** The policy an operator's verdict on a held message is recorded under. */
export const OPERATOR_POLICY = 'operator';

// A policy's verdict comes only from `submitted`. Repeating the verdict on record is a no-op (a
// redelivered submission moderated again), and so is any verdict on a held message: the hold
// stands until an operator decides, so a policy run again can never approve what it held. A
// message suppressed or cancelled before any verdict needs none: moderating it is a no-op too, so
// the moderation processor, which sees every submission, needs no special case.

const approveMessage = (command: ApproveMessage, state: MessageFacts): Decision => {
  if (state.moderation === 'approved' || state.moderation === 'held') return E.right([]);
  if (state.moderation === 'rejected') return illegal(state, 'approve');
  if (state.status !== 'submitted') return E.right([]);
  const { messageId, policy } = command.data;
  return E.right([{ type: 'MessageApproved', data: { messageId, policy } }]);
};

const rejectMessage = (command: RejectMessage, state: MessageFacts): Decision => {
  if (state.moderation === 'rejected' || state.moderation === 'held') return E.right([]);
  if (state.moderation === 'approved') return illegal(state, 'reject');
  if (state.status !== 'submitted') return E.right([]);
  const { messageId, policy, reason } = command.data;
  return E.right([{ type: 'MessageRejected', data: { messageId, policy, reason } }]);
};

/**
 * An operator's verdict is an answer to a hold: only a message that is held now may have one. A
 * message that was never held (approved by the policies, not moderated yet), was decided already
 * (approving twice, approving after a rejection) or left review otherwise (cancelled, suppressed)
 * is refused, never answered as if the verdict had been taken.
 */
const notHeld = (state: MessageFacts, action: string): Decision =>
  E.left(
    domainError(
      'illegal_state',
      `only a held message can be ${action}; this one is ${state.status}`,
      { messageId: state.submission.messageId, state: state.status },
    ),
  );

const approveHeldMessage = (command: ApproveHeldMessage, state: MessageFacts): Decision => {
  if (state.status !== 'held') return notHeld(state, 'approved');
  const { messageId } = command.data;
  return E.right([{ type: 'MessageApproved', data: { messageId, policy: OPERATOR_POLICY } }]);
};

const rejectHeldMessage = (command: RejectHeldMessage, state: MessageFacts): Decision => {
  if (state.status !== 'held') return notHeld(state, 'rejected');
  const { messageId, reason } = command.data;
  return E.right([
    { type: 'MessageRejected', data: { messageId, policy: OPERATOR_POLICY, reason } },
  ]);
};

const holdMessage = (command: HoldMessage, state: MessageFacts): Decision => {
  if (state.moderation === 'held') return E.right([]);
  if (state.moderation !== undefined) return illegal(state, 'hold');
  if (state.status !== 'submitted') return E.right([]);
  const { messageId, policy, reason } = command.data;
  return E.right([{ type: 'MessageHeldForReview', data: { messageId, policy, reason } }]);
};

const scheduleMessage = (command: ScheduleMessage, state: MessageFacts): Decision => {
  if (state.scheduled) return E.right([]);
  if (state.status !== 'approved') return illegal(state, 'schedule');
  const { deliverAt } = state.submission;
  if (deliverAt === undefined || !isAfter(deliverAt, command.metadata.now)) {
    return E.left(
      domainError('illegal_state', 'the message is due now; deliver it instead', {
        messageId: state.submission.messageId,
        ...(deliverAt === undefined ? {} : { deliverAt }),
      }),
    );
  }
  return E.right([
    { type: 'MessageScheduled', data: { messageId: command.data.messageId, deliverAt } },
  ]);
};

const releaseMessage = (command: ReleaseMessage, state: MessageFacts): Decision => {
  if (state.released) return E.right([]);
  if (state.status !== 'scheduled') return illegal(state, 'release');
  const { deliverAt } = state.submission;
  if (deliverAt !== undefined && isBefore(command.metadata.now, deliverAt)) {
    return E.left(
      domainError('illegal_state', 'the message is not due yet', {
        messageId: state.submission.messageId,
        deliverAt,
      }),
    );
  }
  return E.right([{ type: 'MessageReleased', data: { messageId: command.data.messageId } }]);
};

const suppressible: ReadonlySet<MessageStatus> = new Set([
  'submitted',
  'held',
  'approved',
  'scheduled',
  'released',
]);

const suppressMessage = (command: SuppressMessage, state: MessageFacts): Decision => {
  if (state.status === 'suppressed') return E.right([]);
  // Once any channel delivered, the person has the message; suppressing would be a lie.
  if (!suppressible.has(state.status)) return illegal(state, 'suppress');
  const { messageId, reason } = command.data;
  return E.right([{ type: 'MessageSuppressed', data: { messageId, reason } }]);
};

/**
 * Whether the message may be routed, and its routed channels deliver, now: approved and due,
 * released, or already delivered elsewhere.
 */
const isDispatchable = (state: MessageFacts, now: string): boolean => {
  switch (state.status) {
    case 'released':
    case 'delivered':
      return true;
    case 'approved': {
      const { deliverAt } = state.submission;
      return deliverAt === undefined || !isBefore(now, deliverAt);
    }
    default:
      return false;
  }
};

const routeMessage = (command: RouteMessage, state: MessageFacts): Decision => {
  // Any second routing is a no-op, even with other channels: a redelivered router event, or one
  // decided again on newer facts, must not route (or push) a second time.
  if (state.routedChannels.length > 0) return E.right([]);
  const { messageId, channels, inboxOnly } = command.data;
  // The codecs check this at decode time; checked again because the state relies on it (an empty
  // list would read as "not routed" and let the message be routed again).
  if (!RoutedChannels.is(channels)) {
    return E.left(
      domainError('validation_failed', "channels must be distinct, 'inbox' first", {
        messageId,
        channels,
      }),
    );
  }
  const { deferred } = command.data;
  if ((deferred !== undefined) !== (inboxOnly === 'quiet_hours')) {
    return E.left(
      domainError(
        'validation_failed',
        'a deferred push comes with inboxOnly quiet_hours, and only with it',
        {
          messageId,
          ...(inboxOnly === undefined ? {} : { inboxOnly }),
        },
      ),
    );
  }
  if (inboxOnly !== undefined && channels.length > 1) {
    return E.left(
      domainError('validation_failed', 'an inbox-only routing lists device channels', {
        messageId,
        channels,
        inboxOnly,
      }),
    );
  }
  if (!isDispatchable(state, command.metadata.now)) return illegal(state, 'route');
  // Every routing lists the inbox, and the inbox is local, so routing and inbox delivery are one
  // atomic step: no routed message is ever missing from the inbox, and no processor delivers it.
  return E.right([
    {
      type: 'MessageRouted',
      data: {
        messageId,
        channels,
        ...(inboxOnly === undefined ? {} : { inboxOnly }),
        ...(deferred === undefined ? {} : { deferred }),
      },
    },
    { type: 'MessageDelivered', data: { messageId, channel: INBOX_CHANNEL, attempt: 1 } },
  ]);
};

/** Refuses a delivery report for a channel the router did not choose. */
const notRouted = (state: MessageFacts, channel: string): Decision =>
  E.left(
    domainError('illegal_state', `the message was not routed to ${channel}`, {
      messageId: state.submission.messageId,
      channel,
      routedChannels: state.routedChannels,
    }),
  );

const isRouted = (state: MessageFacts, channel: string): boolean =>
  state.routedChannels.includes(channel);

const recordDelivery = (command: RecordDelivery, state: MessageFacts): Decision => {
  const { messageId, channel, attempt } = command.data;
  const delivery = deliveryOf(state, channel);
  if (delivery?.status === 'delivered') return E.right([]);
  if (!isDispatchable(state, command.metadata.now)) return illegal(state, 'deliver');
  if (!isRouted(state, channel)) return notRouted(state, channel);
  if (delivery?.status === 'abandoned') {
    return E.left(
      domainError('illegal_state', `delivery on ${channel} was abandoned`, { messageId, channel }),
    );
  }
  return E.right([{ type: 'MessageDelivered', data: { messageId, channel, attempt } }]);
};

const recordDeliveryFailure = (command: RecordDeliveryFailure, state: MessageFacts): Decision => {
  const { messageId, channel, attempt, error, retryAt } = command.data;
  const delivery = deliveryOf(state, channel);
  // This attempt (or a later one) is already on record: a redelivered or stale report.
  if (delivery !== undefined && attempt <= delivery.attempts) return E.right([]);
  if (delivery?.status === 'delivered' || delivery?.status === 'abandoned') {
    return E.left(
      domainError('illegal_state', `delivery on ${channel} is already ${delivery.status}`, {
        messageId,
        channel,
      }),
    );
  }
  if (!isDispatchable(state, command.metadata.now)) return illegal(state, 'deliver');
  if (!isRouted(state, channel)) return notRouted(state, channel);
  return E.right([
    {
      type: 'MessageDeliveryFailed',
      data: { messageId, channel, attempt, error, ...(retryAt === undefined ? {} : { retryAt }) },
    },
  ]);
};

const abandonDelivery = (command: AbandonDelivery, state: MessageFacts): Decision => {
  const { messageId, channel, attempts, lastError } = command.data;
  const delivery = deliveryOf(state, channel);
  if (delivery?.status === 'abandoned') return E.right([]);
  if (delivery?.status === 'delivered') {
    return E.left(
      domainError('illegal_state', `delivery on ${channel} already succeeded`, {
        messageId,
        channel,
      }),
    );
  }
  // A channel with tries on record may be given up whatever happened since (e.g. a recall);
  // one never tried may only be given up while the message is deliverable.
  if (delivery === undefined && !isDispatchable(state, command.metadata.now)) {
    return illegal(state, 'abandon delivery of');
  }
  if (!isRouted(state, channel)) return notRouted(state, channel);
  return E.right([
    { type: 'MessageDeliveryAbandoned', data: { messageId, channel, attempts, lastError } },
  ]);
};

const markMessageRead = (command: MarkMessageRead, state: MessageFacts): Decision => {
  if (state.read) return E.right([]);
  if (state.status !== 'delivered') return illegal(state, 'mark read');
  return E.right([{ type: 'MessageRead', data: { messageId: command.data.messageId } }]);
};

const archiveMessage = (command: ArchiveMessage, state: MessageFacts): Decision => {
  // A recalled message has already left the inbox, which is all archiving asks for.
  if (state.archived || state.status === 'recalled') return E.right([]);
  if (state.status !== 'delivered') return illegal(state, 'archive');
  return E.right([{ type: 'MessageArchived', data: { messageId: command.data.messageId } }]);
};

const cancelMessage = (command: CancelMessage, state: MessageFacts): Decision => {
  if (state.status === 'cancelled') return E.right([]);
  const { deliverAt } = state.submission;
  const waiting =
    state.status === 'scheduled' ||
    ((state.status === 'submitted' || state.status === 'held' || state.status === 'approved') &&
      deliverAt !== undefined &&
      isAfter(deliverAt, command.metadata.now));
  if (!waiting) return illegal(state, 'cancel');
  return E.right([{ type: 'MessageCancelled', data: { messageId: command.data.messageId } }]);
};

/** Why a device delivery still waiting when its message is recalled is given up. */
export const RECALLED_BEFORE_DELIVERY = 'the message was recalled before this channel delivered it';

/**
 * Recalling a delivered message also gives up, in the same step, every device channel that has
 * not delivered it yet (never tried, or waiting for a retry): nothing is pushed after a recall.
 * An attempt already on its way when the recall lands is withdrawn by the delivery worker once it
 * learns its report was refused.
 */
const recallMessage = (command: RecallMessage, state: MessageFacts): Decision => {
  if (state.status === 'recalled') return E.right([]);
  if (state.status !== 'delivered') return illegal(state, 'recall');
  const { messageId } = command.data;
  const givenUp: MessageEvent[] = state.routedChannels
    .filter((channel) => channel !== INBOX_CHANNEL)
    .flatMap((channel) => {
      const delivery = deliveryOf(state, channel);
      if (delivery?.status === 'delivered' || delivery?.status === 'abandoned') return [];
      return [
        {
          type: 'MessageDeliveryAbandoned',
          data: {
            messageId,
            channel,
            attempts: delivery?.attempts ?? 0,
            lastError: RECALLED_BEFORE_DELIVERY,
          },
        },
      ];
    });
  return E.right([{ type: 'MessageRecalled', data: { messageId } }, ...givenUp]);
};

/**
 * What may become of a deferred push: the first outcome recorded stands, and repeating it is a
 * no-op (two ticks, or a tick again after a restart). It ends with the quiet hours, not before;
 * a message recalled meanwhile has no push left to release.
 */
const endDeferredPush = (
  state: MessageFacts,
  outcome: 'released' | 'merged' | 'dropped',
  now: string,
  events: readonly MessageEvent[],
): Decision => {
  if (state.deferredOutcome === outcome) return E.right([]);
  const action = `end the deferred push (${outcome}) of`;
  if (state.deferredPush === undefined || state.status !== 'delivered')
    return illegal(state, action);
  if (isBefore(now, state.deferredPush.until)) {
    return E.left(
      domainError('illegal_state', 'quiet hours have not ended yet', {
        messageId: state.submission.messageId,
        until: state.deferredPush.until,
      }),
    );
  }
  return E.right(events);
};

const releaseDeferredPush = (command: ReleaseDeferredPush, state: MessageFacts): Decision => {
  const { messageId, channels, summaryOf } = command.data;
  if (!DeviceChannels.is(channels)) {
    return E.left(
      domainError('validation_failed', 'channels must be distinct device channels', {
        messageId,
        channels,
      }),
    );
  }
  return endDeferredPush(state, 'released', command.metadata.now, [
    {
      type: 'MessagePushReleased',
      data: { messageId, channels, ...(summaryOf === undefined ? {} : { summaryOf }) },
    },
  ]);
};

const mergeDeferredPush = (command: MergeDeferredPush, state: MessageFacts): Decision =>
  endDeferredPush(state, 'merged', command.metadata.now, [
    { type: 'MessagePushMerged', data: command.data },
  ]);

const dropDeferredPush = (command: DropDeferredPush, state: MessageFacts): Decision =>
  endDeferredPush(state, 'dropped', command.metadata.now, [
    { type: 'MessagePushDropped', data: command.data },
  ]);

/** Who must own the message for a command: its recipient, its app, or nobody in particular. */
const ownerCheck = (command: MessageCommand, state: MessageFacts): boolean => {
  switch (command.type) {
    case 'MarkMessageRead':
    case 'ArchiveMessage':
      return command.data.recipientId === state.submission.recipientId;
    case 'CancelMessage':
    case 'RecallMessage':
      return command.data.appId === state.submission.appId;
    default:
      return true;
  }
};

const decide = (command: MessageCommand, state: MessageState): Decision => {
  if (command.type === 'SubmitMessage') return submitMessage(command, state);
  const { messageId } = command.data;
  // Another person's or another app's message answers exactly like a missing one (docs/api.md).
  if (state.status === 'empty' || !ownerCheck(command, state)) return notFound(messageId);
  switch (command.type) {
    case 'ApproveMessage':
      return approveMessage(command, state);
    case 'RejectMessage':
      return rejectMessage(command, state);
    case 'ApproveHeldMessage':
      return approveHeldMessage(command, state);
    case 'RejectHeldMessage':
      return rejectHeldMessage(command, state);
    case 'HoldMessage':
      return holdMessage(command, state);
    case 'ScheduleMessage':
      return scheduleMessage(command, state);
    case 'ReleaseMessage':
      return releaseMessage(command, state);
    case 'SuppressMessage':
      return suppressMessage(command, state);
    case 'RouteMessage':
      return routeMessage(command, state);
    case 'RecordDelivery':
      return recordDelivery(command, state);
    case 'RecordDeliveryFailure':
      return recordDeliveryFailure(command, state);
    case 'AbandonDelivery':
      return abandonDelivery(command, state);
    case 'MarkMessageRead':
      return markMessageRead(command, state);
    case 'ArchiveMessage':
      return archiveMessage(command, state);
    case 'CancelMessage':
      return cancelMessage(command, state);
    case 'RecallMessage':
      return recallMessage(command, state);
    case 'ReleaseDeferredPush':
      return releaseDeferredPush(command, state);
    case 'MergeDeferredPush':
      return mergeDeferredPush(command, state);
    case 'DropDeferredPush':
      return dropDeferredPush(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/**
 * The Message aggregate: one message from submission through moderation, scheduling, routing and
 * per-channel delivery to the person's inbox, and what the person and the app do with it after.
 */
export const messageDecider: Decider<MessageCommand, MessageEvent, MessageState> = {
  initialState,
  evolve,
  decide,
};

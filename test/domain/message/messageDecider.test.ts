import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { MessageCommand, SubmitMessage } from '../../../domain/message/messageCommands.js';
import { MessageCommandCodec } from '../../../domain/message/messageCommands.js';
import type { MessageState } from '../../../domain/message/messageDecider.js';
import { messageDecider, messageStreamName } from '../../../domain/message/messageDecider.js';
import type {
  MessageEvent,
  MessageInboxOnlyReason,
} from '../../../domain/message/messageEvents.js';
import {
  MessageEventCodec,
  messageEventTypes,
  RoutedChannels,
} from '../../../domain/message/messageEvents.js';
import { fold } from '../../../domain/shared/decider.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const now = '2025-03-01T12:00:00.000Z';
const later = '2025-03-08T09:00:00.000Z';
const messageId = 'm-1';
const appId = 'app-1';
const recipientId = 'r-alice';

const activeBinding = { status: 'active', level: 'strong', blocked: false } as const;
const activeApp = { status: 'active' } as const;

const submit = (
  overrides: Partial<SubmitMessage['data']> = {},
  at: string = now,
): MessageCommand => ({
  type: 'SubmitMessage',
  data: {
    messageId,
    appId,
    bindingId: 'b-1',
    recipientId,
    title: 'Order 42',
    body: 'Your technician has departed.',
    thread: 'order-42',
    level: 'timeSensitive',
    binding: activeBinding,
    app: activeApp,
    ...overrides,
  },
  metadata: { now: at },
});

const submitted: MessageEvent = {
  type: 'MessageSubmitted',
  data: {
    messageId,
    appId,
    bindingId: 'b-1',
    recipientId,
    title: 'Order 42',
    body: 'Your technician has departed.',
    thread: 'order-42',
    level: 'timeSensitive',
  },
};
const submittedLater: MessageEvent = {
  type: 'MessageSubmitted',
  data: { ...submitted.data, deliverAt: later },
};
const approved: MessageEvent = { type: 'MessageApproved', data: { messageId, policy: 'denylist' } };
const rejected: MessageEvent = {
  type: 'MessageRejected',
  data: { messageId, policy: 'denylist', reason: 'denied term' },
};
const held: MessageEvent = {
  type: 'MessageHeldForReview',
  data: { messageId, policy: 'msgSecCheck', reason: 'checker unsure' },
};
const scheduled: MessageEvent = { type: 'MessageScheduled', data: { messageId, deliverAt: later } };
const released: MessageEvent = { type: 'MessageReleased', data: { messageId } };
const routed: MessageEvent = {
  type: 'MessageRouted',
  data: { messageId, channels: ['inbox', 'bark'] },
};
const routedInboxOnly = (inboxOnly: MessageInboxOnlyReason): MessageEvent => ({
  type: 'MessageRouted',
  data: { messageId, channels: ['inbox'], inboxOnly },
});
const inboxDelivered: MessageEvent = {
  type: 'MessageDelivered',
  data: { messageId, channel: 'inbox', attempt: 1 },
};
const barkDelivered: MessageEvent = {
  type: 'MessageDelivered',
  data: { messageId, channel: 'bark', attempt: 1 },
};
const barkFailed: MessageEvent = {
  type: 'MessageDeliveryFailed',
  data: {
    messageId,
    channel: 'bark',
    attempt: 1,
    error: 'HTTP 503',
    retryAt: '2025-03-01T12:01:00.000Z',
  },
};
const barkAbandoned: MessageEvent = {
  type: 'MessageDeliveryAbandoned',
  data: { messageId, channel: 'bark', attempts: 5, lastError: 'HTTP 503' },
};
const read: MessageEvent = { type: 'MessageRead', data: { messageId } };
const archived: MessageEvent = { type: 'MessageArchived', data: { messageId } };
const cancelled: MessageEvent = { type: 'MessageCancelled', data: { messageId } };
const recalled: MessageEvent = { type: 'MessageRecalled', data: { messageId } };
const suppressedBlocked: MessageEvent = {
  type: 'MessageSuppressed',
  data: { messageId, reason: 'blocked' },
};

/** Routed to the inbox and Bark; the inbox delivered in the same step, Bark not yet. */
const delivered = [submitted, approved, routed, inboxDelivered];

const command = <T extends MessageCommand['type']>(
  type: T,
  data: Omit<Extract<MessageCommand, { type: T }>['data'], 'messageId'>,
  at: string = now,
): MessageCommand =>
  ({ type, data: { messageId, ...data }, metadata: { now: at } }) as MessageCommand;

const approve = command('ApproveMessage', { policy: 'denylist' });
const reject = command('RejectMessage', { policy: 'denylist', reason: 'denied term' });
const hold = command('HoldMessage', { policy: 'msgSecCheck', reason: 'checker unsure' });
const schedule = command('ScheduleMessage', {});
const releaseAt = (at: string) => command('ReleaseMessage', {}, at);
const route = (channels: readonly string[] = ['inbox', 'bark'], at: string = now) =>
  command('RouteMessage', { channels }, at);
const routeInboxOnly = (inboxOnly: MessageInboxOnlyReason) =>
  command('RouteMessage', { channels: ['inbox'], inboxOnly });
const deliver = (channel: string, attempt = 1) => command('RecordDelivery', { channel, attempt });
const fail = (attempt: number, retryAt?: string) =>
  command('RecordDeliveryFailure', {
    channel: 'bark',
    attempt,
    error: 'HTTP 503',
    ...(retryAt === undefined ? {} : { retryAt }),
  });
const abandon = command('AbandonDelivery', { channel: 'bark', attempts: 5, lastError: 'HTTP 503' });
const markRead = (who = recipientId) => command('MarkMessageRead', { recipientId: who });
const archive = (who = recipientId) => command('ArchiveMessage', { recipientId: who });
const cancel = (who = appId) => command('CancelMessage', { appId: who });
const recall = (who = appId) => command('RecallMessage', { appId: who });

/** Decides each command on the history so far, as the command handler would, and keeps going. */
const history = (commands: readonly MessageCommand[]): MessageEvent[] =>
  commands.reduce<MessageEvent[]>((events, next) => {
    const result = messageDecider.decide(next, fold(messageDecider, events));
    if (E.isLeft(result)) expect.fail(`${next.type} refused: ${JSON.stringify(result.left)}`);
    return [...events, ...result.right];
  }, []);

const factsOf = (state: MessageState) => {
  if (state.status === 'empty') return expect.fail('expected a submitted message');
  return state;
};

describe('messageDecider', () => {
  const message = spec(messageDecider);

  it('names the stream message-<messageId>', () => {
    expect(messageStreamName('m-9')).to.equal('message-m-9');
  });

  describe('SubmitMessage', () => {
    it('records the submission without the looked-up facts', () => {
      message.given([]).when(submit()).then([submitted]);
    });
    it('records a delivery time up to 30 days ahead', () => {
      message
        .given([])
        .when(submit({ deliverAt: '2025-03-31T12:00:00.000Z' }))
        .then([
          {
            type: 'MessageSubmitted',
            data: { ...submitted.data, deliverAt: '2025-03-31T12:00:00.000Z' },
          },
        ]);
    });
    it('refuses a delivery time more than 30 days ahead', () => {
      message
        .given([])
        .when(submit({ deliverAt: '2025-03-31T12:00:00.001Z' }))
        .thenError('validation_failed');
    });
    it('suppresses a message to a person who chose level none', () => {
      message
        .given([])
        .when(submit({ binding: { ...activeBinding, level: 'none' } }))
        .then([
          submitted,
          { type: 'MessageSuppressed', data: { messageId, reason: 'level_none' } },
        ]);
    });
    it('suppresses a message to a person who blocked the app', () => {
      message
        .given([])
        .when(submit({ binding: { ...activeBinding, blocked: true } }))
        .then([submitted, suppressedBlocked]);
    });
    it('refuses a revoked binding', () => {
      message
        .given([])
        .when(submit({ binding: { ...activeBinding, status: 'revoked' } }))
        .thenError('binding_revoked', { bindingId: 'b-1' });
    });
    it('refuses a suspended app, saying until when', () => {
      message
        .given([])
        .when(submit({ app: { status: 'suspended', suspendedUntil: later } }))
        .thenError('app_suspended', { suspendedUntil: later });
    });
    it('lets an app whose suspension has run out send before it is lifted', () => {
      message
        .given([])
        .when(submit({ app: { status: 'suspended', suspendedUntil: now } }))
        .then([submitted]);
    });
    it('refuses a banned app', () => {
      message
        .given([])
        .when(submit({ app: { status: 'banned' } }))
        .thenError('app_banned');
    });
    it('ignores an identical resubmission, even after it moved on', () => {
      message.given(delivered).when(submit()).thenNothing();
    });
    it('refuses different content under the same id', () => {
      message
        .given([submitted])
        .when(submit({ body: 'Something else' }))
        .thenError('already_exists', { messageId });
    });
  });

  describe('ApproveMessage', () => {
    it('approves a submitted message', () => {
      message.given([submitted]).when(approve).then([approved]);
    });
    it('ignores approving an approved message', () => {
      message.given([submitted, approved]).when(approve).thenNothing();
    });
    it('ignores a late approval after delivery', () => {
      message.given(delivered).when(approve).thenNothing();
    });
    it('ignores approving a message suppressed before moderation', () => {
      message.given([submitted, suppressedBlocked]).when(approve).thenNothing();
    });
    it('never approves a held message: a policy run again leaves the hold to an operator', () => {
      message.given([submitted, held]).when(approve).thenNothing();
    });
    it('refuses to approve a rejected message', () => {
      message.given([submitted, rejected]).when(approve).thenError('illegal_state');
    });
    it('refuses an unknown message', () => {
      message.given([]).when(approve).thenError('not_found', { messageId });
    });
  });

  describe('RejectMessage', () => {
    it('rejects a submitted message', () => {
      message.given([submitted]).when(reject).then([rejected]);
    });
    it('ignores rejecting a rejected message', () => {
      message.given([submitted, rejected]).when(reject).thenNothing();
    });
    it('never rejects a held message: a policy run again leaves the hold to an operator', () => {
      message.given([submitted, held]).when(reject).thenNothing();
    });
    it('refuses to reject an approved message', () => {
      message.given([submitted, approved]).when(reject).thenError('illegal_state');
    });
  });

  describe("an operator's verdict on a held message", () => {
    const approveHeld = command('ApproveHeldMessage', {});
    const rejectHeld = command('RejectHeldMessage', { reason: 'misleading offer' });
    const approvedByOperator: MessageEvent = {
      type: 'MessageApproved',
      data: { messageId, policy: 'operator' },
    };
    const rejectedByOperator: MessageEvent = {
      type: 'MessageRejected',
      data: { messageId, policy: 'operator', reason: 'misleading offer' },
    };

    it('approves a held message, as policy operator', () => {
      message.given([submitted, held]).when(approveHeld).then([approvedByOperator]);
    });
    it('rejects a held message with the reason, as policy operator', () => {
      message.given([submitted, held]).when(rejectHeld).then([rejectedByOperator]);
    });
    it('approves a held message that is for later, which can then be scheduled', () => {
      const events = history([submit({ deliverAt: later }), hold, approveHeld]);
      expect(events.map((event) => event.type)).to.deep.equal([
        'MessageSubmitted',
        'MessageHeldForReview',
        'MessageApproved',
      ]);
      message.given(events).when(schedule).then([scheduled]);
    });

    // Every history in which the message is not held now; both verdicts are refused on each,
    // naming the status it is in, and nothing is recorded.
    const notHeld: readonly (readonly [string, readonly MessageEvent[], string])[] = [
      ['submitted, not moderated yet', [submitted], 'submitted'],
      ['approved by the policies, never held', [submitted, approved], 'approved'],
      ['rejected by the policies, never held', [submitted, rejected], 'rejected'],
      ['delivered, never held', delivered, 'delivered'],
      [
        'held, then approved (a second approval)',
        [submitted, held, approvedByOperator],
        'approved',
      ],
      ['held, then rejected', [submitted, held, rejectedByOperator], 'rejected'],
      [
        'held, approved and delivered',
        [submitted, held, approvedByOperator, routed, inboxDelivered],
        'delivered',
      ],
      [
        'held, approved, delivered and recalled',
        [submitted, held, approvedByOperator, routed, inboxDelivered, recalled],
        'recalled',
      ],
      ['held, then cancelled by the app', [submittedLater, held, cancelled], 'cancelled'],
      ['held, then suppressed', [submitted, held, suppressedBlocked], 'suppressed'],
      ['suppressed before moderation', [submitted, suppressedBlocked], 'suppressed'],
    ];
    for (const [what, given, status] of notHeld) {
      it(`refuses to approve a message ${what}`, () => {
        message
          .given(given)
          .when(approveHeld)
          .thenError('illegal_state', { messageId, state: status });
      });
      it(`refuses to reject a message ${what}`, () => {
        message
          .given(given)
          .when(rejectHeld)
          .thenError('illegal_state', { messageId, state: status });
      });
    }
    it('refuses an unknown message', () => {
      message.given([]).when(approveHeld).thenError('not_found', { messageId });
      message.given([]).when(rejectHeld).thenError('not_found', { messageId });
    });
  });

  describe('HoldMessage', () => {
    it('holds a submitted message for review', () => {
      message.given([submitted]).when(hold).then([held]);
    });
    it('ignores holding a held message', () => {
      message.given([submitted, held]).when(hold).thenNothing();
    });
    it('refuses to hold an approved message', () => {
      message.given([submitted, approved]).when(hold).thenError('illegal_state');
    });
    it('refuses to hold a rejected message', () => {
      message.given([submitted, rejected]).when(hold).thenError('illegal_state');
    });
  });

  describe('ScheduleMessage', () => {
    it('schedules an approved message whose time is ahead', () => {
      message.given([submittedLater, approved]).when(schedule).then([scheduled]);
    });
    it('ignores scheduling twice', () => {
      message.given([submittedLater, approved, scheduled]).when(schedule).thenNothing();
    });
    it('refuses a message that is due now', () => {
      message.given([submitted, approved]).when(schedule).thenError('illegal_state');
    });
    it('refuses a message that is not approved', () => {
      message.given([submittedLater]).when(schedule).thenError('illegal_state');
    });
  });

  describe('ReleaseMessage', () => {
    it('releases a scheduled message when it is due', () => {
      message.given([submittedLater, approved, scheduled]).when(releaseAt(later)).then([released]);
    });
    it('never releases before the delivery time', () => {
      message
        .given([submittedLater, approved, scheduled])
        .when(releaseAt('2025-03-08T08:59:59.999Z'))
        .thenError('illegal_state', { messageId, deliverAt: later });
    });
    it('ignores releasing twice', () => {
      message
        .given([submittedLater, approved, scheduled, released])
        .when(releaseAt(later))
        .thenNothing();
    });
    it('refuses a message that was never scheduled', () => {
      message.given([submitted, approved]).when(releaseAt(later)).thenError('illegal_state');
    });
    it('refuses a cancelled message', () => {
      message
        .given([submittedLater, approved, scheduled, cancelled])
        .when(releaseAt(later))
        .thenError('illegal_state');
    });
  });

  describe('SuppressMessage', () => {
    const suppress = command('SuppressMessage', { reason: 'app_suspended' });
    it('suppresses a scheduled message', () => {
      message
        .given([submittedLater, approved, scheduled])
        .when(suppress)
        .then([{ type: 'MessageSuppressed', data: { messageId, reason: 'app_suspended' } }]);
    });
    it('ignores suppressing a suppressed message', () => {
      message.given([submitted, suppressedBlocked]).when(suppress).thenNothing();
    });
    it('refuses a delivered message', () => {
      message.given(delivered).when(suppress).thenError('illegal_state');
    });
    it('refuses a rejected message', () => {
      message.given([submitted, rejected]).when(suppress).thenError('illegal_state');
    });
  });

  describe('RouteMessage', () => {
    it('routes an approved message that is due and delivers it to the inbox in the same step', () => {
      message.given([submitted, approved]).when(route()).then([routed, inboxDelivered]);
    });
    it('routes a released message', () => {
      message
        .given([submittedLater, approved, scheduled, released])
        .when(route(['inbox', 'bark'], later))
        .then([routed, inboxDelivered]);
    });
    it('routes an approved message once its delivery time has come', () => {
      message
        .given([submittedLater, approved])
        .when(route(['inbox', 'bark'], later))
        .then([routed, inboxDelivered]);
    });
    for (const reason of ['weak', 'muted', 'over_budget', 'no_device'] as const) {
      it(`records why it routed to the inbox only (${reason})`, () => {
        message
          .given([submitted, approved])
          .when(routeInboxOnly(reason))
          .then([routedInboxOnly(reason), inboxDelivered]);
      });
    }
    it('ignores routing again (a redelivered router event)', () => {
      message.given(delivered).when(route()).thenNothing();
    });
    it('ignores routing again to other channels (the router decided again on newer facts)', () => {
      message
        .given([...delivered, barkDelivered])
        .when(routeInboxOnly('muted'))
        .thenNothing();
    });
    it('ignores routing again after a recall', () => {
      message
        .given([...delivered, recalled])
        .when(route())
        .thenNothing();
    });
    const notDispatchable: readonly [string, readonly MessageEvent[], string][] = [
      ['submitted', [submitted], 'submitted'],
      ['held', [submitted, held], 'held'],
      ['rejected', [submitted, rejected], 'rejected'],
      ['approved but not yet due', [submittedLater, approved], 'approved'],
      ['scheduled but not released', [submittedLater, approved, scheduled], 'scheduled'],
      ['cancelled', [submittedLater, approved, scheduled, cancelled], 'cancelled'],
      ['suppressed', [submitted, suppressedBlocked], 'suppressed'],
    ];
    for (const [name, given, status] of notDispatchable) {
      it(`refuses a message that is ${name}`, () => {
        message.given(given).when(route()).thenError('illegal_state', { messageId, state: status });
      });
    }
    it('refuses channels that do not start with the inbox', () => {
      message
        .given([submitted, approved])
        .when(route(['bark']))
        .thenError('validation_failed', { messageId, channels: ['bark'] });
    });
    it('refuses an empty channel list', () => {
      message.given([submitted, approved]).when(route([])).thenError('validation_failed');
    });
    it('refuses a channel listed twice', () => {
      message
        .given([submitted, approved])
        .when(route(['inbox', 'bark', 'bark']))
        .thenError('validation_failed');
    });
    it('refuses an inbox-only reason next to device channels', () => {
      message
        .given([submitted, approved])
        .when(command('RouteMessage', { channels: ['inbox', 'bark'], inboxOnly: 'muted' }))
        .thenError('validation_failed', {
          messageId,
          channels: ['inbox', 'bark'],
          inboxOnly: 'muted',
        });
    });
    it('refuses an unknown message', () => {
      message.given([]).when(route()).thenError('not_found', { messageId });
    });
    it('carries the routing through the command codec', () => {
      const decoded = MessageCommandCodec.decode({
        type: 'RouteMessage',
        data: { messageId, channels: ['inbox'], inboxOnly: 'over_budget' },
        metadata: { now },
      });
      expect(E.isRight(decoded)).to.equal(true);
      for (const data of [
        { messageId, channels: ['bark'] },
        { messageId, channels: [] },
        { messageId, channels: ['inbox'], inboxOnly: 'sleepy' },
      ]) {
        const refused = MessageCommandCodec.decode({
          type: 'RouteMessage',
          data,
          metadata: { now },
        });
        expect(E.isLeft(refused), JSON.stringify(data)).to.equal(true);
      }
    });
  });

  describe('RoutedChannels', () => {
    it("accepts distinct channel names with 'inbox' first", () => {
      expect(RoutedChannels.is(['inbox'])).to.equal(true);
      expect(RoutedChannels.is(['inbox', 'bark', 'email'])).to.equal(true);
    });
    it('refuses anything else', () => {
      for (const value of [
        [],
        ['bark'],
        ['bark', 'inbox'],
        ['inbox', 'inbox'],
        ['inbox', ''],
        ['inbox', 1],
        'inbox',
        undefined,
      ]) {
        expect(RoutedChannels.is(value), JSON.stringify(value)).to.equal(false);
        expect(E.isLeft(RoutedChannels.decode(value))).to.equal(true);
      }
    });
  });

  describe('RecordDelivery', () => {
    it('records delivery on a routed device channel of an approved message', () => {
      message.given(delivered).when(deliver('bark')).then([barkDelivered]);
    });
    it('records delivery on a routed device channel of a released message', () => {
      message
        .given([submittedLater, approved, scheduled, released, routed, inboxDelivered])
        .when(deliver('bark'))
        .then([barkDelivered]);
    });
    it('refuses a channel of a due message that was not routed yet', () => {
      message
        .given([submitted, approved])
        .when(deliver('inbox'))
        .thenError('illegal_state', { messageId, channel: 'inbox', routedChannels: [] });
    });
    it('refuses a device channel the router did not choose', () => {
      message
        .given([submitted, approved, routedInboxOnly('muted'), inboxDelivered])
        .when(deliver('bark'))
        .thenError('illegal_state', { messageId, channel: 'bark', routedChannels: ['inbox'] });
    });
    it('ignores a repeated report of the inbox delivered at routing', () => {
      message.given(delivered).when(deliver('inbox')).thenNothing();
    });
    it('records another channel after the first', () => {
      message
        .given([...delivered, barkFailed])
        .when(deliver('bark', 2))
        .then([{ type: 'MessageDelivered', data: { messageId, channel: 'bark', attempt: 2 } }]);
    });
    it('ignores a channel that already delivered', () => {
      message.given(delivered).when(deliver('inbox', 2)).thenNothing();
    });
    it('refuses a message not yet approved', () => {
      message.given([submitted]).when(deliver('inbox')).thenError('illegal_state');
    });
    it('refuses an approved message whose time has not come', () => {
      message.given([submittedLater, approved]).when(deliver('inbox')).thenError('illegal_state');
    });
    it('refuses a channel that was abandoned', () => {
      message
        .given([...delivered, barkAbandoned])
        .when(deliver('bark', 6))
        .thenError('illegal_state');
    });
    it('refuses a recalled message', () => {
      message
        .given([...delivered, recalled])
        .when(deliver('bark'))
        .thenError('illegal_state');
    });
  });

  describe('RecordDeliveryFailure', () => {
    it('records a failure with a planned retry', () => {
      message.given(delivered).when(fail(1, '2025-03-01T12:01:00.000Z')).then([barkFailed]);
    });
    it('records a failure without a retry', () => {
      message
        .given(delivered)
        .when(fail(1))
        .then([
          {
            type: 'MessageDeliveryFailed',
            data: { messageId, channel: 'bark', attempt: 1, error: 'HTTP 503' },
          },
        ]);
    });
    it('ignores a report of an attempt already on record', () => {
      message
        .given([...delivered, barkFailed])
        .when(fail(1, '2025-03-01T12:01:00.000Z'))
        .thenNothing();
    });
    it('refuses a new failure on a channel that delivered', () => {
      message
        .given(delivered)
        .when(command('RecordDeliveryFailure', { channel: 'inbox', attempt: 2, error: 'x' }))
        .thenError('illegal_state');
    });
    it('refuses a message that may not be delivered', () => {
      message.given([submitted, rejected]).when(fail(1)).thenError('illegal_state');
    });
    it('refuses a channel the router did not choose', () => {
      message
        .given([submitted, approved, routedInboxOnly('no_device'), inboxDelivered])
        .when(fail(1))
        .thenError('illegal_state', { messageId, channel: 'bark', routedChannels: ['inbox'] });
    });
    it('refuses a due message that was not routed yet', () => {
      message.given([submitted, approved]).when(fail(1)).thenError('illegal_state');
    });
  });

  describe('AbandonDelivery', () => {
    it('gives up on a channel', () => {
      message
        .given([...delivered, barkFailed])
        .when(abandon)
        .then([barkAbandoned]);
    });
    it('gives up on a channel with tries on record after a recall', () => {
      message
        .given([...delivered, barkFailed, recalled])
        .when(abandon)
        .then([barkAbandoned]);
    });
    it('ignores giving up twice', () => {
      message
        .given([...delivered, barkFailed, barkAbandoned])
        .when(abandon)
        .thenNothing();
    });
    it('refuses a channel that delivered', () => {
      message
        .given(delivered)
        .when(command('AbandonDelivery', { channel: 'inbox', attempts: 1, lastError: 'x' }))
        .thenError('illegal_state');
    });
    it('refuses an untried channel of a message not deliverable', () => {
      message.given([submitted]).when(abandon).thenError('illegal_state');
    });
    it('refuses a channel the router did not choose', () => {
      message
        .given([submitted, approved, routedInboxOnly('over_budget'), inboxDelivered])
        .when(abandon)
        .thenError('illegal_state', { messageId, channel: 'bark', routedChannels: ['inbox'] });
    });
  });

  describe('MarkMessageRead', () => {
    it('marks a delivered message read', () => {
      message.given(delivered).when(markRead()).then([read]);
    });
    it('ignores marking a read message read', () => {
      message
        .given([...delivered, read])
        .when(markRead())
        .thenNothing();
    });
    it("answers not_found for another person's message", () => {
      message.given(delivered).when(markRead('r-bob')).thenError('not_found', { messageId });
    });
    it('refuses a message not delivered', () => {
      message.given([submitted, approved]).when(markRead()).thenError('illegal_state');
    });
  });

  describe('ArchiveMessage', () => {
    it('archives a delivered message', () => {
      message.given(delivered).when(archive()).then([archived]);
    });
    it('ignores archiving twice', () => {
      message
        .given([...delivered, archived])
        .when(archive())
        .thenNothing();
    });
    it('ignores archiving a recalled message, which already left the inbox', () => {
      message
        .given([...delivered, recalled])
        .when(archive())
        .thenNothing();
    });
    it("answers not_found for another person's message", () => {
      message.given(delivered).when(archive('r-bob')).thenError('not_found');
    });
    it('refuses a message not delivered', () => {
      message.given([submitted]).when(archive()).thenError('illegal_state');
    });
  });

  describe('CancelMessage', () => {
    it('cancels a scheduled message', () => {
      message.given([submittedLater, approved, scheduled]).when(cancel()).then([cancelled]);
    });
    it('cancels a submitted message whose time is ahead', () => {
      message.given([submittedLater]).when(cancel()).then([cancelled]);
    });
    it('ignores cancelling twice', () => {
      message.given([submittedLater, cancelled]).when(cancel()).thenNothing();
    });
    it('refuses a submitted message due now', () => {
      message.given([submitted]).when(cancel()).thenError('illegal_state');
    });
    it('refuses a delivered message', () => {
      message
        .given(delivered)
        .when(cancel())
        .thenError('illegal_state', { messageId, state: 'delivered' });
    });
    it("answers not_found for another app's message", () => {
      message.given([submittedLater]).when(cancel('app-2')).thenError('not_found');
    });
  });

  describe('RecallMessage', () => {
    // Written out, not imported from the decider: apps read it as the delivery's lastError.
    const recalledBeforeDelivery = 'the message was recalled before this channel delivered it';
    const recallAbandons = (attempts: number): MessageEvent => ({
      type: 'MessageDeliveryAbandoned',
      data: { messageId, channel: 'bark', attempts, lastError: recalledBeforeDelivery },
    });
    it('recalls a delivered message and gives up the device channel not tried yet', () => {
      message
        .given(delivered)
        .when(recall())
        .then([recalled, recallAbandons(0)]);
    });
    it('gives up a device channel waiting for a retry, keeping its attempts', () => {
      message
        .given([...delivered, barkFailed])
        .when(recall())
        .then([recalled, recallAbandons(1)]);
    });
    it('recalls an inbox-only message with nothing to give up', () => {
      message
        .given([submitted, approved, routedInboxOnly('weak'), inboxDelivered])
        .when(recall())
        .then([recalled]);
    });
    it('leaves a device channel already abandoned as it is', () => {
      message
        .given([...delivered, barkAbandoned])
        .when(recall())
        .then([recalled]);
    });
    it('refuses a push reported after the recall, naming the status (the worker withdraws it)', () => {
      message
        .given([...delivered, recalled, recallAbandons(0)])
        .when(deliver('bark'))
        .thenError('illegal_state', { messageId, state: 'recalled' });
    });
    it('recalls a message that also reached a device', () => {
      message
        .given([...delivered, barkDelivered])
        .when(recall())
        .then([recalled]);
    });
    it('ignores recalling twice', () => {
      message
        .given([...delivered, recalled])
        .when(recall())
        .thenNothing();
    });
    it('refuses a rejected message', () => {
      message
        .given([submitted, rejected])
        .when(recall())
        .thenError('illegal_state', { messageId, state: 'rejected' });
    });
    it("answers not_found for another app's message", () => {
      message.given(delivered).when(recall('app-2')).thenError('not_found');
    });
  });

  describe('the push pipeline', () => {
    it('takes a message from approval through routing to Bark and back out by recall', () => {
      const events = history([
        submit(),
        approve,
        route(),
        deliver('bark'),
        deliver('bark'),
        recall(),
      ]);
      expect(events).to.deep.equal([
        submitted,
        approved,
        routed,
        inboxDelivered,
        barkDelivered,
        recalled,
      ]);
      message.given(events.slice(0, -1)).when(recall()).then([recalled]);
      const state = factsOf(fold(messageDecider, events));
      expect(state.status).to.equal('recalled');
      expect(state.routedChannels).to.deep.equal(['inbox', 'bark']);
      expect(state.deliveredDeviceChannels).to.deep.equal(['bark']);
    });
  });

  describe('state', () => {
    it('keeps the routing: channels and why only the inbox', () => {
      const state = factsOf(fold(messageDecider, [submitted, approved, routedInboxOnly('weak')]));
      expect(state.routedChannels).to.deep.equal(['inbox']);
      expect(state.inboxOnly).to.equal('weak');
      // Routing alone does not deliver: the status stays until a channel reports.
      expect(state.status).to.equal('approved');
    });
    it('lists the device channels that delivered, which a recall must withdraw', () => {
      const onlyInbox = factsOf(fold(messageDecider, delivered));
      expect(onlyInbox.deliveredDeviceChannels).to.deep.equal([]);
      const withBark = factsOf(fold(messageDecider, [...delivered, barkFailed, barkDelivered]));
      expect(withBark.deliveredDeviceChannels).to.deep.equal(['bark']);
      expect(withBark.inboxOnly).to.equal(undefined);
    });
    it('keeps per-channel delivery state', () => {
      const state = fold(messageDecider, [...delivered, barkFailed]);
      expect(state.status).to.equal('delivered');
      expect(state.status !== 'empty' && state.deliveries).to.deep.equal([
        { channel: 'inbox', status: 'delivered', attempts: 1 },
        {
          channel: 'bark',
          status: 'pending',
          attempts: 1,
          lastError: 'HTTP 503',
          retryAt: '2025-03-01T12:01:00.000Z',
        },
      ]);
    });
  });

  describe('quiet hours: a deferred push', () => {
    const until = '2025-03-01T23:00:00.000Z';
    const after = '2025-03-01T23:00:01.000Z';
    const deferred = { channels: ['bark:dev-1'], until };
    const routedQuiet: MessageEvent = {
      type: 'MessageRouted',
      data: { messageId, channels: ['inbox'], inboxOnly: 'quiet_hours', deferred },
    };
    const waiting = [submitted, approved, routedQuiet, inboxDelivered];
    const releaseCmd = (at: string, summaryOf?: number) =>
      command(
        'ReleaseDeferredPush',
        { channels: ['bark:dev-1'], ...(summaryOf === undefined ? {} : { summaryOf }) },
        at,
      );
    const releasedEvent: MessageEvent = {
      type: 'MessagePushReleased',
      data: { messageId, channels: ['bark:dev-1'], summaryOf: 3 },
    };

    it('is routed to the inbox alone, the push kept for the end of quiet hours', () => {
      message
        .given([submitted, approved])
        .when(command('RouteMessage', { channels: ['inbox'], inboxOnly: 'quiet_hours', deferred }))
        .then([routedQuiet, inboxDelivered]);
    });
    it('comes with quiet_hours, and quiet_hours with it', () => {
      message
        .given([submitted, approved])
        .when(command('RouteMessage', { channels: ['inbox'], inboxOnly: 'weak', deferred }))
        .thenError('validation_failed');
      message
        .given([submitted, approved])
        .when(command('RouteMessage', { channels: ['inbox'], inboxOnly: 'quiet_hours' }))
        .thenError('validation_failed');
    });
    it('is released once quiet hours ended, as a summary, and its channel may then deliver', () => {
      message.given(waiting).when(releaseCmd(after, 3)).then([releasedEvent]);
      message
        .given([...waiting, releasedEvent])
        .when(releaseCmd(after, 3))
        .thenNothing();
      message
        .given([...waiting, releasedEvent])
        .when(command('RecordDelivery', { channel: 'bark:dev-1', attempt: 1 }, after))
        .then([
          { type: 'MessageDelivered', data: { messageId, channel: 'bark:dev-1', attempt: 1 } },
        ]);
    });
    it('is not released before quiet hours end, nor to the inbox, nor twice another way', () => {
      message.given(waiting).when(releaseCmd(now)).thenError('illegal_state');
      message
        .given(waiting)
        .when(command('ReleaseDeferredPush', { channels: ['inbox'] }, after))
        .thenError('validation_failed');
      message
        .given([...waiting, releasedEvent])
        .when(command('DropDeferredPush', { reason: 'revoked' }, after))
        .thenError('illegal_state');
      // Before it was released, no delivery on its channel is taken.
      message
        .given(waiting)
        .when(command('RecordDelivery', { channel: 'bark:dev-1', attempt: 1 }, after))
        .thenError('illegal_state');
    });
    it('is merged into another message’s summary, or dropped', () => {
      message
        .given(waiting)
        .when(command('MergeDeferredPush', { into: 'm-2' }, after))
        .then([{ type: 'MessagePushMerged', data: { messageId, into: 'm-2' } }]);
      message
        .given(waiting)
        .when(command('DropDeferredPush', { reason: 'revoked' }, after))
        .then([{ type: 'MessagePushDropped', data: { messageId, reason: 'revoked' } }]);
    });
    it('is gone with a recall during quiet hours', () => {
      message
        .given([...waiting, recalled])
        .when(releaseCmd(after))
        .thenError('illegal_state');
    });
    it('leaves nothing to release on a message routed with its push', () => {
      message.given(delivered).when(releaseCmd(after)).thenError('illegal_state');
    });
  });

  describe('events', () => {
    it('round-trip through MessageEventCodec, and a malformed one is refused', () => {
      expectEventsRoundTrip(MessageEventCodec, messageEventTypes, message.recorded, {
        type: 'MessageDelivered',
        data: { messageId, channel: 'bark', attempt: 0 },
      });
    });
  });
});

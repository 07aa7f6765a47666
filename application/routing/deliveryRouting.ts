import * as E from 'fp-ts/lib/Either.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import { decideDelivery } from '../../domain/delivery/deliveryDecision.js';
import type { RouteMessage, SuppressMessage } from '../../domain/message/messageCommands.js';
import { INBOX_CHANNEL, type MessageSubmission } from '../../domain/message/messageEvents.js';
import type { CommandResult } from '../../domain/shared/commandHandler.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import { loadState } from '../processing/streamState.js';
import { deviceTargetsOf } from './deviceTargets.js';
import type { PushBudget } from './pushBudget.js';

/** What routing reads. */
export interface DeliveryRoutingOptions {
  readonly store: EventStore;
  /** The process's folded states (see StateCache); read-only loads use it too. */
  readonly cache?: StateCache;
  /** The channels this server has: a device is routed to only when its kind is among them. */
  readonly channels: ChannelRegistry;
  readonly budget: PushBudget;
}

/** One routing decided: the command to record, and what to do once it is recorded or not. */
export interface RoutingDecision {
  readonly command: RouteMessage | SuppressMessage;
  /**
   * Settles the push budget with the outcome of the command: a routing with device pushes that
   * was stored now counts; one refused, or a repeat (counted the first time), does not.
   */
  readonly settle: (
    result: E.Either<unknown, CommandResult<{ readonly type: string }, unknown>>,
  ) => void;
}

/**
 * The routing decision of a due message, shared by the router stage and a submission routed in
 * its own command: reads the binding, the app and the person's devices as they are at that moment
 * (docs/architecture.md, "The life of one message"), decides with `decideDelivery`, and counts a
 * routing with device pushes against the binding's push budget at once, before it is stored, so
 * that routings of one binding decided at the same time count each other exactly.
 */
export interface DeliveryRouting {
  decide(message: RoutedSubmission, at: Date): Promise<RoutingDecision>;
}

/** The parts of a submission routing reads. */
export type RoutedSubmission = Pick<
  MessageSubmission,
  'messageId' | 'bindingId' | 'appId' | 'recipientId' | 'deviceId'
>;

export const deliveryRouting = (options: DeliveryRoutingOptions): DeliveryRouting => ({
  decide: async (message, at) => {
    const { messageId, bindingId, appId, recipientId } = message;
    const [binding, app, recipient] = await Promise.all([
      loadState(options.store, 'binding', bindingId, options.cache),
      loadState(options.store, 'app', appId, options.cache),
      loadState(options.store, 'recipient', recipientId, options.cache),
    ]);
    const now = at.getTime();
    // From here to the reservation below no turn of the loop: the count and the reservation are
    // one step, whatever else is being routed for this binding meanwhile.
    const decision = decideDelivery({
      binding:
        binding.status === 'empty'
          ? { status: 'revoked', level: 'none', blocked: false }
          : {
              status: binding.status,
              level: binding.level,
              blocked: binding.blocked,
              ...(binding.mutedUntil === undefined ? {} : { mutedUntil: binding.mutedUntil }),
            },
      app:
        app.status === 'empty'
          ? { status: 'banned' }
          : {
              status: app.status,
              ...(app.status === 'suspended' ? { suspendedUntil: app.suspendedUntil } : {}),
            },
      deviceChannels:
        recipient.status !== 'active'
          ? []
          : deviceTargetsOf(recipient.devices, options.channels, {
              ...(binding.status === 'empty' || binding.devices === undefined
                ? {}
                : { chosen: binding.devices }),
              ...(message.deviceId === undefined ? {} : { only: message.deviceId }),
            }),
      devicePushesLastHour: options.budget.used(bindingId, now),
      pushBudgetPerHour: options.budget.perHour,
      now: at.toISOString(),
    });
    const metadata = { now: at.toISOString() };
    if (decision.kind === 'suppress') {
      return {
        command: {
          type: 'SuppressMessage',
          data: { messageId, reason: decision.reason },
          metadata,
        },
        settle: () => undefined,
      };
    }
    const pushes = decision.channels.some((channel) => channel !== INBOX_CHANNEL);
    const release = pushes ? options.budget.reserve(bindingId, now) : undefined;
    return {
      command: {
        type: 'RouteMessage',
        data: {
          messageId,
          channels: [...decision.channels],
          ...(decision.inboxOnly === undefined ? {} : { inboxOnly: decision.inboxOnly }),
        },
        metadata,
      },
      settle: (result) => {
        const stored =
          E.isRight(result) &&
          result.right.repeated !== true &&
          result.right.events.some((event) => event.type === 'MessageRouted');
        if (!stored) release?.();
      },
    };
  },
});

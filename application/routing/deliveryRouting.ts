import * as E from 'fp-ts/lib/Either.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import { decideDelivery, type DeliveryDecision } from '../../domain/delivery/deliveryDecision.js';
import type { RouteMessage, SuppressMessage } from '../../domain/message/messageCommands.js';
import {
  INBOX_CHANNEL,
  type MessageInboxOnlyReason,
  type MessageSubmission,
  type MessageSuppressionReason,
} from '../../domain/message/messageEvents.js';
import type { CommandResult } from '../../domain/shared/commandHandler.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import { quietHoursEndAt } from '../../domain/recipient/quietHours.js';
import type { Preferences } from '../../domain/recipient/recipientPreferences.js';
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
  /**
   * Where the push of a message deferred by quiet hours goes now that they ended: decided again
   * on the facts of now (quiet hours aside), so an unbinding, a block, a mute, a change of level
   * or devices meanwhile has its say; a release counts against the push budget like a routing.
   */
  decideRelease(message: RoutedSubmission, at: Date): Promise<ReleaseDecision>;
}

/** A deferred push decided again when quiet hours end. */
export type ReleaseDecision =
  | {
      readonly kind: 'release';
      readonly channels: readonly string[];
      /** As {@link RoutingDecision.settle}, for the release's command. */
      readonly settle: RoutingDecision['settle'];
    }
  | {
      readonly kind: 'drop';
      readonly reason: MessageSuppressionReason | MessageInboxOnlyReason;
    };

/** The parts of a submission routing reads. */
export type RoutedSubmission = Pick<
  MessageSubmission,
  'messageId' | 'bindingId' | 'appId' | 'recipientId' | 'deviceId' | 'level'
>;

/**
 * When the quiet hours that `at` falls in end, if the message's push must wait for them: not
 * when the person has none, lets a time-sensitive message through, or the message names its one
 * device (the person's own test push, or their digest at the time they chose).
 */
export const quietUntilFor = (
  preferences: Preferences,
  message: Pick<MessageSubmission, 'level' | 'deviceId'>,
  at: Date,
): string | undefined => {
  const quiet = preferences.quietHours;
  if (quiet === null || message.deviceId !== undefined) return undefined;
  if (message.level === 'timeSensitive' && quiet.allowTimeSensitive) return undefined;
  return quietHoursEndAt(quiet, preferences.timeZone ?? 'UTC', at.toISOString());
};

/** What the facts of the moment decide, with the push reserved when there is one. */
interface Decided {
  readonly decision: DeliveryDecision;
  /** Gives back the push reserved for the decision; undefined when it pushes to no device. */
  readonly release: (() => void) | undefined;
}

/** Settles a reservation: kept when `stored` (an event of that type recorded now), else given back. */
const settleWith =
  (release: (() => void) | undefined, stored: string) =>
  (result: E.Either<unknown, CommandResult<{ readonly type: string }, unknown>>): void => {
    const recorded =
      E.isRight(result) &&
      result.right.repeated !== true &&
      result.right.events.some((event) => event.type === stored);
    if (!recorded) release?.();
  };

export const deliveryRouting = (options: DeliveryRoutingOptions): DeliveryRouting => {
  const decideOn = async (
    message: RoutedSubmission,
    at: Date,
    quietHours: boolean,
  ): Promise<Decided> => {
    const { bindingId, appId, recipientId } = message;
    const [binding, app, recipient] = await Promise.all([
      loadState(options.store, 'binding', bindingId, options.cache),
      loadState(options.store, 'app', appId, options.cache),
      loadState(options.store, 'recipient', recipientId, options.cache),
    ]);
    const now = at.getTime();
    const quietUntil =
      quietHours && recipient.status === 'active'
        ? quietUntilFor(recipient.preferences, message, at)
        : undefined;
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
      ...(quietUntil === undefined ? {} : { quietUntil }),
      now: at.toISOString(),
    });
    const pushes =
      decision.kind === 'route' && decision.channels.some((channel) => channel !== INBOX_CHANNEL);
    return { decision, release: pushes ? options.budget.reserve(bindingId, now) : undefined };
  };

  return {
    decide: async (message, at) => {
      const { messageId } = message;
      const { decision, release } = await decideOn(message, at, true);
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
      return {
        command: {
          type: 'RouteMessage',
          data: {
            messageId,
            channels: [...decision.channels],
            ...(decision.inboxOnly === undefined ? {} : { inboxOnly: decision.inboxOnly }),
            ...(decision.deferred === undefined ? {} : { deferred: decision.deferred }),
          },
          metadata,
        },
        settle: settleWith(release, 'MessageRouted'),
      };
    },

    decideRelease: async (message, at) => {
      const { decision, release } = await decideOn(message, at, false);
      if (decision.kind === 'suppress') return { kind: 'drop', reason: decision.reason };
      if (decision.inboxOnly !== undefined) return { kind: 'drop', reason: decision.inboxOnly };
      return {
        kind: 'release',
        channels: decision.channels.filter((channel) => channel !== INBOX_CHANNEL),
        settle: settleWith(release, 'MessagePushReleased'),
      };
    },
  };
};

import * as E from 'fp-ts/lib/Either.js';
import { decideDelivery } from '../../domain/delivery/deliveryDecision.js';
import { INBOX_CHANNEL } from '../../domain/message/messageEvents.js';
import type { MessageCommand } from '../../domain/message/messageCommands.js';
import type { EventStore, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Processor } from '../processing/processor.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import { KeyedSerializer } from '../shared/keyedSerializer.js';
import type { PushBudget } from './pushBudget.js';
import { reactionContext } from '../processing/reaction.js';
import { loadState } from '../processing/streamState.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import { deviceTargetsOf } from './deviceTargets.js';

export interface RouterProcessorOptions {
  readonly store: EventStore;
  /** The process's folded states (see StateCache); read-only loads use it too. */
  readonly cache?: StateCache;
  readonly commands: CommandBus;
  /** The channels this server has: a device is routed to only when its kind is among them. */
  readonly channels: ChannelRegistry;
  readonly budget: PushBudget;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly concurrency?: number;
}

/**
 * The delivery router: when a message becomes deliverable (approved for now, or released by the
 * scheduler), it reads the binding, the app and the person's devices as they are at that moment
 * and records either MessageSuppressed or MessageRouted (with the inbox delivery in the same
 * append). Each device is its own delivery target (`<kind>:<deviceId>`), served, retried and
 * given up by the delivery worker independently of the others; the push budget counts the
 * message once, however many devices it reaches. Messages of one binding are
 * routed one after another so the push budget is counted exactly.
 */
export const routerProcessor = (options: RouterProcessorOptions): Processor => {
  const now = options.now ?? (() => new Date());
  const perBinding = new KeyedSerializer();

  const routeOne = async (recorded: RecordedEvent): Promise<void> => {
    const { messageId } = recorded.data as { messageId: string };
    const message = await loadState(options.store, 'message', messageId, options.cache);
    if (message.status === 'empty') {
      options.logger.warn('router: message not found', { messageId });
      return;
    }
    const { bindingId, appId, recipientId } = message.submission;
    await perBinding.run(bindingId, async () => {
      const [binding, app, recipient] = await Promise.all([
        loadState(options.store, 'binding', bindingId, options.cache),
        loadState(options.store, 'app', appId, options.cache),
        loadState(options.store, 'recipient', recipientId, options.cache),
      ]);
      const at = now();
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
                ...(message.submission.deviceId === undefined
                  ? {}
                  : { only: message.submission.deviceId }),
              }),
        devicePushesLastHour: options.budget.used(bindingId, at.getTime()),
        pushBudgetPerHour: options.budget.perHour,
        now: at.toISOString(),
      });
      const metadata = { now: at.toISOString() };
      const command: MessageCommand =
        decision.kind === 'suppress'
          ? { type: 'SuppressMessage', data: { messageId, reason: decision.reason }, metadata }
          : {
              type: 'RouteMessage',
              data: {
                messageId,
                channels: [...decision.channels],
                ...(decision.inboxOnly === undefined ? {} : { inboxOnly: decision.inboxOnly }),
              },
              metadata,
            };
      const result = await options.commands.execute(
        'message',
        messageId,
        command,
        reactionContext('router', recorded),
      );
      if (E.isLeft(result)) {
        if (result.left.code === 'conflict') throw new Error(result.left.message);
        // Not deliverable (scheduled for later, cancelled, suppressed meanwhile): nothing to route.
        options.logger.debug('router: not routed', { messageId, code: result.left.code });
        return;
      }
      const pushed =
        decision.kind === 'route' && decision.channels.some((channel) => channel !== INBOX_CHANNEL);
      // A repeat (this event seen again after a crash or a lease moving) was counted the first time.
      if (pushed && result.right.events.length > 0 && result.right.repeated !== true) {
        options.budget.record(bindingId, at.getTime());
      }
    });
  };

  return {
    name: 'router',
    eventTypes: ['MessageApproved', 'MessageReleased'],
    processBatch: (batch) => forEachConcurrently(batch, options.concurrency ?? 32, routeOne),
  };
};

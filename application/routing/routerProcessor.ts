import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Processor } from '../processing/processor.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import { KeyedSerializer } from '../shared/keyedSerializer.js';
import type { DeliveryRouting } from './deliveryRouting.js';
import { reactionContext } from '../processing/reaction.js';
import { withoutSettled } from '../processing/settledInBatch.js';
import { loadState } from '../processing/streamState.js';
import type { StateCache } from '../../domain/shared/stateCache.js';

export interface RouterProcessorOptions {
  readonly store: EventStore;
  /** The process's folded states (see StateCache); read-only loads use it too. */
  readonly cache?: StateCache;
  readonly commands: CommandBus;
  /** The routing decision, shared with the submissions routed in their own command. */
  readonly routing: DeliveryRouting;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly concurrency?: number;
}

/** The events that end a message's routing: once one is on record, there is nothing to route. */
const ROUTING_OUTCOMES: ReadonlySet<string> = new Set(['MessageRouted', 'MessageSuppressed']);

/**
 * The delivery router: when a message becomes deliverable (approved for now, or released by the
 * scheduler), it reads the binding, the app and the person's devices as they are at that moment
 * and records either MessageSuppressed or MessageRouted (with the inbox delivery in the same
 * append). Each device is its own delivery target (`<kind>:<deviceId>`), served, retried and
 * given up by the delivery worker independently of the others; the push budget counts the
 * message once, however many devices it reaches. Messages of one binding are routed one after
 * another, in the order they became deliverable.
 *
 * A message submitted and routed in one command (application/messages/submitMessage.ts, with
 * local moderation only) has its MessageRouted right after its MessageApproved: the router reads
 * the outcomes too and passes over an approval whose outcome follows it in the same batch
 * (one split from it by a batch boundary is routed again, which the aggregate answers as a
 * no-op).
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
    await perBinding.run(message.submission.bindingId, async () => {
      const routing = await options.routing.decide(message.submission, now());
      const result = await options.commands.execute(
        'message',
        messageId,
        routing.command,
        reactionContext('router', recorded),
      );
      routing.settle(result);
      if (E.isLeft(result)) {
        if (result.left.code === 'conflict') throw new Error(result.left.message);
        // Not deliverable (scheduled for later, cancelled, suppressed meanwhile): nothing to route.
        options.logger.debug('router: not routed', { messageId, code: result.left.code });
      }
    });
  };

  return {
    name: 'router',
    eventTypes: ['MessageApproved', 'MessageReleased', ...ROUTING_OUTCOMES],
    processBatch: (batch) =>
      forEachConcurrently(
        withoutSettled(batch, (event) => ROUTING_OUTCOMES.has(event.type)),
        options.concurrency ?? 32,
        routeOne,
      ),
  };
};

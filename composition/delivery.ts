import { endQuietHours } from '../application/quietHours/deferredPushes.js';
import type { DeliveryRouting } from '../application/routing/deliveryRouting.js';
import { deferredPushQueries } from '../projections/messages/deferredPushQueries.js';
import { DeliveryWorker } from '../application/delivery/deliveryWorker.js';
import { dailyDigests } from '../application/digest/dailyDigest.js';
import { digestChosenAt } from '../application/digest/digestChosenAt.js';
import { digestQueries } from '../projections/messages/digestQueries.js';
import { digestSubscriberQueries } from '../projections/recipients/recipientQueries.js';
import { secureIds } from '../adapters/security/secureIds.js';
import { Scheduler } from '../application/scheduling/scheduler.js';
import type { CommandBus } from '../application/commandBus.js';
import { defaultRetryPolicy, type RetryPolicy } from '../domain/delivery/retryPolicy.js';
import type { PenaltyLadder } from '../domain/reputation/penaltyLadder.js';
import type { IdempotencyStore } from '../adapters/http/idempotency.js';
import { isPromise } from '../application/shared/maybePromise.js';
import type { ChannelSetup } from './channelSetup.js';
import type { Core } from './core.js';
import type { Queries } from './queries.js';
import type { ReadModels } from './readModels.js';
import type { StopStack } from './stopStack.js';

/** What the delivery worker is built from. */
export interface DeliveryParts {
  /**
   * The command bus for the worker's records: it waits for the messages read model, which the
   * worker reads right after writing.
   */
  readonly commands: CommandBus;
  readonly queries: Queries;
  readonly readModels: ReadModels;
  readonly delivery: ChannelSetup;
  /** Retry schedule; the defaults with TIDINGS_DELIVERY_MAX_ATTEMPTS unless given. */
  readonly retryPolicy?: RetryPolicy;
}

/** The retry schedule of `parts`, else the defaults with TIDINGS_DELIVERY_MAX_ATTEMPTS. */
export const retryPolicyOf = (core: Core, parts: Pick<DeliveryParts, 'retryPolicy'>): RetryPolicy =>
  parts.retryPolicy ?? { ...defaultRetryPolicy, maxAttempts: core.settings.deliveryMaxAttempts };

/**
 * Starts the worker that sends due deliveries through their channels. New rows in the delivery
 * queue (the messages read model) wake it at once rather than at its next poll.
 */
export const startDeliveryWorker = (
  core: Core,
  parts: DeliveryParts,
  stops: StopStack,
  /** False builds it without starting it (a read-only server). */
  run = true,
): DeliveryWorker => {
  const worker = new DeliveryWorker({
    commands: parts.commands,
    messages: parts.queries.messages,
    recipients: parts.queries.recipients,
    bindings: parts.queries.bindings,
    apps: parts.queries.apps,
    channels: parts.delivery.channels,
    secrets: parts.delivery.secrets,
    context: parts.delivery.context,
    retry: retryPolicyOf(core, parts),
    logger: core.logger.child({ component: 'delivery' }),
    ...(core.claims === undefined ? {} : { claims: core.claims }),
    // The delivery groups hand this node its attempts (composition/groupDelivery.ts).
    ...(core.deliveryGroups === undefined ? {} : { scans: false }),
  });
  if (!run) return worker;
  // Every batch wakes it, its own records' included: waking only on batches that routed
  // messages (tried in d4bb463) cost the three-device fan-out about a fifth more server CPU per
  // message (bench: 2,082 µs against 1,719 µs in runs on the same machine; the cause was not
  // profiled).
  parts.readModels.onBatch('messages', () => {
    worker.wake();
  });
  worker.start();
  stops.push(() => worker.stop());
  return worker;
};

/** What the scheduler is built from. */
export interface SchedulerParts {
  readonly commands: CommandBus;
  readonly queries: Queries;
  readonly ladder: PenaltyLadder;
  /** Pruned of expired keys on each tick. */
  readonly idempotency: IdempotencyStore;
  /** The routing decision (and push budget) of this process: quiet hours ending use it. */
  readonly routing: DeliveryRouting;
}

/**
 * Starts the clock: releases due messages, ends suspensions whose time is up, ends quiet hours
 * and sends the daily digests.
 */
export const startScheduler = (
  core: Core,
  parts: SchedulerParts,
  stops: StopStack,
  /** False builds it without starting it (a read-only server). */
  run = true,
): Scheduler => {
  const logger = core.logger.child({ component: 'scheduler' });
  const scheduler = new Scheduler({
    commands: parts.commands,
    messages: parts.queries.messages,
    db: core.db,
    logger,
    recoverTo: parts.ladder.suspendBelow,
    steps: [
      {
        what: 'ending quiet hours',
        run: endQuietHours({
          commands: parts.commands,
          deferred: deferredPushQueries(core.db),
          routing: parts.routing,
          logger,
        }),
      },
      {
        what: 'sending daily digests',
        run: dailyDigests({
          commands: parts.commands,
          apps: parts.queries.apps,
          bindings: parts.queries.bindings,
          recipients: parts.queries.recipients,
          messages: parts.queries.messages,
          subscribers: digestSubscriberQueries(core.db),
          digests: digestQueries(core.db),
          chosenAt: digestChosenAt(core.store),
          ids: secureIds,
          systemAppRedirectUri: new URL('/', core.settings.publicUrl).href,
          publicUrl: core.settings.publicUrl,
          logger: logger.child({ step: 'digest' }),
        }),
      },
    ],
    onTick: (now) => {
      const pruned = parts.idempotency.prune(now);
      // The tick does not wait for a prune in the shared database: its failure is logged here
      // (a synchronous one the scheduler logs), and the next tick prunes again.
      if (isPromise(pruned)) {
        pruned.catch((error: unknown) => {
          logger.error('pruning old Idempotency-Keys failed; the next tick tries again', {
            error,
          });
        });
      }
    },
  });
  if (!run) return scheduler;
  scheduler.start();
  stops.push(() => scheduler.stop());
  return scheduler;
};

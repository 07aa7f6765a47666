import * as E from 'fp-ts/lib/Either.js';
import { setMaxListeners } from 'node:events';
import type { CommandBus } from '../application/commandBus.js';
import type { EventStore } from '../domain/shared/eventStore.js';
import type { DeliveryWorker } from '../application/delivery/deliveryWorker.js';
import {
  DELIVERY_GROUPS,
  groupDeliveryHandler,
  type GroupDeliveryDeps,
} from '../application/delivery/deliveryGroup.js';
import type { RetryPolicy } from '../domain/delivery/retryPolicy.js';
import type { Logger } from '../domain/shared/logger.js';
import { PLUGIN_SEND_TIMEOUT_MS } from '../channels/pluginGuard.js';
import type { ReadinessCheck } from '../adapters/http/app.js';
import {
  PersistentDeliveryConsumer,
  ensureDeliveryGroup,
  type DeliveryGroupOptions,
  type PersistentDeliveryClient,
} from '../adapters/eventstoredb/persistentDelivery.js';
import type { Queries } from './queries.js';
import type { ReadModels } from './readModels.js';
import type { StopStack } from './stopStack.js';

/**
 * Delivery from EventStoreDB persistent subscription groups (`TIDINGS_ESDB_DELIVERY_GROUP`,
 * README "Running several nodes"): instead of each node's worker reading every delivery from its
 * own read model, the server hands each event that plans attempts to one consumer, on whichever
 * node, and the worker there makes them (application/delivery/deliveryGroup.ts). Acknowledged
 * once the attempts are recorded: a node that dies first has its events handed to another node
 * (the server requeues a dropped consumer's events at once, and a hung one's after the timeout).
 */

/** The longest a channel may take for one attempt: a plugin's limit (the built-ins are shorter). */
const ATTEMPT_MS = PLUGIN_SEND_TIMEOUT_MS;
/** How long a handler waits for the messages read model to reach its event. */
const CATCH_UP_MS = 30_000;
/** Failures of one event on a node before its deliveries are abandoned and it is parked. */
const MAX_FAILURES = 5;
/**
 * The server's own limit on handing one event out again, and the consumer's on a throwing
 * handler: far above MAX_FAILURES, because the server's count also grows with every hand-back at
 * a stop or a drop and every message timeout, and an event the server parks by itself leaves its
 * delivery waiting with nothing to abandon it.
 */
const SERVER_MAX_RETRIES = 10_000;
/** Wait before a consumer that stopped for good is started again. */
const RESTART_MS = 5_000;

/** What group delivery is built from. */
export interface GroupDeliveryParts {
  readonly client: PersistentDeliveryClient;
  /** The base name: the groups are `<name>` and `<name>-retries`. */
  readonly groupName: string;
  /** A worker that does not scan its queue (`scans: false`). */
  readonly worker: DeliveryWorker;
  readonly readModels: ReadModels;
  readonly queries: Queries;
  /** The delivery worker's command bus (it waits for the messages read model). */
  readonly commands: CommandBus;
  readonly retryPolicy: RetryPolicy;
  readonly logger: Logger;
  /** The log, for its head (an event handed out again waits for it). */
  readonly store: Pick<EventStore, 'headPosition'>;
}

/** The running group consumers. */
export interface GroupDelivery {
  /** `/readyz`: fails while a group's consumer is not connected. */
  readonly readiness: ReadinessCheck;
}

/**
 * The groups' settings beyond the adapter's defaults. A first attempt is held for at most the
 * read model's catch-up and one attempt; a retry until its time as well, at most the policy's
 * longest wait: the message timeout covers that, so the server does not hand an event to a second
 * node while the first still holds it. Places in flight: the worker's concurrency for first
 * attempts; many for retries, which mostly wait.
 */
export const groupsOf = (
  groupName: string,
  retryPolicy: RetryPolicy,
): ReadonlyArray<DeliveryGroupOptions & { readonly bufferSize: number }> => {
  const held = CATCH_UP_MS + ATTEMPT_MS + 30_000;
  return [
    {
      groupName: `${groupName}${DELIVERY_GROUPS.first.suffix}`,
      eventTypes: DELIVERY_GROUPS.first.eventTypes,
      // A new group goes through the log once, so deliveries planned before it are made too;
      // those already made are acknowledged at once.
      startFrom: 'start',
      settings: { messageTimeout: held, maxRetryCount: SERVER_MAX_RETRIES },
      bufferSize: 64,
    },
    {
      groupName: `${groupName}${DELIVERY_GROUPS.retries.suffix}`,
      eventTypes: DELIVERY_GROUPS.retries.eventTypes,
      startFrom: 'start',
      settings: {
        messageTimeout: retryPolicy.maxDelayMs + held,
        maxRetryCount: SERVER_MAX_RETRIES,
      },
      bufferSize: 1_000,
    },
  ];
};

/**
 * Creates the groups (idempotently) and connects one consumer to each; a consumer that stops
 * for good (access denied, the server away too long) is logged and started again after a pause,
 * group creation included. At shutdown the consumers hand back the retries still waiting and
 * finish the attempts in flight (each bounded by its channel's timeout) before the worker stops.
 */
export const startGroupDelivery = async (
  parts: GroupDeliveryParts,
  stops: StopStack,
): Promise<GroupDelivery> => {
  const { client, logger, queries, worker } = parts;
  const stopping = new AbortController();
  // Every retry held listens to it.
  setMaxListeners(0, stopping.signal);
  const deps: GroupDeliveryDeps = {
    waitForMessages: (position) => parts.readModels.waitForOne('messages', position),
    headPosition: () => parts.store.headPosition(),
    dueAt: (messageId, target) => {
      const waiting = queries.messages.pendingDelivery(messageId, target);
      return waiting === undefined
        ? undefined
        : { attempts: waiting.attempts, retryAt: waiting.retry_at };
    },
    attemptNow: (messageId, target, attempt) => worker.attemptNow(messageId, target, attempt),
    abandon: async ({ messageId, target }, attemptsMade, reason) => {
      const now = new Date().toISOString();
      const result = await parts.commands.execute(
        'message',
        messageId,
        [
          {
            type: 'AbandonDelivery',
            data: { messageId, channel: target, attempts: attemptsMade, lastError: reason },
            metadata: { now },
          },
        ],
        {
          commandId: `delivery-parked:${messageId}:${target}:${attemptsMade}`,
          actor: { kind: 'system', id: 'delivery' },
        },
      );
      if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
    },
    stopping: stopping.signal,
    logger,
    catchUpMs: CATCH_UP_MS,
    maxFailures: MAX_FAILURES,
  };
  const handler = groupDeliveryHandler(deps);
  const groups = groupsOf(parts.groupName, parts.retryPolicy);
  const consumers = new Map<string, PersistentDeliveryConsumer | undefined>();
  const restarts = new Set<NodeJS.Timeout>();

  const connect = async (group: (typeof groups)[number]): Promise<void> => {
    const ensured = await ensureDeliveryGroup(client, group);
    if (ensured !== 'unchanged') {
      logger.info('delivery group ready', { group: group.groupName, ensured });
    }
    if (stopping.signal.aborted) return;
    const consumer = new PersistentDeliveryConsumer(
      client,
      {
        groupName: group.groupName,
        bufferSize: group.bufferSize,
        // The handler parks by its own count; this only backs it up.
        maxHandlerRetries: SERVER_MAX_RETRIES - 1,
        logger,
      },
      handler,
    ).start();
    consumers.set(group.groupName, consumer);
    void consumer.stopped.then((stop) => {
      if (stop.kind === 'closed' || stopping.signal.aborted) return;
      consumers.set(group.groupName, undefined);
      restartLater(group, stop.error);
    });
  };

  const restartLater = (group: (typeof groups)[number], error: unknown): void => {
    logger.error('a delivery group consumer stopped; starting it again', {
      group: group.groupName,
      retryInMs: RESTART_MS,
      error,
    });
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (stopping.signal.aborted) return;
      connect(group).catch((connectError: unknown) => {
        restartLater(group, connectError);
      });
    }, RESTART_MS);
    restarts.add(timer);
  };

  // Pushed first, so a start that fails at the second group still closes the first.
  stops.push(async () => {
    stopping.abort();
    for (const timer of restarts) clearTimeout(timer);
    await Promise.all(
      [...consumers.values()].map((consumer) => consumer?.close() ?? Promise.resolve()),
    );
  });
  // At start a failure stops the start, naming it (no rights to create the group, no server).
  for (const group of groups) await connect(group);
  return {
    readiness: {
      name: 'delivery-groups',
      check: () => {
        const down = groups
          .map((group) => group.groupName)
          .filter((name) => consumers.get(name)?.connected !== true);
        return Promise.resolve(
          down.length === 0 ? undefined : `not consuming the delivery groups ${down.join(', ')}`,
        );
      },
    },
  };
};

import type { Processor, ProcessorRunner } from '../application/processing/processor.js';
import { reactorProcessor } from '../application/processing/processor.js';
import { moderationProcessor } from '../application/moderation/moderationProcessor.js';
import { routerProcessor } from '../application/routing/routerProcessor.js';
import type { DeliveryRouting } from '../application/routing/deliveryRouting.js';
import { reputationProcessor } from '../application/reputation/reputationProcessor.js';
import { recallProcessor } from '../application/delivery/recallProcessor.js';
import { callbackProcessor } from '../application/callbacks/callbackProcessor.js';
import { erasureProcessor } from '../application/erasure/erasureProcessor.js';
import type { ErasableLog } from '../application/erasure/erasableLog.js';
import type { PenaltyLadder } from '../domain/reputation/penaltyLadder.js';
import type { ModerationPolicy } from '../domain/moderation/policy.js';
import type { ChannelSetup } from './channelSetup.js';
import type { CommandBuses } from './commandBuses.js';
import { runnerFor, type Core } from './core.js';
import type { Queries } from './queries.js';
import type { ReadModels } from './readModels.js';
import type { StopStack } from './stopStack.js';

/** What the reactors are built from. */
export interface ReactorParts {
  readonly commands: CommandBuses;
  readonly queries: Queries;
  readonly readModels: ReadModels;
  readonly delivery: ChannelSetup;
  readonly ladder: PenaltyLadder;
  /** The moderation chain, loaded before anything starts so that a bad setting fails at once. */
  readonly policies: readonly ModerationPolicy[];
  /** The routing decision and push budget, shared with the submissions routed inline. */
  readonly routing: DeliveryRouting;
}

/**
 * Builds and starts the processors that react to the log: moderation, routing, reputation,
 * recall, the apps' callbacks and, on a log whose events can be rewritten (the embedded store,
 * PostgreSQL), erasure (docs/architecture.md, "The life of one message"). Start them only once
 * the read models are current: they read them (push budget, a binding's openid, what a recall
 * withdraws).
 */
export const startReactors = (
  core: Core,
  parts: ReactorParts,
  stops: StopStack,
  leased?: (make: () => Processor) => ProcessorRunner,
): ProcessorRunner[] => {
  const erasable = core.erasable;
  const makers: (() => Processor)[] = [
    () => moderation(core, parts),
    () => router(core, parts),
    () => reputation(core, parts),
    () => recall(core, parts),
    () => callbacks(core, parts),
    ...(erasable === undefined ? [] : [() => erasure(core, erasable, parts)]),
  ];
  // With several nodes each reactor runs under its lease (composition/leadership.ts), started
  // and stopped by it; on one node they all run here from now on.
  const runners = makers.map((make) => leased?.(make) ?? runnerFor(core, make()));
  if (leased === undefined) for (const runner of runners) runner.start();
  stops.push(async () => {
    // Together with the read models: a reactor may be waiting for one (the reputation stage for
    // the complaints), and a stopping read model ends that wait.
    await Promise.all([...runners, ...parts.readModels.runners].map((runner) => runner.stop()));
  });
  return runners;
};

/** Moderation: MessageSubmitted → approved, rejected or held, by the policy chain. */
const moderation = (core: Core, parts: ReactorParts): Processor =>
  moderationProcessor({
    commands: parts.commands.processors,
    policies: parts.policies,
    // Only WeChat's checker needs the person's openid; without it, no lookup per message.
    openidOf:
      core.settings.wechatAppId !== undefined && core.settings.wechatAppSecret !== undefined
        ? (bindingId) => parts.queries.bindings.byId(bindingId)?.openid
        : () => undefined,
    logger: core.logger.child({ processor: 'moderation' }),
  });

/** Routing: an approved or released message → its deliveries, by the binding's preference. */
const router = (core: Core, parts: ReactorParts): Processor =>
  routerProcessor({
    store: core.store,
    cache: core.cache,
    commands: parts.commands.processors,
    routing: parts.routing,
    logger: core.logger.child({ processor: 'router' }),
  });

/** Reputation: upheld complaints and complaint surges → penalties, suspensions, bans. */
const reputation = (core: Core, parts: ReactorParts): Processor =>
  reputationProcessor({
    store: core.store,
    cache: core.cache,
    commands: parts.commands.processors,
    db: core.db,
    ladder: parts.ladder,
    surge: {
      enabled: core.settings.surgeComplainants > 0,
      complainants: core.settings.surgeComplainants,
      windowHours: core.settings.surgeWindowHours,
    },
    complaintsAt: (position) => parts.readModels.waitForOne('complaints', position),
    logger: core.logger.child({ processor: 'reputation' }),
  });

/** Recall: a recalled message is withdrawn from the devices it reached. */
const recall = (core: Core, parts: ReactorParts): Processor =>
  reactorProcessor(
    recallProcessor({
      store: core.store,
      cache: core.cache,
      ...parts.queries,
      channels: parts.delivery.channels,
      secrets: parts.delivery.secrets,
      context: parts.delivery.context,
      logger: core.logger.child({ processor: 'recall' }),
    }),
  );

/** Callbacks: what an app asked to hear about (unbinds, deliveries, penalties) → its queue. */
const callbacks = (core: Core, parts: ReactorParts): Processor =>
  reactorProcessor(
    callbackProcessor({
      store: core.store,
      cache: core.cache,
      commands: parts.commands.processors,
      logger: core.logger.child({ processor: 'callbacks' }),
    }),
  );

/** Erasure: a deleted account → its bindings revoked, its personal data erased (docs/audit.md). */
const erasure = (core: Core, log: ErasableLog, parts: ReactorParts): Processor =>
  reactorProcessor(
    erasureProcessor({
      log,
      commands: parts.commands.waiting,
      bindings: parts.queries.bindings,
      cache: core.cache,
      logger: core.logger.child({ processor: 'erasure' }),
    }),
  );

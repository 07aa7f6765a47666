import { startAudit } from './composition/audit.js';
import { erasureElsewhereOf, erasureWait } from './composition/erasure.js';
import { followErasures } from './composition/nodeErasure.js';
import { readOnlyStore } from './composition/readOnlyStore.js';
import { replayedUntil } from './adapters/sqlite/replayCopy.js';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from './domain/shared/eventStore.js';
import { StateCache } from './domain/shared/stateCache.js';
import type { RetryPolicy } from './domain/delivery/retryPolicy.js';
import type { CallbackRetryPolicy } from './domain/callback/callbackRetry.js';
import { startCallbackWorker } from './composition/callbacks.js';
import type { PenaltyLadder } from './domain/reputation/penaltyLadder.js';
import type { Channel, ChannelContext } from './channels/channel.js';
import { builtInKinds, configuredChannels, createBuiltInRegistry } from './channels/index.js';
import type { ChannelRegistry } from './channels/registry.js';
import { allProjections } from './projections/index.js';
import type { Projection } from './projections/projection.js';
import type { ProcessorRunner } from './application/processing/processor.js';
import type { CommandBus } from './application/commandBus.js';
import type { DeliveryWorker } from './application/delivery/deliveryWorker.js';
import type { Scheduler } from './application/scheduling/scheduler.js';
import { loadSettings, type Settings } from './adapters/config/settings.js';
import { penaltyLadderOf } from './adapters/config/penaltyLadder.js';
import { createJsonLogger, type Logger } from './adapters/logging/logger.js';
import type { SqliteDatabase } from './adapters/sqlite/database.js';
import { CheckpointStore } from './adapters/sqlite/checkpointStore.js';
import { createMetrics, type Metrics } from './adapters/http/metrics.js';
import { sqliteIdempotencyStore, type IdempotencyStore } from './adapters/http/idempotency.js';
import { parseAllowlist, type Allowlist } from './adapters/outbound/addressPolicy.js';
import type { HostResolver } from './adapters/outbound/destinationGuard.js';
import { createGuardedHttpClient } from './adapters/outbound/guardedHttpClient.js';
import type { PasswordCost } from './adapters/security/passwords.js';
import { StopStack } from './composition/stopStack.js';
import { logKindOf, openDataFolder } from './composition/dataFolder.js';
import { resolveAccessTokens, type AccessTokens } from './composition/accessTokens.js';
import type { Core } from './composition/core.js';
import { startReadModels } from './composition/readModels.js';
import { commandBusesOf } from './composition/commandBuses.js';
import { queriesOf, type Queries } from './composition/queries.js';
import type { ChannelSetup } from './composition/channelSetup.js';
import { loadChannelPlugins } from './composition/channelPlugins.js';
import { createSmtpEmailChannel } from './composition/emailChannel.js';
import { moderationPolicies } from './adapters/moderation/policies.js';
import { startReactors } from './composition/reactors.js';
import { inlineStagesOf, routingOf } from './composition/submissionStages.js';
import type { InlineStages } from './application/messages/inlineStages.js';
import { retryPolicyOf, startDeliveryWorker, startScheduler } from './composition/delivery.js';
import { startGroupDelivery, type GroupDelivery } from './composition/groupDelivery.js';
import { startAdmission } from './composition/admission.js';
import { EsdbEventStore } from './adapters/eventstoredb/esdbEventStore.js';
import type { PersistentDeliveryClient } from './adapters/eventstoredb/persistentDelivery.js';
import { reportProcessors } from './composition/processorMetrics.js';
import { buildHttpApp } from './composition/httpApp.js';
import { openDeviceSecrets } from './composition/deviceSecrets.js';
import { listenHttp } from './composition/listen.js';
import type { Processor } from './application/processing/processor.js';
import {
  leasedRunner,
  startLeadership,
  type LeasedWork,
  type Leadership,
} from './composition/leadership.js';
import { attemptClaimsOf } from './composition/sharedDatabase.js';
import { readBarrier } from './composition/readBarrier.js';
import { PgIdempotencyStore } from './adapters/postgres/pgIdempotency.js';
import { nodeDetails } from './composition/readiness.js';
import type { ReadModels } from './composition/readModels.js';

/** A running Tidings instance. */
export interface Tidings {
  /** Base URL it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly settings: Settings;
  readonly store: EventStore;
  readonly db: SqliteDatabase;
  readonly checkpoints: CheckpointStore;
  readonly runners: readonly ProcessorRunner[];
  /** Releases due messages; tests may tick it by hand. */
  readonly scheduler: Scheduler;
  readonly worker: DeliveryWorker;
  /** The channels it delivers through: the built-in ones, then the plugins. */
  readonly channels: ChannelRegistry;
  readonly metrics: Metrics;
  readonly adminToken: string;
  readonly auditToken: string;
  /** Graceful stop: no new requests, processors finish their batch, stores close. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Read models to keep; all of them by default. */
  readonly projections?: readonly Projection[];
  /** scrypt cost for new passwords; tests lower it to stay fast. */
  readonly passwordCost?: PasswordCost;
  /** Resolver the SSRF guard uses; the system's by default. */
  readonly resolver?: HostResolver;
  /** Delivery retry schedule; from the defaults and TIDINGS_DELIVERY_MAX_ATTEMPTS unless given (tests shorten it). */
  readonly retryPolicy?: RetryPolicy;
  /** Callback retry schedule and time limit per attempt; docs/api.md's unless given (tests shorten them). */
  readonly callbacks?: { readonly retry?: CallbackRetryPolicy; readonly timeoutMs?: number };
  /** Failed logins allowed per client address and per username before 429; the settings' unless given. */
  readonly authFailureBurst?: { readonly perIp: number; readonly perUsername: number };
  /** New accounts allowed per client address at once; TIDINGS_REGISTRATION_BURST unless given. */
  readonly registrationBurst?: number;
  /** Test pushes allowed per person at once; 5 unless given. */
  readonly testPushBurst?: number;
  /** Where `TIDINGS_CHANNEL_PLUGINS` paths and package names are resolved from; the process's. */
  readonly cwd?: string;
  /**
   * Delivery groups to deliver from on any log, as with `TIDINGS_ESDB_DELIVERY_GROUP` on
   * EventStoreDB (tests hand a stand-in of the server's persistent subscriptions).
   */
  readonly deliveryGroups?: { readonly client: PersistentDeliveryClient; readonly name: string };
}

/**
 * Starts Tidings: opens the data folder and the log, starts the read models, then the processors
 * that read them, then listens (docs/architecture.md). Each step pushes its stop step, so a
 * failed start undoes what it started and leaves no half-open store behind.
 */
export const startTidings = async (
  settings: Settings,
  options: StartOptions = {},
): Promise<Tidings> => {
  const logger = options.logger ?? createJsonLogger(settings.logLevel);
  const stops = new StopStack(logger);
  try {
    const core = await openCore(settings, logger, stops, options);
    const tokens = resolveAccessTokens(settings, logger);
    const running = await startProcessing(core, options, stops);
    const url = await serveHttp(core, running, tokens, options, stops);
    return {
      url,
      settings,
      store: core.store,
      db: core.db,
      checkpoints: core.checkpoints,
      runners: running.runners,
      scheduler: running.scheduler,
      worker: running.worker,
      channels: running.delivery.channels,
      metrics: core.metrics,
      adminToken: tokens.admin,
      auditToken: tokens.audit,
      close: closeOnce(stops, logger),
    };
  } catch (error) {
    await stops.runAll();
    throw error;
  }
};

/** Opens the data folder and the log, with what every later step shares. */
const openCore = async (
  settings: Settings,
  logger: Logger,
  stops: StopStack,
  options: Pick<StartOptions, 'deliveryGroups'>,
): Promise<Core> => {
  const { db, store: log, chainedAtOpen, erasable, shared } = await openDataFolder(settings, stops);
  const deliveryGroups =
    options.deliveryGroups ??
    (settings.esdbDeliveryGroup !== undefined && log instanceof EsdbEventStore && log.groups
      ? { client: log.groups, name: settings.esdbDeliveryGroup }
      : undefined);
  const store = settings.readOnly ? readOnlyStore(log) : log;
  if (settings.readOnly) {
    logger.info('serving the data folder read-only: no writes, no processors, no deliveries', {
      asOf: replayedUntil(db) ?? null,
    });
  }
  if (chainedAtOpen > 0) {
    logger.info('chained the events written before the log had its hash chain', {
      events: chainedAtOpen,
    });
  }
  return {
    settings,
    logger,
    store,
    db,
    checkpoints: new CheckpointStore(db),
    metrics: createMetrics(),
    cache: new StateCache(),
    ...(erasable === undefined || settings.readOnly ? {} : { erasable }),
    ...(shared === undefined ? {} : { shared, claims: attemptClaimsOf(shared) }),
    ...(deliveryGroups === undefined || settings.readOnly ? {} : { deliveryGroups }),
  };
};

/** What the processing steps started, for the HTTP application and the caller. */
interface Processing {
  /** The command bus that waits for the read models (read-your-writes). */
  readonly commands: CommandBus;
  readonly queries: Queries;
  readonly ladder: PenaltyLadder;
  readonly allowlist: Allowlist;
  readonly idempotency: IdempotencyStore;
  /** The read models, then the reactors. */
  readonly runners: readonly ProcessorRunner[];
  readonly worker: DeliveryWorker;
  readonly scheduler: Scheduler;
  /** The channels, for the devices routes (GET /v1/channels, settings checks). */
  readonly delivery: ChannelSetup;
  /** With several nodes: this node's leases. */
  readonly leadership?: Leadership;
  readonly readModels: ReadModels;
  /** With delivery groups: their consumers' readiness. */
  readonly groupDelivery?: GroupDelivery;
  /** Moderation and routing in the submission's command, where this node may (see there). */
  readonly inline?: InlineStages;
}

/**
 * Starts the read models, then the processors (they read the read models, so after a crash or a
 * rebuild they start only once these are current), the delivery worker and the clock.
 */
const startProcessing = async (
  core: Core,
  options: StartOptions,
  stops: StopStack,
): Promise<Processing> => {
  // The moderation chain first (the denylist file, WeChat's settings): a bad setting stops the
  // start before the read models replay the log.
  const policies = await moderationPolicies(core.settings);
  const configured = configuredChannelsOf(core);
  const plugins = await loadChannelPlugins(
    core.settings.channelPlugins,
    options.cwd ?? process.cwd(),
    builtInKinds,
  );
  if (E.isLeft(plugins)) throw new Error(plugins.left);
  const readModels = await startReadModels(core, options.projections ?? allProjections, stops);
  const commands = commandBusesOf(core, readModels);
  const queries = queriesOf(core.db);
  const ladder = penaltyLadderOf(core.settings);
  const allowlist = parseAllowlist(core.settings.outboundAllowlist);
  const delivery = deviceChannels(
    core,
    [...configured, ...plugins.right],
    allowlist,
    options.resolver,
  );
  // A read-only folder (a replay) shows the past: nothing reacts, delivers or runs by the clock.
  const live = !core.settings.readOnly;
  // With several nodes, each reactor and the scheduler run under a lease (one node at a time).
  const leasedWork: LeasedWork[] = [];
  let leadership: Leadership | undefined;
  const leased =
    core.shared === undefined
      ? undefined
      : (make: () => Processor): ProcessorRunner => {
          const { runner, work } = leasedRunner(core, make, (name, checkpoint) => {
            leadership?.progress(name, checkpoint);
          });
          leasedWork.push(work);
          return runner;
        };
  const routing = routingOf(core, queries, delivery);
  const reactorRunners = live
    ? startReactors(
        core,
        { commands, queries, readModels, delivery, ladder, policies, routing },
        stops,
        leased,
      )
    : [];
  const worker = startDeliveryWorker(
    core,
    {
      commands: commands.delivery,
      queries,
      readModels,
      delivery,
      ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
    },
    stops,
    live,
  );
  const groupDelivery =
    core.deliveryGroups === undefined || !live
      ? undefined
      : await startGroupDelivery(
          {
            client: core.deliveryGroups.client,
            groupName: core.deliveryGroups.name,
            worker,
            readModels,
            queries,
            commands: commands.delivery,
            retryPolicy: retryPolicyOf(core, options),
            logger: core.logger.child({ component: 'delivery-groups' }),
            store: core.store,
          },
          stops,
        );
  startCallbackWorker(
    core,
    { commands, queries, readModels, delivery, ...options.callbacks },
    stops,
    live,
  );
  // Several nodes share the keys, so the same key sent to two of them at once is one message.
  const idempotency: IdempotencyStore =
    core.shared === undefined
      ? sqliteIdempotencyStore(core.db)
      : new PgIdempotencyStore(core.shared.pool, `${core.shared.processId}/${randomUUID()}`);
  const scheduler = startScheduler(
    core,
    { commands: commands.waiting, queries, ladder, idempotency, routing },
    stops,
    live && core.shared === undefined,
  );
  if (core.shared !== undefined && live) {
    leasedWork.push({
      name: 'scheduler',
      start: () => {
        scheduler.start();
      },
      stop: async () => {
        await scheduler.stop();
        return undefined;
      },
    });
    leadership = await startLeadership(core.shared, leasedWork, core.logger, stops);
  }
  const runners = [...readModels.runners, ...reactorRunners];
  reportProcessors(core.metrics, runners);
  const inline = live ? inlineStagesOf(core, policies, routing) : undefined;
  return {
    commands: commands.waiting,
    queries,
    ladder,
    ...(inline === undefined ? {} : { inline }),
    allowlist,
    idempotency,
    runners,
    worker,
    scheduler,
    delivery,
    readModels,
    ...(leadership === undefined ? {} : { leadership }),
    ...(groupDelivery === undefined ? {} : { groupDelivery }),
  };
};

/** Builds the HTTP application, listens, and answers the URL it is reached at. */
const serveHttp = async (
  core: Core,
  running: Processing,
  tokens: AccessTokens,
  options: StartOptions,
  stops: StopStack,
): Promise<string> => {
  const audit = await startAudit(core, stops);
  const leadership = running.leadership;
  // With leases, a reactor this node does not hold is not expected to run here.
  const runningHere = (): readonly ProcessorRunner[] =>
    leadership === undefined
      ? running.runners
      : running.runners.filter(
          (runner) =>
            running.readModels.runners.includes(runner) ||
            leadership.held().includes(`processor:${runner.name}`),
        );
  const erasure = running.runners.find((runner) => runner.name === 'erasure');
  const admission = core.settings.readOnly
    ? undefined
    : startAdmission(
        {
          store: core.store,
          runners: running.runners,
          messages: running.queries.messages,
          inFlight: (messageId, channel) => running.worker.isInFlight(messageId, channel),
          metrics: core.metrics,
          logger: core.logger.child({ component: 'admission' }),
          maxLagSeconds: core.settings.admissionMaxLagSeconds,
        },
        stops,
      );
  // With several nodes, this node follows the erasures that run on any of them.
  const wipe = erasure === undefined ? undefined : followErasures(core, running.readModels, stops);
  // What `/readyz` shows of this node: with several nodes its leases and lag, and how far
  // delivery is behind (composition/admission.ts).
  const leases =
    core.shared === undefined || running.leadership === undefined
      ? undefined
      : nodeDetails(
          core.store,
          core.shared.nodeId,
          runningHere,
          () => running.leadership?.snapshot() ?? Promise.resolve([]),
        );
  const readinessDetails =
    leases === undefined && admission === undefined
      ? undefined
      : async (): Promise<Record<string, unknown>> => ({
          ...(leases === undefined ? {} : await leases()),
          ...(admission === undefined ? {} : { delivery: admission.details() }),
        });
  const app = buildHttpApp(core, {
    commands: running.commands,
    queries: running.queries,
    ladder: running.ladder,
    tokens,
    idempotency: running.idempotency,
    outboundAllowlist: running.allowlist,
    runningHere,
    ...(core.shared === undefined
      ? {}
      : { barrier: readBarrier(core.store, running.readModels, core.logger) }),
    ...(readinessDetails === undefined ? {} : { readinessDetails }),
    delivery: running.delivery,
    ...(running.inline === undefined ? {} : { inline: running.inline }),
    ...(admission === undefined ? {} : { admission: admission.router }),
    readiness: [...(running.groupDelivery === undefined ? [] : [running.groupDelivery.readiness])],
    limits: options,
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    ...(options.passwordCost === undefined ? {} : { passwordCost: options.passwordCost }),
    ...(audit === undefined ? {} : { audit }),
    ...(erasure === undefined
      ? {}
      : {
          erased: erasureWait(
            core.store,
            erasure,
            erasureElsewhereOf(core, running.readModels, wipe),
          ),
        }),
  });
  const url = await listenHttp(app, core.settings, stops, core.logger);
  core.logger.info('tidings listening', {
    url,
    store: logKindOf(core.settings),
    dataDir: core.settings.dataDir,
  });
  return url;
};

/** A graceful stop that runs the stop steps once, however often it is called. */
const closeOnce = (stops: StopStack, logger: Logger): (() => Promise<void>) => {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= stops.runAll().then(() => {
      logger.info('tidings stopped');
    }));
};

/**
 * The built-in channels that exist only when the operator configured them: `email` with an SMTP
 * server (`TIDINGS_SMTP_URL`, `TIDINGS_SMTP_FROM`), `sms` with a gateway
 * (`TIDINGS_SMS_GATEWAY_URL`, `TIDINGS_SMS_GATEWAY_TOKEN`).
 */
const configuredChannelsOf = (core: Core): readonly Channel[] => [
  ...(core.settings.smtp === undefined
    ? []
    : [createSmtpEmailChannel(core.settings.smtp, core.logger.child({ component: 'channels' }))]),
  ...configuredChannels(core.settings),
];

/**
 * The delivery channels (the built-in ones, then the configured ones and the plugins), with the
 * SSRF-guarded HTTP client, clock and logger they send with.
 */
const deviceChannels = (
  core: Core,
  plugins: readonly Channel[],
  allowlist: Allowlist,
  resolver: HostResolver | undefined,
): ChannelSetup => {
  const http = createGuardedHttpClient({
    allowlist,
    timeoutMs: 5_000,
    ...(resolver === undefined ? {} : { lookup: resolver }),
  });
  const context: ChannelContext = {
    http,
    logger: core.logger.child({ component: 'channels' }),
    now: () => new Date(),
  };
  return {
    channels: createBuiltInRegistry(plugins),
    context,
    secrets: openDeviceSecrets(core.settings.dataDir, core.logger),
  };
};

/** Entry point: settings from the environment, start, stop cleanly on SIGTERM or SIGINT. */
const main = async (): Promise<void> => {
  const decoded = loadSettings(process.env);
  if (E.isLeft(decoded)) {
    process.stderr.write(`tidings: ${decoded.left}\n`);
    process.exit(2);
  }
  const logger = createJsonLogger(decoded.right.logLevel);
  let tidings: Tidings;
  try {
    tidings = await startTidings(decoded.right, { logger });
  } catch (error) {
    process.stderr.write(
      `tidings: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info('shutting down', { signal });
    tidings.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}

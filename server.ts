import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from './domain/shared/eventStore.js';
import { loadSettings, type Settings } from './adapters/config/settings.js';
import { resolveToken } from './adapters/config/tokens.js';
import { lockDataDir } from './adapters/config/dataDirLock.js';
import { createJsonLogger, type Logger } from './adapters/logging/logger.js';
import {
  claimLogKind,
  openStoreDatabase,
  type SqliteDatabase,
} from './adapters/sqlite/database.js';
import { SqliteEventStore } from './adapters/sqlite/sqliteEventStore.js';
import { CheckpointStore } from './adapters/sqlite/checkpointStore.js';
import { openEsdbEventStore } from './adapters/eventstoredb/esdbEventStore.js';
import { createHttpApp } from './adapters/http/app.js';
import { createMetrics, type Metrics } from './adapters/http/metrics.js';
import { allProjections } from './projections/index.js';
import { appQueries } from './projections/apps/appQueries.js';
import { bindingQueries } from './projections/bindings/bindingQueries.js';
import { recipientQueries } from './projections/recipients/recipientQueries.js';
import { complaintCounts } from './projections/complaints/complaintsProjection.js';
import { createApiRouter } from './adapters/http/api/index.js';
import { createWebRouter } from './adapters/web/webRouter.js';
import { createCommandBus } from './application/commandBus.js';
import { TokenBuckets } from './adapters/http/rateLimiter.js';
import { parseAllowlist } from './adapters/outbound/addressPolicy.js';
import type { HostResolver } from './adapters/outbound/destinationGuard.js';
import type { PasswordCost } from './adapters/security/passwords.js';
import { prepareProjection, type Projection } from './projections/projection.js';
import {
  ProcessorRunner,
  projectionProcessor,
  reactorProcessor,
  type Processor,
  type RunnerOptions,
} from './application/processing/processor.js';
import { messageQueries } from './projections/messages/messageQueries.js';
import { StateCache } from './domain/shared/stateCache.js';
import { createGuardedHttpClient } from './adapters/outbound/guardedHttpClient.js';
import type { ChannelContext } from './channels/channel.js';
import { createChannelRegistry } from './channels/registry.js';
import { builtInChannels } from './channels/index.js';
import { moderationProcessor } from './application/moderation/moderationProcessor.js';
import { routerProcessor } from './application/routing/routerProcessor.js';
import { recallProcessor } from './application/delivery/recallProcessor.js';
import { DeliveryWorker } from './application/delivery/deliveryWorker.js';
import { PushBudget } from './application/routing/pushBudget.js';
import { Scheduler } from './application/scheduling/scheduler.js';
import { moderationPolicies } from './adapters/moderation/policies.js';
import { defaultRetryPolicy, type RetryPolicy } from './domain/delivery/retryPolicy.js';
import { sqliteIdempotencyStore } from './adapters/http/idempotency.js';
import { reputationProcessor } from './application/reputation/reputationProcessor.js';
import { complaintQueries } from './projections/complaints/complaintQueries.js';
import { listApps } from './projections/apps/appList.js';
import type { PenaltyLadder } from './domain/reputation/penaltyLadder.js';

/** The version reported by the API document. */
const VERSION = '0.1.0';

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
  /** Failed logins allowed per client address and per username before 429 (burst, then one per minute). */
  readonly authFailureBurst?: { readonly perIp: number; readonly perUsername: number };
  /**
   * New accounts allowed per client address at once (then one every three minutes); default 20.
   * Each costs a slow password hash, so an unlimited stream of them would starve the machine.
   */
  readonly registrationBurst?: number;
}

/** The penalty ladder from the settings. */
const ladderOf = (settings: Settings): PenaltyLadder => ({
  points: settings.penaltyPoints,
  suspendBelow: settings.suspendBelow,
  banBelow: settings.banBelow,
  maxSuspensions: settings.maxSuspensions,
  suspensionDays: settings.suspensionDays,
});

/** How long a login lasts. */
const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Starts Tidings: opens the embedded database (and EventStoreDB when configured), prepares the
 * read models, starts the processors, then listens. Everything started is stopped again if a
 * later step fails, so a failed start leaves no half-open store behind.
 */
export const startTidings = async (
  settings: Settings,
  options: StartOptions = {},
): Promise<Tidings> => {
  const logger = options.logger ?? createJsonLogger(settings.logLevel);
  const cleanup: Array<() => Promise<void> | void> = [];
  const undo = async (): Promise<void> => {
    // Every step runs, whatever an earlier one did: the last ones close the store and release
    // the data folder.
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error('a shutdown step failed; going on with the others', { error });
      }
    }
  };
  try {
    const lock = lockDataDir(prepareDataDir(settings.dataDir), 'server');
    cleanup.push(() => {
      lock.release();
    });
    // With synchronous=full the event store syncs the WAL itself, off the event loop.
    const { db, walSync } = openStoreDatabase({
      dataDir: settings.dataDir,
      synchronous: settings.sqliteSynchronous,
    });
    cleanup.push(() => {
      db.close();
    });
    claimLogKind(db, settings.eventStoreConnectionString === undefined ? 'sqlite' : 'eventstoredb');
    const store: EventStore =
      settings.eventStoreConnectionString === undefined
        ? new SqliteEventStore(db, walSync === undefined ? {} : { walSync })
        : await openEsdbEventStore(settings.eventStoreConnectionString);
    cleanup.push(() => store.close());

    const admin = resolveToken(settings.adminToken, settings.dataDir, 'admin-token', 'tda_');
    const audit = resolveToken(settings.auditToken, settings.dataDir, 'audit-token', 'tdu_');
    for (const [role, token] of [
      ['operator', admin],
      ['auditor', audit],
    ] as const) {
      if (token.file !== undefined) {
        logger.info(
          `${role} token ${token.generated ? 'generated and written to' : 'read from'} its file`,
          { file: token.file },
        );
      }
    }

    const metrics = createMetrics();
    const checkpoints = new CheckpointStore(db);
    const runnerFor = (processor: Processor, runnerOptions: RunnerOptions = {}): ProcessorRunner =>
      new ProcessorRunner(
        store,
        checkpoints,
        processor,
        logger.child({ processor: processor.name }),
        runnerOptions,
      );

    // Read models. Requests wait for them after writing (read-your-writes).
    let wakeWorker = (): void => undefined;
    const projectionRunners = (options.projections ?? allProjections).map((projection) => {
      if (prepareProjection(db, projection)) {
        logger.warn('read model layout changed; rebuilding it from the log', {
          projection: projection.name,
        });
      }
      return runnerFor(projectionProcessor(db, checkpoints, projection), {
        // The delivery queue lives in the messages read model: new rows wake the worker at once.
        ...(projection.name === 'messages'
          ? {
              onBatch: () => {
                wakeWorker();
              },
            }
          : {}),
      });
    });
    // Folded aggregate states, shared by every writer of this process (it alone owns the data
    // folder), so commands on freshly written streams skip reading and folding them again.
    const cache = new StateCache();
    const commands = createCommandBus({
      store,
      metrics,
      cache,
      afterAppend: async (position) => {
        await Promise.all(projectionRunners.map((runner) => runner.waitFor(position)));
      },
    });
    // Processors that decide from the log itself (moderation, router, reputation) need not wait
    // for the read models after each write; requests and the delivery worker, which read them
    // right after writing, do.
    const processorCommands = createCommandBus({ store, metrics, cache });
    const queries = {
      apps: appQueries(db),
      recipients: recipientQueries(db),
      bindings: bindingQueries(db),
      messages: messageQueries(db),
    };

    // The push pipeline: moderation, routing, device delivery, recall, and the clock.
    const allowlist = parseAllowlist(settings.outboundAllowlist);
    const http = createGuardedHttpClient({
      allowlist,
      timeoutMs: 5_000,
      ...(options.resolver === undefined ? {} : { lookup: options.resolver }),
    });
    const channelContext: ChannelContext = {
      http,
      logger: logger.child({ component: 'channels' }),
      now: () => new Date(),
    };
    const channels = createChannelRegistry(builtInChannels);
    const policies = await moderationPolicies(settings);
    const ladder = ladderOf(settings);
    const reactorRunners = [
      runnerFor(
        moderationProcessor({
          commands: processorCommands,
          policies,
          // Only WeChat's checker needs the person's openid; without it, no lookup per message.
          openidOf:
            settings.wechatAppId !== undefined && settings.wechatAppSecret !== undefined
              ? (bindingId) => queries.bindings.byId(bindingId)?.openid
              : () => undefined,
          logger: logger.child({ processor: 'moderation' }),
        }),
      ),
      runnerFor(
        routerProcessor({
          store,
          cache,
          commands: processorCommands,
          channels,
          budget: new PushBudget(settings.pushBudgetPerHour, (bindingId, since) =>
            queries.messages.devicePushesSince(bindingId, since),
          ),
          logger: logger.child({ processor: 'router' }),
        }),
      ),
      runnerFor(
        reputationProcessor({
          store,
          cache,
          commands: processorCommands,
          db,
          ladder,
          surge: {
            enabled: settings.surgeComplainants > 0,
            complainants: settings.surgeComplainants,
            windowHours: settings.surgeWindowHours,
          },
          complaintsAt: (position) =>
            projectionRunners.find((runner) => runner.name === 'complaints')?.waitFor(position) ??
            Promise.resolve(),
          logger: logger.child({ processor: 'reputation' }),
        }),
      ),
      runnerFor(
        reactorProcessor(
          recallProcessor({
            store,
            cache,
            ...queries,
            channels,
            context: channelContext,
            logger: logger.child({ processor: 'recall' }),
          }),
        ),
      ),
    ];
    const runners = [...projectionRunners, ...reactorRunners];
    // The read models first: the processors read them (push budget, a binding's openid, what a
    // recall withdraws), so after a crash or a rebuild they start only once these are current.
    for (const runner of projectionRunners) runner.start();
    cleanup.push(async () => {
      await Promise.all(projectionRunners.map((runner) => runner.stop()));
    });
    await catchUp(store, projectionRunners, logger);
    for (const runner of reactorRunners) runner.start();
    cleanup.push(async () => {
      // Together: a reactor may be waiting for a read model (the reputation stage for the
      // complaints), and a stopping read model ends that wait.
      await Promise.all([...reactorRunners, ...projectionRunners].map((runner) => runner.stop()));
    });
    const worker = new DeliveryWorker({
      commands,
      messages: queries.messages,
      recipients: queries.recipients,
      bindings: queries.bindings,
      apps: queries.apps,
      channels,
      context: channelContext,
      retry: options.retryPolicy ?? {
        ...defaultRetryPolicy,
        maxAttempts: settings.deliveryMaxAttempts,
      },
      logger: logger.child({ component: 'delivery' }),
    });
    wakeWorker = () => {
      worker.wake();
    };
    worker.start();
    cleanup.push(() => worker.stop());
    const idempotency = sqliteIdempotencyStore(db);
    const scheduler = new Scheduler({
      commands,
      messages: queries.messages,
      db,
      logger: logger.child({ component: 'scheduler' }),
      recoverTo: ladder.suspendBelow,
      onTick: (now) => {
        idempotency.prune(now);
      },
    });
    scheduler.start();
    cleanup.push(() => scheduler.stop());

    metrics.onScrape(() => {
      for (const runner of runners) {
        metrics.processorFailures.set({ processor: runner.name }, runner.consecutiveFailures);
        metrics.processorPosition.set(
          { processor: runner.name },
          Number(runner.position?.commit ?? 0n),
        );
      }
    });

    const api = createApiRouter({
      commands,
      logger,
      ...queries,
      complaints: complaintQueries(db),
      listApps: listApps(db),
      ladder,
      complaintCounts: complaintCounts(db),
      publicUrl: settings.publicUrl,
      outboundAllowlist: allowlist,
      ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
      ...(options.passwordCost === undefined ? {} : { passwordCost: options.passwordCost }),
      authFailures: {
        byIp: new TokenBuckets({
          burst: options.authFailureBurst?.perIp ?? 30,
          refillPerSecond: 1 / 60,
        }),
        byUsername: new TokenBuckets({
          burst: options.authFailureBurst?.perUsername ?? 10,
          refillPerSecond: 1 / 60,
        }),
      },
      registrations: new TokenBuckets({
        burst: options.registrationBurst ?? 20,
        refillPerSecond: 1 / 180,
      }),
      appRateLimit: new TokenBuckets({
        burst: settings.appRateBurst,
        refillPerSecond: settings.appRatePerSecond,
      }),
      sessionTtlMs: SESSION_TTL_MS,
      adminToken: admin.token,
      auditToken: audit.token,
      version: VERSION,
      idempotency,
    });
    const app = createHttpApp({
      logger,
      metrics,
      // The web app first: its CSRF guard runs before every route, the API's included.
      routers: [
        createWebRouter({
          apps: queries.apps,
          recipients: queries.recipients,
          publicUrl: settings.publicUrl,
        }),
        api,
      ],
      bodyLimitOverrides: { '/v1/messages/batch': '1mb' },
      readiness: [
        {
          name: 'store',
          check: async () => {
            await store.readStream('$tidings-readiness', { maxCount: 1 });
            return undefined;
          },
        },
        {
          name: 'processors',
          check: () => {
            const stuck = runners.filter(
              (runner) => !runner.isRunning || runner.consecutiveFailures >= 3,
            );
            return Promise.resolve(
              stuck.length === 0
                ? undefined
                : `not processing: ${stuck.map((runner) => runner.name).join(', ')}`,
            );
          },
        },
      ],
    });
    const server = await listen(app, settings.port, settings.host);
    cleanup.push(() => closeServer(server));
    const address = server.address() as AddressInfo;
    const host =
      settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    logger.info('tidings listening', {
      url,
      store: settings.eventStoreConnectionString === undefined ? 'sqlite' : 'eventstoredb',
      dataDir: settings.dataDir,
    });

    let closing: Promise<void> | undefined;
    return {
      url,
      settings,
      store,
      db,
      checkpoints,
      runners,
      scheduler,
      worker,
      metrics,
      adminToken: admin.token,
      auditToken: audit.token,
      close: () =>
        (closing ??= undo().then(() => {
          logger.info('tidings stopped');
        })),
    };
  } catch (error) {
    await undo();
    throw error;
  }
};

/**
 * Waits until the read models include every event already in the log, so the first requests
 * after a start (or after a read model was reset) never see a partial picture.
 */
const catchUp = async (
  store: EventStore,
  runners: readonly ProcessorRunner[],
  logger: Logger,
): Promise<void> => {
  const head = await store.headPosition();
  if (head === undefined) return;
  const started = Date.now();
  await Promise.all(runners.map((runner) => runner.waitFor(head)));
  const ms = Date.now() - started;
  if (ms > 1_000) logger.info('read models caught up with the log', { ms });
};

/** Creates the data folder, owner-only (it holds tokens and the log), before the lock goes in. */
const prepareDataDir = (dataDir: string): string => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return dataDir;
};

const listen = (
  app: ReturnType<typeof createHttpApp>,
  port: number,
  host: string,
): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => {
      resolve(server);
    });
    server.once('error', reject);
  });

/** Stops accepting connections, lets requests in flight finish, drops idle keep-alive sockets. */
const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeIdleConnections();
    // Requests still running after 10 s are cut so shutdown cannot hang forever.
    setTimeout(() => {
      server.closeAllConnections();
    }, 10_000).unref();
  });

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

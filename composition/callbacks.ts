import { CallbackWorker } from '../application/callbacks/callbackWorker.js';
import type { CallbackRetryPolicy } from '../domain/callback/callbackRetry.js';
import type { ChannelSetup } from './channelSetup.js';
import type { CommandBuses } from './commandBuses.js';
import type { Core } from './core.js';
import type { Queries } from './queries.js';
import type { ReadModels } from './readModels.js';
import type { StopStack } from './stopStack.js';

/** What the callback worker is built from. */
export interface CallbackParts {
  readonly commands: CommandBuses;
  readonly queries: Queries;
  readonly readModels: ReadModels;
  /** The outbound-guarded HTTP client and the secret box the channels use too. */
  readonly delivery: ChannelSetup;
  readonly retry?: CallbackRetryPolicy;
  readonly timeoutMs?: number;
}

/**
 * Starts the worker that POSTs the apps' callbacks (docs/api.md, "App callbacks"). New rows in
 * the callback queue wake it at once rather than at its next poll.
 */
export const startCallbackWorker = (
  core: Core,
  parts: CallbackParts,
  stops: StopStack,
  /** False builds it without starting it (a read-only server). */
  run = true,
): CallbackWorker => {
  const worker = new CallbackWorker({
    commands: parts.commands.callbacks,
    callbacks: parts.queries.callbacks,
    store: core.store,
    cache: core.cache,
    http: parts.delivery.context.http,
    secrets: parts.delivery.secrets,
    logger: core.logger.child({ component: 'callbacks' }),
    ...(parts.retry === undefined ? {} : { retry: parts.retry }),
    ...(parts.timeoutMs === undefined ? {} : { timeoutMs: parts.timeoutMs }),
    ...(core.claims === undefined ? {} : { claims: core.claims }),
  });
  if (!run) return worker;
  parts.readModels.onBatch('callbacks', () => {
    worker.wake();
  });
  worker.start();
  stops.push(() => worker.stop());
  return worker;
};

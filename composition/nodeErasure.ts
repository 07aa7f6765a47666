import type { Processor, ProcessorRunner } from '../application/processing/processor.js';
import { DATA_ERASED_EVENT } from '../domain/shared/hashChain.js';
import { emptyWriteAheadLog } from '../adapters/sqlite/dataErasure.js';
import { runnerFor, type Core } from './core.js';
import type { ReadModels } from './readModels.js';
import type { StopStack } from './stopStack.js';

/**
 * What every node of a shared log does about an erasure that may run on another node
 * (docs/audit.md, "Erasure"). On the embedded store the erasure processor does both itself.
 *
 * - Its aggregate states (`core.cache`) may hold events as first written: they are dropped when a
 *   rewrite's notice comes, which is once the erased data is what a read gets
 *   (adapters/postgres/pgEventStore.ts, `onRewritten`).
 * - Its read models erase their copies when they reach each `RecipientDataErased`, but the
 *   folder's write-ahead log may still hold their pages as they were: once every read model
 *   includes a record, a truncating checkpoint empties it, as the embedded store's rewrite does.
 *   This runs on every node (not under a lease), with its own checkpoint in the folder; a
 *   checkpoint that another connection keeps busy fails the batch, which is tried again.
 *
 * Answers the wipe's runner (for the deletion routes to wait on); undefined without a shared log
 * or on a read-only folder.
 */
export const followErasures = (
  core: Core,
  readModels: Pick<ReadModels, 'waitForAll'>,
  stops: StopStack,
): ProcessorRunner | undefined => {
  const shared = core.shared;
  if (shared === undefined || core.erasable === undefined) return undefined;
  shared.store.onRewritten(() => {
    core.cache.clear();
  });
  const wipe: Processor = {
    name: 'erasure-wipe',
    eventTypes: [DATA_ERASED_EVENT],
    processBatch: async (batch) => {
      const last = batch.at(-1);
      if (last === undefined) return;
      await readModels.waitForAll(last.position);
      emptyWriteAheadLog(core.db);
    },
  };
  const runner = runnerFor(core, wipe);
  runner.start();
  stops.push(() => runner.stop());
  return runner;
};

import type { EventStore, Position, RecordedEvent } from '../domain/shared/eventStore.js';
import type { Logger } from '../domain/shared/logger.js';
import { prepareProjection, type Projection } from '../projections/projection.js';
import { projectionProcessor, type ProcessorRunner } from '../application/processing/processor.js';
import { runnerFor, type Core } from './core.js';
import type { StopStack } from './stopStack.js';

/** The running read models (docs/architecture.md, "Read models"). */
export interface ReadModels {
  readonly runners: readonly ProcessorRunner[];
  /** Resolves once every read model includes `position`: requests wait here after writing. */
  waitForAll(position: Position): Promise<void>;
  /** Resolves once the read model `name` includes `position`; at once if it is not kept. */
  waitForOne(name: string, position: Position): Promise<void>;
  /**
   * Calls `listener` after each batch of the read model `name` (the messages read model holds the
   * delivery queue, the callbacks one the callback queue); one listener per read model.
   */
  onBatch(name: string, listener: (batch: readonly RecordedEvent[]) => void): void;
}

/**
 * Prepares the read models (rebuilding one whose layout changed), starts them and waits until
 * they include every event already in the log, so that the processors started next, and the
 * first requests, never see a partial picture.
 */
export const startReadModels = async (
  core: Core,
  projections: readonly Projection[],
  stops: StopStack,
): Promise<ReadModels> => {
  const listeners = new Map<string, (batch: readonly RecordedEvent[]) => void>();
  const runners = projections.map((projection) => {
    if (prepareProjection(core.db, projection)) {
      core.logger.warn('read model layout changed; rebuilding it from the log', {
        projection: projection.name,
      });
    }
    return runnerFor(core, projectionProcessor(core.db, core.checkpoints, projection), {
      onBatch: (batch: readonly RecordedEvent[]) => {
        listeners.get(projection.name)?.(batch);
      },
    });
  });
  for (const runner of runners) runner.start();
  stops.push(async () => {
    await Promise.all(runners.map((runner) => runner.stop()));
  });
  await catchUp(core.store, runners, core.logger);
  return {
    runners,
    waitForAll: async (position) => {
      await Promise.all(runners.map((runner) => runner.waitFor(position)));
    },
    waitForOne: (name, position) =>
      runners.find((runner) => runner.name === name)?.waitFor(position) ?? Promise.resolve(),
    onBatch: (name, listener) => {
      listeners.set(name, listener);
    },
  };
};

/** Waits until the read models include every event already in the log. */
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

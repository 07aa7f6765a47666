import { createCommandBus, type CommandBus } from '../application/commandBus.js';
import type { Core } from './core.js';
import type { ReadModels } from './readModels.js';

/** The two ways commands are run: waiting for the read models after a write, or not. */
export interface CommandBuses {
  /**
   * For requests and the delivery worker, which read the read models right after writing
   * (read-your-writes): a command returns once every read model includes its events.
   */
  readonly waiting: CommandBus;
  /** For processors that decide from the log itself (moderation, router, reputation). */
  readonly processors: CommandBus;
}

/** Both command buses, sharing the store, the metrics and the folded states. */
export const commandBusesOf = (core: Core, readModels: ReadModels): CommandBuses => ({
  waiting: createCommandBus({
    store: core.store,
    metrics: core.metrics,
    cache: core.cache,
    afterAppend: (position) => readModels.waitForAll(position),
  }),
  processors: createCommandBus({ store: core.store, metrics: core.metrics, cache: core.cache }),
});

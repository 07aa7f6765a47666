import { createCommandBus, type CommandBus } from '../application/commandBus.js';
import { KeyedSerializer } from '../application/shared/keyedSerializer.js';
import type { Core } from './core.js';
import type { ReadModels } from './readModels.js';

/** The ways commands are run: waiting for the read models after a write, for one, or not. */
export interface CommandBuses {
  /**
   * For requests, which read the read models right after writing
   * (read-your-writes): a command returns once every read model includes its events.
   */
  readonly waiting: CommandBus;
  /**
   * For the delivery worker, which reads only the delivery queue (the messages read model) after
   * recording an attempt: waiting for that one read model, not all of them, keeps the cost of each
   * extra device push down (issue 13's fan-out budget).
   */
  readonly delivery: CommandBus;
  /** For the callback worker, which reads only the callback queue after recording an attempt. */
  readonly callbacks: CommandBus;
  /** For processors that decide from the log itself (moderation, router, reputation). */
  readonly processors: CommandBus;
}

/** The command buses, sharing the store, the metrics, the folded states and one serializer. */
export const commandBusesOf = (core: Core, readModels: ReadModels): CommandBuses => {
  const serializer = new KeyedSerializer();
  return {
    waiting: createCommandBus({
      store: core.store,
      metrics: core.metrics,
      cache: core.cache,
      serializer,
      afterAppend: (position) => readModels.waitForAll(position),
    }),
    delivery: createCommandBus({
      store: core.store,
      metrics: core.metrics,
      cache: core.cache,
      serializer,
      afterAppend: (position) => readModels.waitForOne('messages', position),
    }),
    callbacks: createCommandBus({
      store: core.store,
      metrics: core.metrics,
      cache: core.cache,
      serializer,
      afterAppend: (position) => readModels.waitForOne('callbacks', position),
    }),
    processors: createCommandBus({
      store: core.store,
      metrics: core.metrics,
      cache: core.cache,
      serializer,
    }),
  };
};

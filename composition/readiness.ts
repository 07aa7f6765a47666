import type { EventStore } from '../domain/shared/eventStore.js';
import type { ProcessorRunner } from '../application/processing/processor.js';
import type { ReadinessCheck } from '../adapters/http/app.js';

/** Consecutive failed batches after which a processor counts as stuck. */
const STUCK_AFTER_FAILURES = 3;

/** What `/readyz` looks at: the log answers, and every processor runs and is not stuck. */
export const readinessChecks = (
  store: EventStore,
  runners: readonly ProcessorRunner[],
): ReadinessCheck[] => [
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
        (runner) => !runner.isRunning || runner.consecutiveFailures >= STUCK_AFTER_FAILURES,
      );
      return Promise.resolve(
        stuck.length === 0
          ? undefined
          : `not processing: ${stuck.map((runner) => runner.name).join(', ')}`,
      );
    },
  },
];

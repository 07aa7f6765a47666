import type { EventStore } from '../domain/shared/eventStore.js';
import type { ProcessorRunner } from '../application/processing/processor.js';
import type { ReadinessCheck } from '../adapters/http/app.js';
import type { LeaseStatus } from '../adapters/postgres/leases.js';

/** Consecutive failed batches after which a processor counts as stuck. */
const STUCK_AFTER_FAILURES = 3;

/** What `/readyz` looks at: the log answers, and every processor runs and is not stuck. */
export const readinessChecks = (
  store: EventStore,
  /** The processors that should be running on this node now (with leases: the ones it holds). */
  runningHere: () => readonly ProcessorRunner[],
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
      const stuck = runningHere().filter(
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

/**
 * What `/readyz` shows of a node of several: its name, its leases (who holds each, until when)
 * and how far each of its read models and held processors is behind the shared log's head.
 */
export const nodeDetails =
  (
    store: EventStore,
    nodeId: string,
    runningHere: () => readonly ProcessorRunner[],
    leases: () => Promise<readonly LeaseStatus[]>,
  ) =>
  async (): Promise<Record<string, unknown>> => {
    const [head, held] = await Promise.all([store.headPosition(), leases()]);
    const headAt = Number(head?.commit ?? 0n);
    return {
      id: nodeId,
      logHead: headAt,
      leases: held.map((lease) => ({
        name: lease.name,
        holder: lease.holder,
        heldHere: lease.heldByMe,
        expiresAt: lease.expiresAt?.toISOString() ?? null,
      })),
      lag: Object.fromEntries(
        runningHere().map((runner) => [
          runner.name,
          Math.max(0, headAt - Number(runner.reached?.commit ?? 0n)),
        ]),
      ),
    };
  };

import type { ProcessorRunner } from '../application/processing/processor.js';
import {
  comparePositions,
  decodePosition,
  type EventStore,
  type Position,
} from '../domain/shared/eventStore.js';
import { PgLeases } from '../adapters/postgres/leases.js';
import { ProblemError } from '../adapters/http/problem.js';
import type { Core } from './core.js';
import { processorLeaseName } from './leadership.js';
import type { ReadModels } from './readModels.js';

/** How long a deletion request waits for its erasure before answering 503 (it still completes). */
export const ERASURE_WAIT_MS = 120_000;

/** How often a node waiting for an erasure on another node reads how far it got. */
const POLL_MS = 250;

/**
 * With several nodes (README "Running several nodes"): the erasure processor runs on whichever
 * node holds its lease, which need not be the node the deletion came to.
 */
export interface ErasureElsewhere {
  /**
   * The checkpoint saved with the erasure processor's lease (composition/leadership.ts): how far
   * it got on whichever node ran it, saved with each renewal of the lease (every 2 s).
   */
  readonly savedCheckpoint: () => Promise<string | undefined>;
  /** This node's read models: the deletion answers once they include what the erasure wrote. */
  readonly readModels: Pick<ReadModels, 'waitForAll'>;
  /** This node's wipe of its read models' write-ahead log (composition/nodeErasure.ts). */
  readonly wipe?: ProcessorRunner;
  /** How often the saved checkpoint is read while waiting; default 250 ms. */
  readonly pollMs?: number;
}

/** How the deletion routes of this node wait for an erasure on another node; absent on one node. */
export const erasureElsewhereOf = (
  core: Core,
  readModels: Pick<ReadModels, 'waitForAll'>,
  wipe: ProcessorRunner | undefined,
): ErasureElsewhere | undefined => {
  const shared = core.shared;
  if (shared === undefined) return undefined;
  const leases = new PgLeases(shared.pool);
  return {
    savedCheckpoint: () => leases.checkpointOf(processorLeaseName('erasure')),
    readModels,
    ...(wipe === undefined ? {} : { wipe }),
  };
};

/**
 * The wait of the deletion routes for the erasure processor: until it has handled every deletion
 * up to `position` (the log's head when undefined: a repeated deletion waits for the first). An
 * erasure that takes longer than {@link ERASURE_WAIT_MS} (a person with a vast history, or a
 * failing disk the processor retries on) answers 503: the deletion is recorded and its erasure
 * goes on. An operator asking again waits again; the person cannot, their session having ended
 * with the account (a retry of DELETE /v1/me is 401).
 *
 * On one node the processor runs here, and has waited for this node's read models itself. With
 * several nodes ({@link ErasureElsewhere}) it runs under a lease, here or on another node, and the
 * lease may move meanwhile: the wait follows this node's runner while it runs, and otherwise the
 * checkpoint saved with the lease; then it waits until this node's read models include every
 * event the erasure wrote (the log's head read after it finished) and its write-ahead log no
 * longer holds their old pages. Other nodes' read models erase their copies as they reach the
 * records, and a request there waits for them first (composition/readBarrier.ts).
 */
export const erasureWait =
  (
    store: EventStore,
    runner: ProcessorRunner,
    elsewhere?: ErasureElsewhere,
    waitMs = ERASURE_WAIT_MS,
  ) =>
  async (position: Position | undefined): Promise<void> => {
    const until = position ?? (await store.headPosition());
    if (until === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const timeout = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        late = true;
        resolve('late');
      }, waitMs);
    });
    const done =
      elsewhere === undefined
        ? runner.waitFor(until)
        : erasedOnAnyNode(store, runner, elsewhere, until, () => late);
    try {
      const outcome = await Promise.race([done.then(() => 'done' as const), timeout]);
      if (outcome === 'late') {
        throw new ProblemError(
          'unavailable',
          'the account is deleted and its data is still being erased; the erasure completes on its own (an operator asking again waits for it; the person’s session has ended with the account)',
          {},
          { 'Retry-After': '10' },
        );
      }
    } finally {
      clearTimeout(timer);
    }
  };

/**
 * Resolves once the erasure processor, on whichever node, has handled every event of its types
 * up to `until`, and this node has followed what it wrote; gives up quietly once `late()`.
 */
const erasedOnAnyNode = async (
  store: EventStore,
  runner: ProcessorRunner,
  elsewhere: ErasureElsewhere,
  until: Position,
  late: () => boolean,
): Promise<void> => {
  while (!late()) {
    if (runner.isRunning) {
      // Returns early when the runner stops (its lease moved): then the saved checkpoint tells.
      await runner.waitFor(until);
      if (reached(runner.reached, until)) break;
    } else if (await handledElsewhere(store, runner, elsewhere, until)) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, elsewhere.pollMs ?? POLL_MS));
  }
  if (late()) return;
  const head = await store.headPosition();
  if (head === undefined) return;
  await elsewhere.readModels.waitForAll(head);
  await elsewhere.wipe?.waitFor(head);
};

/**
 * Whether the lease's saved checkpoint is at `until`, or the log holds nothing of the
 * processor's types between it and `until` (its checkpoint is the last event it handled, which
 * a deletion read at the log's head may lie beyond).
 */
const handledElsewhere = async (
  store: EventStore,
  runner: ProcessorRunner,
  elsewhere: ErasureElsewhere,
  until: Position,
): Promise<boolean> => {
  const saved = await elsewhere.savedCheckpoint();
  const checkpoint = saved === undefined ? undefined : decodePosition(saved);
  if (reached(checkpoint, until)) return true;
  const [next] = await store.readAll({
    ...(checkpoint === undefined ? {} : { after: checkpoint }),
    maxCount: 1,
    ...(runner.processor.eventTypes === undefined
      ? {}
      : { eventTypes: runner.processor.eventTypes }),
  });
  return next === undefined || comparePositions(next.position, until) > 0;
};

const reached = (position: Position | undefined, until: Position): boolean =>
  position !== undefined && comparePositions(position, until) >= 0;

import type { ProcessorRunner } from '../application/processing/processor.js';
import type { EventStore, Position } from '../domain/shared/eventStore.js';
import { ProblemError } from '../adapters/http/problem.js';

/** How long a deletion request waits for its erasure before answering 503 (it still completes). */
export const ERASURE_WAIT_MS = 120_000;

/**
 * The wait of the deletion routes for the erasure processor: until it has handled every deletion
 * up to `position` (the log's head when undefined: a repeated deletion waits for the first). An
 * erasure that takes longer than {@link ERASURE_WAIT_MS} (a person with a vast history, or a
 * failing disk the processor retries on) answers 503: the deletion is recorded and its erasure
 * goes on. An operator asking again waits again; the person cannot, their session having ended
 * with the account (a retry of DELETE /v1/me is 401).
 */
export const erasureWait =
  (store: EventStore, runner: ProcessorRunner, waitMs = ERASURE_WAIT_MS) =>
  async (position: Position | undefined): Promise<void> => {
    const until = position ?? (await store.headPosition());
    if (until === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        resolve('late');
      }, waitMs);
    });
    try {
      const outcome = await Promise.race([runner.waitFor(until).then(() => 'done' as const), late]);
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

import { Router, type RequestHandler } from 'express';
import type { EventStore, Position } from '../domain/shared/eventStore.js';
import type { Logger } from '../domain/shared/logger.js';
import type { ReadModels } from './readModels.js';

/** Longest a request waits for the shared log's head. */
const HEAD_TIMEOUT_MS = 1_000;

/** `promise`, or a rejection once `ms` have passed without it settling. */
const withinMs = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

/** Longest a request waits for this node's read models before it is served as they are. */
const BARRIER_TIMEOUT_MS = 5_000;

/**
 * Read-your-writes across nodes (README "Running several nodes"). A node answers a write only
 * once its own read models include it; another node's read models may be a few milliseconds
 * behind. So before a request is served, this node reads the shared log's head — a read that
 * starts after the request arrived, so it covers every write any node acknowledged before — and
 * waits until its read models include it. Concurrent requests share one read of the head.
 */
export const readBarrier = (
  store: EventStore,
  readModels: Pick<ReadModels, 'waitForAll'>,
  logger: Logger,
  timeoutMs = BARRIER_TIMEOUT_MS,
): Router => {
  // A head that does not come within a second (the database cut off) is not waited for: reads
  // are served from this node's read models, and writes fail on their own.
  const heads = new SharedHeadRead(() => withinMs(store.headPosition(), HEAD_TIMEOUT_MS));
  const barrier: RequestHandler = (_request, _response, next) => {
    heads.afterNow().then(
      (head) => {
        if (head === undefined) {
          next();
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => {
            resolve('timeout');
          }, timeoutMs);
        });
        void Promise.race([readModels.waitForAll(head).then(() => 'caught_up' as const), timedOut])
          .then((outcome) => {
            if (outcome === 'timeout') {
              logger.warn('read models did not reach the log head in time; serving as they are', {
                timeoutMs,
              });
            }
          })
          .finally(() => {
            clearTimeout(timer);
            next();
          });
      },
      (error: unknown) => {
        // The database is unreachable: the request goes on, and a write fails there with 503.
        logger.warn('could not read the shared log head before a request', { error });
        next();
      },
    );
  };
  const router = Router();
  router.use(barrier);
  return router;
};

/**
 * Reads of the log's head shared by concurrent callers: a caller gets a read that started after
 * it asked (one in flight that started earlier is not enough), and all callers waiting for the
 * next read share it.
 */
export class SharedHeadRead {
  private inFlight: Promise<Position | undefined> | undefined;
  private next: Promise<Position | undefined> | undefined;

  constructor(private readonly read: () => Promise<Position | undefined>) {}

  afterNow(): Promise<Position | undefined> {
    if (this.inFlight === undefined) return this.start();
    this.next ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<Position | undefined> {
    const read = this.read().finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    this.inFlight = read;
    return read;
  }
}

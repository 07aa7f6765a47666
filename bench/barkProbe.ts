/**
 * The Bark stand-in of the tests (devtools/barkServer.ts, one implementation for tests, demo
 * and benchmarks), watched as pushes arrive: the time each push was received, by its Bark `id`
 * (the message id for messages without a thread). It runs in the load generator's process, so
 * "202 answered" and "push received" are read from one clock.
 *
 * The stand-in keeps every request and every shown notification (and looks through the shown
 * ones on each push); that is right for tests but would make a long benchmark slower and slower.
 * The probe therefore records what it needs as each request comes in and clears the stand-in's
 * memory every {@link RESET_EVERY} requests.
 */
import { startBarkServer, type BarkStandIn, type ReceivedRequest } from '../devtools/barkServer.js';

const RESET_EVERY = 500;

export interface BarkProbe {
  readonly standIn: BarkStandIn;
  readonly url: string;
  /** First arrival time (`performance.now()`) per Bark id. */
  readonly firstSeen: ReadonlyMap<string, number>;
  /** Push requests received (repeats included). */
  readonly received: () => number;
  /**
   * Answers every push to device `key` after `ms` (0: at once), like a slow Bark server; kept
   * across the probe's clearing of the stand-in (which forgets delays).
   */
  delay(key: string, ms: number): void;
  /** Resolves once every id in `ids` has arrived, or rejects after `timeoutMs`. */
  waitFor(ids: Iterable<string>, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export const startBarkProbe = async (deviceKey: string): Promise<BarkProbe> => {
  const standIn = await startBarkServer({ devices: [deviceKey] });
  const firstSeen = new Map<string, number>();
  let received = 0;
  const delays = new Map<string, number>();
  let waiter: (() => void) | undefined;
  // The stand-in appends each request to this array before it answers: hook that append.
  const requests = standIn.requests as ReceivedRequest[];
  const push = requests.push.bind(requests);
  requests.push = (...items: ReceivedRequest[]): number => {
    const at = performance.now();
    for (const item of items) {
      received += 1;
      const id = (item.json as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string' && !firstSeen.has(id)) firstSeen.set(id, at);
    }
    const length = push(...items);
    if (length >= RESET_EVERY) {
      // Runs before the stand-in handles this request, so the request itself still counts.
      queueMicrotask(() => {
        standIn.reset();
        for (const [key, ms] of delays) standIn.delay(key, ms);
      });
    }
    waiter?.();
    return length;
  };
  return {
    standIn,
    url: standIn.url,
    firstSeen,
    received: () => received,
    delay: (key, ms) => {
      delays.set(key, ms);
      standIn.delay(key, ms);
    },
    waitFor: (ids, timeoutMs) => {
      const wanted = [...ids];
      const deadline = Date.now() + timeoutMs;
      return new Promise<void>((resolve, reject) => {
        let index = 0;
        const check = (): void => {
          while (index < wanted.length && firstSeen.has(wanted[index] ?? '')) index += 1;
          if (index >= wanted.length) {
            waiter = undefined;
            clearInterval(timer);
            resolve();
          } else if (Date.now() > deadline) {
            waiter = undefined;
            clearInterval(timer);
            reject(
              new Error(`${wanted.length - index} of ${wanted.length} pushes never reached Bark`),
            );
          }
        };
        const timer = setInterval(check, 250);
        waiter = check;
        check();
      });
    },
    close: () => standIn.close(),
  };
};

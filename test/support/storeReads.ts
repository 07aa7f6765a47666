import { expect } from 'chai';
import type { SqliteEventStore } from '../../adapters/sqlite/sqliteEventStore.js';
import type {
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
  Subscription,
} from '../../domain/shared/eventStore.js';
import { show } from './waitUntil.js';

/**
 * Reads of the SQLite store for its tests: comparing what a store answers from memory with what
 * a store that reads only the database answers, and consuming subscriptions.
 */

let nextId = 0;
/** A new event of `type`; ids count up across the test run unless given. */
export const event = (type: string, data: unknown, id = `ev-${(nextId += 1)}`): NewEvent => ({
  id,
  type,
  data,
  metadata: {
    occurredAt: '2026-11-24T10:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: id,
    causationId: id,
    schemaVersion: 1,
  },
});

/** Position of an event as a number. */
export const at = (recorded: RecordedEvent): number => Number(recorded.position.commit);

/** A log position from its number; undefined for 0 (the start). */
export const position = (n: number): ReadAllOptions['after'] =>
  n === 0 ? undefined : { commit: BigInt(n), prepare: BigInt(n) };

/** `store.readAll` with positions as numbers. */
export const readAll = (
  store: SqliteEventStore,
  after: number,
  maxCount: number,
  eventTypes?: readonly string[],
): Promise<readonly RecordedEvent[]> => {
  const from = position(after);
  return store.readAll({
    maxCount,
    ...(from === undefined ? {} : { after: from }),
    ...(eventTypes === undefined ? {} : { eventTypes }),
  });
};

/** Type filters asked in every comparison; array identity matters to the store's memo. */
export const FILTERS: ReadonlyArray<readonly string[] | undefined> = [
  undefined,
  ['Alpha'],
  ['Beta', 'Delta'],
  ['Gamma', 'Alpha', 'Gamma'],
  ['Delta', 'Gamma', 'Beta', 'Alpha'],
  ['Nowhere'],
];
const MAX_COUNTS = [1, 2, 3, 7, 10_000];

/**
 * Asserts that `subject` answers every readAll (each filter, each maxCount, each `after` in
 * `afters`) exactly as `reference` does.
 */
export const expectSameReads = async (
  subject: SqliteEventStore,
  reference: SqliteEventStore,
  afters: Iterable<number>,
  context = '',
): Promise<void> => {
  for (const after of afters) {
    for (const types of FILTERS) {
      for (const maxCount of MAX_COUNTS) {
        const expected = await readAll(reference, after, maxCount, types);
        const actual = await readAll(subject, after, maxCount, types);
        expect(
          actual,
          `${context} readAll after ${after}, maxCount ${maxCount}, types ${show(types)}`,
        ).to.deep.equal(expected);
      }
    }
  }
};

/** The integers from `from` to `to`, both included. */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, n) => from + n);

/** The head of the log, as a number (0 when empty). */
export const headOf = async (store: SqliteEventStore): Promise<number> =>
  Number((await store.headPosition())?.commit ?? 0n);

/**
 * Reads a subscription until it has delivered `count` events (then closes it), failing after
 * `timeoutMs`; returns everything delivered.
 */
export const collect = async (
  subscription: Subscription,
  count: number,
  timeoutMs = 3_000,
): Promise<RecordedEvent[]> => {
  const received: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const batch of subscription) {
      received.push(...batch);
      if (received.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
  if (received.length < count) {
    throw new Error(`subscription delivered ${received.length} of ${count} events in time`);
  }
  return received;
};

/** Consumes a subscription in the background; `received` grows as batches arrive. */
export const follow = (
  subscription: Subscription,
): { readonly received: RecordedEvent[]; stop(): Promise<void> } => {
  const received: RecordedEvent[] = [];
  const done = (async () => {
    for await (const batch of subscription) received.push(...batch);
  })();
  return {
    received,
    stop: async () => {
      await subscription.close();
      await done;
    },
  };
};

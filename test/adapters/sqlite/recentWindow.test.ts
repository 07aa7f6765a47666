import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import type {
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
  Subscription,
} from '../../../domain/shared/eventStore.js';
import { show, waitUntil } from '../../support/waitUntil.js';

const TYPES = ['Alpha', 'Beta', 'Gamma', 'Delta'] as const;
const STREAMS = ['s-0', 's-1', 's-2', 's-3'] as const;

let nextId = 0;
const event = (type: string, data: unknown, id = `ev-${(nextId += 1)}`): NewEvent => ({
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
const at = (recorded: RecordedEvent): number => Number(recorded.position.commit);

const position = (n: number): ReadAllOptions['after'] =>
  n === 0 ? undefined : { commit: BigInt(n), prepare: BigInt(n) };

const readAll = (
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
const FILTERS: ReadonlyArray<readonly string[] | undefined> = [
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
const expectSameReads = async (
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

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, n) => from + n);

/** The head of the log, as a number (0 when empty). */
const headOf = async (store: SqliteEventStore): Promise<number> =>
  Number((await store.headPosition())?.commit ?? 0n);

/**
 * Reads a subscription until it has delivered `count` events (then closes it), failing after
 * `timeoutMs`; returns everything delivered.
 */
const collect = async (
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
const follow = (
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

/** One append of a generated run; several in a step are issued together (one group commit). */
interface AppendSpec {
  readonly stream: number;
  readonly types: readonly number[];
  readonly expected: 'exact' | 'any' | 'wrong';
  /** Data that cannot be serialised: the append fails inside the shared transaction. */
  readonly poison: boolean;
  /** Re-sends an earlier append's events (idempotent repeat) when set. */
  readonly repeat: number | undefined;
  readonly data: unknown;
}

const appendSpec: fc.Arbitrary<AppendSpec> = fc.record({
  stream: fc.nat({ max: STREAMS.length - 1 }),
  types: fc.array(fc.nat({ max: TYPES.length - 1 }), { minLength: 1, maxLength: 3 }),
  expected: fc.constantFrom('exact', 'exact', 'any', 'wrong'),
  poison: fc.nat({ max: 9 }).map((n) => n < 2),
  repeat: fc.option(fc.nat({ max: 50 }), { nil: undefined, freq: 6 }),
  data: fc.jsonValue({ maxDepth: 2 }),
});

const run = fc.record({
  recentEvents: fc.constantFrom(1, 2, 5, 20_000),
  steps: fc.array(fc.array(appendSpec, { minLength: 1, maxLength: 4 }), {
    minLength: 1,
    maxLength: 10,
  }),
  subscribeAfter: fc.nat({ max: 60 }),
  subscribeTypes: fc.nat({ max: FILTERS.length - 1 }),
  batchSize: fc.integer({ min: 1, max: 5 }),
});

describe('SQLite store: the window of recent events', () => {
  describe('answers every read exactly as the database does', () => {
    it('for random appends (groups, conflicts, failures, repeats) over several streams and types', async function () {
      this.timeout(120_000);
      await fc.assert(
        fc.asyncProperty(
          run,
          async ({ recentEvents, steps, subscribeAfter, subscribeTypes, batchSize }) => {
            const db = openDatabase({ dataDir: ':memory:' });
            const subject = new SqliteEventStore(db, { recentEvents, pollIntervalMs: 10 });
            const reference = new SqliteEventStore(db, { recentEvents: 0, pollIntervalMs: 10 });
            try {
              const sent: Array<{ stream: string; events: NewEvent[] }> = [];
              for (const step of steps) {
                const appends = await Promise.all(
                  step.map(async (spec) => {
                    const earlier = spec.repeat === undefined ? undefined : sent[spec.repeat];
                    if (earlier !== undefined)
                      return { ...earlier, expectedRevision: 'any' as const };
                    const stream = STREAMS[spec.stream]!;
                    const current = (await reference.readStream(stream)).at(-1)?.revision ?? -1;
                    const expectedRevision: ExpectedRevision =
                      spec.expected === 'any'
                        ? 'any'
                        : spec.expected === 'wrong'
                          ? current + 1
                          : current === -1
                            ? 'no_stream'
                            : current;
                    const events = spec.types.map((type, index) =>
                      event(
                        TYPES[type]!,
                        spec.poison && index === spec.types.length - 1
                          ? { n: 1n }
                          : { value: spec.data, index },
                      ),
                    );
                    return { stream, events, expectedRevision };
                  }),
                );
                const outcomes = await Promise.allSettled(
                  appends.map(({ stream, events, expectedRevision }) =>
                    subject.appendToStream(stream, events, { expectedRevision }),
                  ),
                );
                outcomes.forEach((outcome, index) => {
                  const append = appends[index]!;
                  if (outcome.status === 'fulfilled' && E.isRight(outcome.value)) sent.push(append);
                });
                // After every step: reads from the start, around the head and in the middle.
                const head = await headOf(reference);
                await expectSameReads(
                  subject,
                  reference,
                  new Set(
                    [0, 1, Math.floor(head / 2), head - 2, head - 1, head, head + 1].filter(
                      (n) => n >= 0,
                    ),
                  ),
                  'mid-run',
                );
              }
              const head = await headOf(reference);
              await expectSameReads(subject, reference, range(0, head + 1), 'end of run');

              // A live subscription catches up through the window exactly as a read of the database.
              const types = FILTERS[subscribeTypes];
              const after = Math.min(subscribeAfter, head);
              const expected = await readAll(reference, after, 100_000, types);
              if (expected.length > 0) {
                const from = position(after);
                const delivered = await collect(
                  subject.subscribe({
                    maxBatchSize: batchSize,
                    ...(from === undefined ? {} : { after: from }),
                    ...(types === undefined ? {} : { eventTypes: types }),
                  }),
                  expected.length,
                );
                expect(delivered, 'subscription').to.deep.equal(expected);
              }
            } finally {
              await subject.close();
              await reference.close();
              db.close();
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('serves the tail from memory', () => {
    let db: SqliteDatabase;
    beforeEach(() => {
      db = openDatabase({ dataDir: ':memory:' });
    });
    afterEach(() => {
      db.close();
    });

    it('given appends through the store, when a stored row changes behind its back, then recent reads still come from the window (so the comparisons above test it)', async () => {
      const store = new SqliteEventStore(db, { recentEvents: 5 });
      const reference = new SqliteEventStore(db, { recentEvents: 0 });
      for (let n = 1; n <= 20; n += 1) {
        await store.appendToStream('tail', [event('Alpha', { n })], { expectedRevision: 'any' });
      }
      // Not something the store ever does; here it tells a read from memory from a read of SQL.
      db.prepare('UPDATE events SET data = \'{"edited":true}\'').run();

      const fromWindow = await store.readAll({ after: position(19)!, maxCount: 10 });
      expect(fromWindow.map((e) => e.data)).to.deep.equal([{ n: 20 }]);
      // Far before the window (capacity 5: it keeps 5 to 10 events), the store reads SQL.
      const before = await store.readAll({ maxCount: 3 });
      expect(before.map((e) => e.data)).to.deep.equal([
        { edited: true },
        { edited: true },
        { edited: true },
      ]);
      expect(before).to.deep.equal(await reference.readAll({ maxCount: 3 }));
      await store.close();
      await reference.close();
    });

    it('given a tiny window, when reads start before it, then they fall back to SQL and match the database', async () => {
      const store = new SqliteEventStore(db, { recentEvents: 5 });
      const reference = new SqliteEventStore(db, { recentEvents: 0 });
      for (let n = 0; n < 40; n += 1) {
        const type = TYPES[n % TYPES.length]!;
        // Mixed single appends and pairs, so the window is trimmed at odd places.
        const events =
          n % 3 === 0 ? [event(type, { n }), event('Alpha', { n, b: 1 })] : [event(type, { n })];
        await store.appendToStream(`tiny-${n % 3}`, events, { expectedRevision: 'any' });
      }
      const head = await headOf(reference);
      expect(head).to.equal(54);
      await expectSameReads(store, reference, range(0, head + 1));
      await store.close();
      await reference.close();
    });

    it('reads back from the window exactly what the database gives (a JSON round trip)', async () => {
      const store = new SqliteEventStore(db);
      const reference = new SqliteEventStore(db, { recentEvents: 0 });
      const when = new Date('2026-11-24T10:00:00.000Z');
      const data = {
        kept: 1,
        gone: undefined,
        when,
        list: [1, undefined, Number.NaN, -0],
        nested: { deep: undefined, text: 'é\u2028' },
        toJSON: undefined,
      };
      await store.appendToStream('json', [event('Alpha', data)], { expectedRevision: 'no_stream' });

      const [fromWindow] = await store.readAll({ maxCount: 10 });
      const [fromDatabase] = await reference.readAll({ maxCount: 10 });
      const roundTrip: unknown = JSON.parse(JSON.stringify(data));
      expect(fromDatabase?.data).to.deep.equal(roundTrip);
      expect(fromWindow?.data).to.deep.equal(fromDatabase?.data);
      expect(fromWindow?.data).to.have.property('when', '2026-11-24T10:00:00.000Z');
      expect(fromWindow?.data).not.to.have.property('gone');
      expect(fromWindow).to.deep.equal(fromDatabase);

      // The subscription path reads the same window.
      const [delivered] = await collect(store.subscribe({ eventTypes: ['Alpha'] }), 1);
      expect(delivered).to.deep.equal(fromDatabase);

      // Changing the caller's object after the append does not reach the stored copy.
      data.kept = 2;
      const [again] = await store.readAll({ maxCount: 10 });
      expect(again?.data).to.have.property('kept', 1);
      await store.close();
      await reference.close();
    });
  });

  describe('another store object on the same file (a foreign writer)', () => {
    const POLL_MS = 25;
    let dir: string;
    let dbA: SqliteDatabase;
    let dbB: SqliteDatabase;
    let mine: SqliteEventStore;
    let foreign: SqliteEventStore;
    /** Reads dbA through SQL only: what `mine` must answer. */
    let truth: SqliteEventStore;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tidings-window-'));
      dbA = openDatabase({ dataDir: dir, synchronous: 'normal' });
      dbB = openDatabase({ dataDir: dir, synchronous: 'normal' });
      mine = new SqliteEventStore(dbA, { pollIntervalMs: POLL_MS });
      foreign = new SqliteEventStore(dbB, { pollIntervalMs: POLL_MS });
      truth = new SqliteEventStore(dbA, { recentEvents: 0 });
    });
    afterEach(async () => {
      await mine.close();
      await foreign.close();
      await truth.close();
      dbA.close();
      dbB.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** `mine` writes x@0..2 and y@0, then has read everything (window and stream heads warm). */
    const warmUp = async (): Promise<void> => {
      const written = await mine.appendToStream(
        'x',
        [event('Alpha', { x: 0 }), event('Beta', { x: 1 }), event('Alpha', { x: 2 })],
        { expectedRevision: 'no_stream' },
      );
      expect(E.isRight(written) && written.right.nextRevision).to.equal(2);
      await mine.appendToStream('y', [event('Gamma', { y: 0 })], { expectedRevision: 'no_stream' });
      expect(await mine.readAll({ maxCount: 100 })).to.have.length(4);
      expect(await mine.readAll({ maxCount: 100, eventTypes: ['Alpha'] })).to.have.length(2);
      expect(await mine.readStream('x', { fromRevision: 3 })).to.deep.equal([]);
      expect(await mine.readStream('y')).to.have.length(1);
    };

    it('given a warm store, when the other writes, then its readAll (filtered or not, any start) sees the foreign events', async () => {
      await warmUp();
      await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
      await foreign.appendToStream('z', [event('Alpha', { z: 0 })], {
        expectedRevision: 'no_stream',
      });

      const all = await mine.readAll({ maxCount: 100 });
      expect(all.map((e) => e.data)).to.deep.equal([
        { x: 0 },
        { x: 1 },
        { x: 2 },
        { y: 0 },
        { x: 3 },
        { z: 0 },
      ]);
      expect((await mine.readAll({ maxCount: 100, eventTypes: ['Alpha'] })).map(at)).to.deep.equal([
        1, 3, 6,
      ]);
      await expectSameReads(mine, truth, range(0, 7), 'after foreign appends');
    });

    it('given a warm store, when the other writes to a stream it knows, then readStream(fromRevision) answers the new events', async () => {
      await warmUp();
      await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
      const newer = await mine.readStream('x', { fromRevision: 3 });
      expect(newer.map((e) => [e.revision, e.data])).to.deep.equal([[3, { x: 3 }]]);
      expect(await mine.readStream('y', { fromRevision: 1 })).to.deep.equal([]);
      expect(await mine.readStream('x', { fromRevision: 4 })).to.deep.equal([]);
    });

    it('given a foreign append to a stream it knows, when this store then commits to another stream, then readStream(fromRevision) still sees the foreign event', async () => {
      await warmUp();
      await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
      // This store's commit moves its own idea of the head past the foreign event.
      await mine.appendToStream('y', [event('Gamma', { y: 1 })], { expectedRevision: 0 });
      expect((await mine.readStream('x', { fromRevision: 3 })).map((e) => e.data)).to.deep.equal([
        { x: 3 },
      ]);
      await expectSameReads(mine, truth, range(0, 7), 'after the own commit');
    });

    it('given a read that came just before the foreign commit, when that commit is done, then the next read sees it', async () => {
      await warmUp();
      // A new turn of the event loop, as for a request arriving a moment later.
      await new Promise((resolve) => setImmediate(resolve));
      // The other writer's append is queued; this store asks before it is committed...
      const pending = foreign.appendToStream('x', [event('Delta', { x: 3 })], {
        expectedRevision: 2,
      });
      expect(await mine.readStream('x', { fromRevision: 3 })).to.deep.equal([]);
      expect(await mine.readAll({ after: position(4)!, maxCount: 10 })).to.deep.equal([]);
      const committed = await pending;
      expect(E.isRight(committed)).to.equal(true);
      // ...and asks again once it knows the commit happened (read after write across writers).
      expect(
        (await mine.readStream('x', { fromRevision: 3 })).map((e) => e.revision),
        'readStream after the foreign commit',
      ).to.deep.equal([3]);
      expect(
        (await mine.readAll({ after: position(4)!, maxCount: 10 })).map(at),
        'readAll after the foreign commit',
      ).to.deep.equal([5]);
    });

    it('given a live subscription, when the other writes, then it delivers the foreign events within a few poll intervals', async () => {
      await warmUp();
      const all = follow(mine.subscribe({ maxBatchSize: 2 }));
      const typed = follow(mine.subscribe({ eventTypes: ['Delta', 'Alpha'] }));
      try {
        // Caught up with this store's own events, and now idle.
        await waitUntil(
          () => all.received.length,
          (n) => n === 4,
          'the catch-up',
        );
        await waitUntil(
          () => typed.received.length,
          (n) => n === 2,
          'the filtered catch-up',
        );

        await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });
        await foreign.appendToStream('z', [event('Alpha', { z: 0 })], {
          expectedRevision: 'no_stream',
        });
        const started = Date.now();
        await waitUntil(
          () => all.received.length,
          (n) => n >= 6,
          'the foreign events',
          5_000,
          5,
        );
        await waitUntil(
          () => typed.received.length,
          (n) => n >= 4,
          'the foreign events',
          5_000,
          5,
        );
        // Seen by polling (nothing in this store woke the subscriptions): a few intervals at most.
        expect(Date.now() - started).to.be.below(10 * POLL_MS + 250);

        // This store's own append after them wakes them at once, through a window restarted there.
        await mine.appendToStream('y', [event('Delta', { y: 1 })], { expectedRevision: 0 });
        await waitUntil(
          () => all.received.length,
          (n) => n >= 7,
          'the own event',
          5_000,
          5,
        );
        await waitUntil(
          () => typed.received.length,
          (n) => n >= 5,
          'the own event',
          5_000,
          5,
        );

        expect(all.received).to.deep.equal(await truth.readAll({ maxCount: 100 }));
        expect(typed.received).to.deep.equal(
          await truth.readAll({ maxCount: 100, eventTypes: ['Delta', 'Alpha'] }),
        );
        expect(typed.received.map(at)).to.deep.equal([1, 3, 5, 6, 7]);
      } finally {
        await all.stop();
        await typed.stop();
      }
    });

    it('given foreign appends, when this store appends again, then revisions and conflicts follow the stored stream', async () => {
      await warmUp();
      await foreign.appendToStream('x', [event('Delta', { x: 3 })], { expectedRevision: 2 });

      const stale = await mine.appendToStream('x', [event('Alpha', { x: 'stale' })], {
        expectedRevision: 2,
      });
      expect(E.isLeft(stale) && stale.left).to.deep.include({ actual: 3, expected: 2 });
      const fresh = await mine.appendToStream('x', [event('Alpha', { x: 4 })], {
        expectedRevision: 3,
      });
      expect(E.isRight(fresh) && fresh.right.nextRevision).to.equal(4);
      expect(E.isRight(fresh) && fresh.right.position.commit).to.equal(6n);
      expect((await mine.readStream('x')).map((e) => e.revision)).to.deep.equal([0, 1, 2, 3, 4]);
      await expectSameReads(mine, truth, range(0, 7), 'after own append');

      // The other writes once more, right after this store's commit.
      await foreign.appendToStream('x', [event('Beta', { x: 5 })], { expectedRevision: 4 });
      expect((await mine.readStream('x', { fromRevision: 5 })).map((e) => e.data)).to.deep.equal([
        { x: 5 },
      ]);
      await expectSameReads(mine, truth, range(0, 8), 'after the second foreign append');
      const conflict = await mine.appendToStream('x', [event('Alpha', { x: 'late' })], {
        expectedRevision: 4,
      });
      expect(E.isLeft(conflict) && conflict.left.actual).to.equal(5);
      const next = await mine.appendToStream('x', [event('Alpha', { x: 6 })], {
        expectedRevision: 5,
      });
      expect(E.isRight(next) && next.right.nextRevision).to.equal(6);
      expect(await mine.readStream('x', { fromRevision: 7 })).to.deep.equal([]);
      expect((await mine.readStream('x', { fromRevision: 6 })).map((e) => e.data)).to.deep.equal([
        { x: 6 },
      ]);
      await expectSameReads(mine, truth, range(0, 9), 'at the end');
    });
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { openDatabase, type SqliteDatabase } from '../../../adapters/sqlite/database.js';
import { toPosition } from '../../../adapters/sqlite/eventRows.js';
import { RecentWindow } from '../../../adapters/sqlite/recentWindow.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import type {
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
} from '../../../domain/shared/eventStore.js';
import {
  collect,
  event,
  expectSameReads,
  FILTERS,
  headOf,
  position,
  range,
  readAll,
} from '../../support/storeReads.js';

const TYPES = ['Alpha', 'Beta', 'Gamma', 'Delta'] as const;
const STREAMS = ['s-0', 's-1', 's-2', 's-3'] as const;

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

  describe('forgetting what an erasure rewrote (a shared log, docs/audit.md)', () => {
    const recorded = (at: number, type: string): RecordedEvent => ({
      ...event(type, { at }),
      stream: `s-${at}`,
      revision: 0,
      position: toPosition(at),
    });
    const positionsOf = (events: readonly RecordedEvent[]) =>
      events.map((one) => Number(one.position.commit));

    it('given events 1–6, when it forgets through 3, then it holds 4–6 only and reads before them go elsewhere', () => {
      const window = new RecentWindow(100);
      window.remember(
        [1, 2, 3, 4, 5, 6].map((at) => recorded(at, at % 2 === 0 ? 'Even' : 'Odd')),
        0,
        6,
      );
      window.forgetThrough(3);
      expect(window.coveredTo(2), 'nothing from before the cut').to.equal(undefined);
      expect(window.at(2)).to.equal(undefined);
      expect(window.coveredTo(3)).to.equal(6);
      expect(positionsOf(window.read(3, 10, undefined, 6).events)).to.deep.equal([4, 5, 6]);
      expect(positionsOf(window.read(3, 10, ['Odd'], 6).events)).to.deep.equal([5]);
      // The window goes on from its end as before.
      window.remember([recorded(7, 'Odd')], 6, 7);
      expect(positionsOf(window.read(3, 10, ['Odd'], 7).events)).to.deep.equal([5, 7]);
    });

    it('forgets nothing before its start, and at most up to its end', () => {
      const window = new RecentWindow(100);
      window.forgetThrough(5);
      expect(window.coveredTo(0)).to.equal(undefined);
      window.remember([recorded(3, 'Odd'), recorded(4, 'Even')], 2, 4);
      window.forgetThrough(1);
      expect(window.coveredTo(2)).to.equal(4);
      window.forgetThrough(9);
      expect(window.coveredTo(4)).to.equal(4);
      expect(window.read(4, 10, undefined, 4).events).to.deep.equal([]);
      window.remember([recorded(5, 'Odd')], 4, 5);
      expect(positionsOf(window.read(4, 10, undefined, 5).events)).to.deep.equal([5]);
    });
  });
});

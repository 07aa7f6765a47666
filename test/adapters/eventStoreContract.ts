import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  handleCommand,
  type AggregateHandle,
  type CommandContext,
  type CommandError,
  type CommandHandlerOptions,
  type CommandResult,
} from '../../domain/shared/commandHandler.js';
import type { Decider, TypedCommand } from '../../domain/shared/decider.js';
import { StateCache } from '../../domain/shared/stateCache.js';
import type {
  AppendResult,
  EventStore,
  NewEvent,
  Position,
  RecordedEvent,
  Subscription,
  WrongExpectedRevision,
} from '../../domain/shared/eventStore.js';
import { comparePositions } from '../../domain/shared/eventStore.js';

/** What a contract run needs from an adapter: a store, and a way to let it go. */
export interface StoreUnderTest {
  readonly store: EventStore;
  dispose(): Promise<void>;
}

/**
 * The behaviour every event store adapter must show. Streams and event types carry a random
 * run id, so the suite also runs against a shared EventStoreDB that holds other data.
 */
export function describeEventStoreContract(
  label: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`event store contract: ${label}`, () => {
    let subject: StoreUnderTest;
    let store: EventStore;
    const run = randomUUID().slice(0, 8);
    let counter = 0;
    const stream = (name: string): string => `contract_${run}_${name}_${(counter += 1)}`;
    const type = (name: string): string => `Contract${name}_${run}`;

    const event = (eventType: string, data: unknown = { n: counter }): NewEvent => ({
      id: randomUUID(),
      type: eventType,
      data,
      metadata: {
        occurredAt: '2026-11-24T10:00:00.000Z',
        actor: { kind: 'system', id: 'contract' },
        correlationId: 'corr',
        causationId: 'cause',
        schemaVersion: 1,
      },
    });

    const appendOk = async (
      name: string,
      events: readonly NewEvent[],
      expectedRevision: Parameters<EventStore['appendToStream']>[2]['expectedRevision'] = 'any',
    ): Promise<AppendResult> => {
      const outcome = await store.appendToStream(name, events, { expectedRevision });
      if (E.isLeft(outcome))
        throw new Error(`unexpected conflict: ${JSON.stringify(outcome.left)}`);
      return outcome.right;
    };

    const appendConflict = async (
      name: string,
      events: readonly NewEvent[],
      expectedRevision: Parameters<EventStore['appendToStream']>[2]['expectedRevision'],
    ): Promise<WrongExpectedRevision> => {
      const outcome = await store.appendToStream(name, events, { expectedRevision });
      if (E.isRight(outcome))
        throw new Error(`expected a conflict, got ${JSON.stringify(outcome.right, bigints)}`);
      return outcome.left;
    };

    /** A position before everything this test appends next. */
    const marker = async (): Promise<Position> =>
      (await appendOk(stream('marker'), [event(type('Marker'))])).position;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.dispose();
    });

    describe('revisions', () => {
      it('numbers a new stream from 0 and reads an absent one as empty', async () => {
        const name = stream('numbering');
        expect(await store.readStream(name)).to.deep.equal([]);
        const first = await appendOk(name, [event(type('A')), event(type('A'))], 'no_stream');
        expect(first.nextRevision).to.equal(1);
        const second = await appendOk(name, [event(type('A'))], 1);
        expect(second.nextRevision).to.equal(2);
        const read = await store.readStream(name);
        expect(read.map((e) => e.revision)).to.deep.equal([0, 1, 2]);
        expect(read.every((e) => e.stream === name)).to.equal(true);
        expect(comparePositions(first.position, second.position)).to.be.lessThan(0);
      });

      it('reads a stream from a revision, at most maxCount events', async () => {
        const name = stream('window');
        await appendOk(
          name,
          [1, 2, 3, 4, 5].map((n) => event(type('A'), { n })),
        );
        const read = await store.readStream(name, { fromRevision: 1, maxCount: 3 });
        expect(read.map((e) => e.data)).to.deep.equal([{ n: 2 }, { n: 3 }, { n: 4 }]);
      });
    });

    describe('expected revision', () => {
      it('no_stream: succeeds on a new stream, conflicts on an existing one', async () => {
        const name = stream('nostream');
        await appendOk(name, [event(type('A'))], 'no_stream');
        const conflict = await appendConflict(name, [event(type('A'))], 'no_stream');
        expect(conflict).to.include({ kind: 'wrong_expected_revision', stream: name, actual: 0 });
        expect(conflict.expected).to.equal('no_stream');
      });

      it('stream_exists: conflicts on a new stream (actual no_stream), succeeds on an existing one', async () => {
        const name = stream('exists');
        const conflict = await appendConflict(name, [event(type('A'))], 'stream_exists');
        expect(conflict.actual).to.equal('no_stream');
        await appendOk(name, [event(type('A'))], 'no_stream');
        expect((await appendOk(name, [event(type('A'))], 'stream_exists')).nextRevision).to.equal(
          1,
        );
      });

      it('a revision: succeeds when it is the last revision, conflicts otherwise', async () => {
        const name = stream('exact');
        await appendOk(name, [event(type('A')), event(type('A'))], 'no_stream');
        const conflict = await appendConflict(name, [event(type('A'))], 0);
        expect(conflict.actual).to.equal(1);
        expect(conflict.expected).to.equal(0);
        const onNew = await appendConflict(stream('exact'), [event(type('A'))], 3);
        expect(onNew.actual).to.equal('no_stream');
        expect((await appendOk(name, [event(type('A'))], 1)).nextRevision).to.equal(2);
        expect(await store.readStream(name)).to.have.length(3);
      });

      it('any: always succeeds', async () => {
        const name = stream('any');
        await appendOk(name, [event(type('A'))], 'any');
        expect((await appendOk(name, [event(type('A'))], 'any')).nextRevision).to.equal(1);
      });

      it('a conflicting append writes nothing', async () => {
        const name = stream('nothing');
        await appendOk(name, [event(type('A'))], 'no_stream');
        await appendConflict(name, [event(type('A')), event(type('A'))], 5);
        expect(await store.readStream(name)).to.have.length(1);
      });
    });

    describe('concurrency', () => {
      it('of two concurrent appends at the same revision, exactly one wins', async () => {
        const name = stream('race');
        await appendOk(name, [event(type('A'))], 'no_stream');
        const outcomes = await Promise.all([
          store.appendToStream(name, [event(type('A'), { who: 'left' })], { expectedRevision: 0 }),
          store.appendToStream(name, [event(type('A'), { who: 'right' })], { expectedRevision: 0 }),
        ]);
        expect(outcomes.filter(E.isRight)).to.have.length(1);
        expect(outcomes.filter(E.isLeft)).to.have.length(1);
        const read = await store.readStream(name);
        expect(read).to.have.length(2);
        const winner = outcomes.findIndex(E.isRight) === 0 ? 'left' : 'right';
        expect(read[1]?.data).to.deep.equal({ who: winner });
      });

      it('of twenty concurrent creations of one stream, exactly one wins', async () => {
        const name = stream('create-race');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, n) =>
            store.appendToStream(name, [event(type('A'), { n })], {
              expectedRevision: 'no_stream',
            }),
          ),
        );
        expect(outcomes.filter(E.isRight)).to.have.length(1);
        expect(await store.readStream(name)).to.have.length(1);
      });
    });

    describe('idempotency', () => {
      it('re-appending the same event ids returns the first result and writes nothing', async () => {
        const name = stream('idem');
        const events = [event(type('A')), event(type('A'))];
        const first = await appendOk(name, events, 'no_stream');
        const again = await appendOk(name, events, 'no_stream');
        expect(again.nextRevision).to.equal(first.nextRevision);
        expect(await store.readStream(name)).to.have.length(2);
      });

      it('after later appends, a repeat still writes nothing', async () => {
        const name = stream('idem-later');
        const events = [event(type('A'))];
        await appendOk(name, events, 'no_stream');
        await appendOk(name, [event(type('A'))], 0);
        await store.appendToStream(name, events, { expectedRevision: 'no_stream' });
        expect((await store.readStream(name)).map((e) => e.revision)).to.deep.equal([0, 1]);
      });
    });

    describe('command idempotency (through the command handler)', () => {
      // The handler, not the store, must recognise a repeated command: EventStoreDB writes ids it
      // holds again when appended at the current revision, which is where the handler appends.
      const counter = (): AggregateHandle<CountCommand, CountEvent, CountState> =>
        countAggregate(type('Counted'));
      // Command ids of the test's own stream: an event id stored in another stream is a
      // conflict in some stores, so no two tests may share one.
      const commandIn =
        (name: string) =>
        (commandId: string, extra: Partial<CommandContext> = {}): CommandContext => ({
          commandId: `${name}:${commandId}`,
          actor: { kind: 'system', id: 'contract' },
          ...extra,
        });

      for (const cached of [false, true]) {
        const label = cached ? 'with a StateCache' : 'without a cache';
        const optionsOf = (): CommandHandlerOptions => (cached ? { cache: new StateCache() } : {});

        describe(label, () => {
          it('a command repeated at the current revision appends nothing', async () => {
            const name = stream('cmd-repeat');
            const context = commandIn(name);
            const aggregate = counter();
            const options = optionsOf();
            const counted = countingAppends(store);
            const first = handled(
              await handleCommand(
                counted.store,
                aggregate,
                name,
                count(2, 3),
                context('c1'),
                options,
              ),
            );
            expect(counted.appends).to.equal(1);
            const repeat = handled(
              await handleCommand(
                counted.store,
                aggregate,
                name,
                count(2, 3),
                context('c1'),
                options,
              ),
            );
            expect(counted.appends, 'the repeat reached the store').to.equal(1);
            expect(repeat.nextRevision).to.equal(first.nextRevision);
            expect(repeat.nextRevision).to.equal(1);
            expect(repeat.position).to.deep.equal(first.position);
            expect(repeat.events).to.deep.equal(first.events);
            expect(repeat.state).to.deep.equal({ total: 5 });
            expect(repeat.repeated).to.equal(true);
            expect(first.repeated).to.equal(undefined);
            expect((await store.readStream(name)).map((e) => e.data)).to.deep.equal([
              { by: 2 },
              { by: 3 },
            ]);

            const other = handled(
              await handleCommand(
                counted.store,
                aggregate,
                name,
                count(2, 3),
                context('c2'),
                options,
              ),
            );
            expect(other.nextRevision).to.equal(3);
            expect(comparePositions(first.position!, other.position!)).to.be.lessThan(0);
            expect(other.state).to.deep.equal({ total: 10 });
            expect(await store.readStream(name)).to.have.length(4);
          });

          it('a command repeated with expectedRevision any appends nothing', async () => {
            const name = stream('cmd-repeat-any');
            const context = commandIn(name);
            const aggregate = counter();
            const options = optionsOf();
            const counted = countingAppends(store);
            const any = context('c1', { expectedRevision: 'any' });
            handled(
              await handleCommand(counted.store, aggregate, name, count(1), context('c0'), options),
            );
            const first = handled(
              await handleCommand(counted.store, aggregate, name, count(4), any, options),
            );
            handled(
              await handleCommand(counted.store, aggregate, name, count(8), context('c2'), options),
            );
            expect(counted.appends).to.equal(3);
            const repeat = handled(
              await handleCommand(counted.store, aggregate, name, count(4), any, options),
            );
            expect(counted.appends, 'the repeat reached the store').to.equal(3);
            expect(repeat.nextRevision).to.equal(first.nextRevision);
            expect(repeat.nextRevision).to.equal(1);
            expect(repeat.position).to.deep.equal(first.position);
            expect(repeat.state).to.deep.equal({ total: 13 });
            expect((await store.readStream(name)).map((e) => e.data)).to.deep.equal([
              { by: 1 },
              { by: 4 },
              { by: 8 },
            ]);

            const other = handled(
              await handleCommand(
                counted.store,
                aggregate,
                name,
                count(4),
                context('c3', { expectedRevision: 'any' }),
                options,
              ),
            );
            expect(other.nextRevision).to.equal(3);
            expect(counted.appends).to.equal(4);
            expect(await store.readStream(name)).to.have.length(4);
          });
        });
      }
    });

    describe('global log', () => {
      it('reads all events strictly after a position, in append order across streams', async () => {
        const start = await marker();
        const [s1, s2] = [stream('all-1'), stream('all-2')];
        const t = type('All');
        await appendOk(s1, [event(t, { n: 1 })]);
        await appendOk(s2, [event(t, { n: 2 })]);
        await appendOk(s1, [event(t, { n: 3 }), event(t, { n: 4 })]);
        const read = await readAllOf(store, start, [s1, s2]);
        expect(read.map((e) => [e.stream, e.revision, e.data])).to.deep.equal([
          [s1, 0, { n: 1 }],
          [s2, 0, { n: 2 }],
          [s1, 1, { n: 3 }],
          [s1, 2, { n: 4 }],
        ]);
        for (let i = 1; i < read.length; i += 1) {
          expect(comparePositions(read[i - 1]!.position, read[i]!.position)).to.be.lessThan(0);
        }
        const afterSecond = await readAllOf(store, read[1]!.position, [s1, s2]);
        expect(afterSecond.map((e) => e.data)).to.deep.equal([{ n: 3 }, { n: 4 }]);
      });

      it('reports the position of the last event as its head', async () => {
        const name = stream('head');
        await appendOk(name, [event(type('A'))]);
        const last = await appendOk(stream('head-2'), [event(type('A')), event(type('A'))]);
        expect(await store.headPosition()).to.deep.equal(last.position);
      });

      it('filters the global log by event type', async () => {
        const start = await marker();
        const name = stream('types');
        await appendOk(name, [
          event(type('Keep'), { n: 1 }),
          event(type('Drop'), { n: 2 }),
          event(type('Keep'), { n: 3 }),
        ]);
        const read = await store.readAll({
          after: start,
          maxCount: 10,
          eventTypes: [type('Keep')],
        });
        expect(read.map((e) => e.data)).to.deep.equal([{ n: 1 }, { n: 3 }]);
      });
    });

    describe('subscriptions', () => {
      it('catch up, then follow live appends, filtered by type', async () => {
        const start = await marker();
        const name = stream('sub');
        const wanted = type('Live');
        await appendOk(name, [
          event(wanted, { n: 1 }),
          event(type('Other'), { n: 0 }),
          event(wanted, { n: 2 }),
        ]);
        const subscription = store.subscribe({ after: start, eventTypes: [wanted] });
        const received = collect(subscription, 4);
        await delay(50);
        await appendOk(name, [event(wanted, { n: 3 })]);
        await appendOk(stream('sub-other'), [event(wanted, { n: 4 })]);
        const events = await received;
        expect(events.map((e) => e.data)).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
        await subscription.close();
      });

      it('resumes from a checkpoint with no gap and no repeat', async () => {
        const start = await marker();
        const name = stream('resume');
        const t = type('Resume');
        await appendOk(
          name,
          [1, 2, 3, 4, 5].map((n) => event(t, { n })),
        );
        const first = store.subscribe({ after: start, eventTypes: [t], maxBatchSize: 2 });
        const firstPart = await collect(first, 3);
        await first.close();
        const checkpoint = firstPart.at(-1)!.position;
        await appendOk(
          name,
          [6, 7].map((n) => event(t, { n })),
        );
        const second = store.subscribe({ after: checkpoint, eventTypes: [t] });
        const rest = await collect(second, 4);
        await second.close();
        expect([...firstPart, ...rest].map((e) => e.data)).to.deep.equal(
          [1, 2, 3, 4, 5, 6, 7].map((n) => ({ n })),
        );
      });

      it('ends its iteration when closed', async () => {
        const subscription = store.subscribe({
          after: await marker(),
          eventTypes: [type('Never')],
        });
        const iteration = (async () => {
          let batches = 0;
          for await (const _ of subscription) batches += 1;
          return batches;
        })();
        await delay(20);
        await subscription.close();
        expect(await withTimeout(iteration, 5_000)).to.equal(0);
      });
    });

    describe('content', () => {
      it('round-trips a 64 KiB event and Chinese text unchanged', async () => {
        const name = stream('content');
        const chinese = '工单已派发：维修人员正在前往，预计十分钟到达。🚚 ';
        const big = chinese.repeat(Math.ceil(65_536 / Buffer.byteLength(chinese))).slice(0, 30_000);
        expect(Buffer.byteLength(big)).to.be.greaterThan(65_536);
        const data = { title: '到达通知', body: big, nested: { list: [1, '二', null, true] } };
        const sent = event(type('Content'), data);
        await appendOk(name, [sent]);
        const [read] = await store.readStream(name);
        expect(read?.data).to.deep.equal(data);
        expect(read?.metadata).to.deep.equal(sent.metadata);
        expect(read?.id).to.equal(sent.id);
        expect(read?.type).to.equal(sent.type);
      });
    });
  });
}

// A counter, the contract's own tiny aggregate: `Count` records each step (one event each), and
// every one counts again, so only a recognised repeat keeps it from being written twice.
type CountCommand = TypedCommand<'Count', { readonly steps: readonly number[] }>;
interface CountEvent {
  readonly type: string;
  readonly data: { readonly by: number };
}
interface CountState {
  readonly total: number;
}

/** The counter, its events of type `eventType` (the suite's names are its run's own). */
const countAggregate = (
  eventType: string,
): AggregateHandle<CountCommand, CountEvent, CountState> => {
  const decider: Decider<CountCommand, CountEvent, CountState> = {
    initialState: () => ({ total: 0 }),
    evolve: (state, event) => ({ total: state.total + event.data.by }),
    decide: (command) =>
      E.right(command.data.steps.map((by) => ({ type: eventType, data: { by } }))),
  };
  return {
    decider,
    eventCodec: t.type({ type: t.literal(eventType), data: t.type({ by: t.number }) }),
  };
};

const count = (...steps: number[]): CountCommand => ({
  type: 'Count',
  data: { steps },
  metadata: { now: '2026-11-24T10:00:00.000Z' },
});

/** The result of a command that must succeed. */
const handled = <Event, State>(
  result: E.Either<CommandError, CommandResult<Event, State>>,
): CommandResult<Event, State> => {
  if (E.isLeft(result)) throw new Error(`command failed: ${result.left.message}`);
  return result.right;
};

/** `store` with its appends counted (the store itself is left as it is). */
const countingAppends = (store: EventStore): { readonly store: EventStore; appends: number } => {
  const counted = {
    appends: 0,
    store: {
      readStream: (stream, options) => store.readStream(stream, options),
      appendToStream: (stream, events, options) => {
        counted.appends += 1;
        return store.appendToStream(stream, events, options);
      },
      readAll: (options) => store.readAll(options),
      headPosition: () => store.headPosition(),
      subscribe: (options) => store.subscribe(options),
      close: () => store.close(),
    } satisfies EventStore,
  };
  return counted;
};

/** Reads the whole global log after `after`, keeping only the given streams. */
const readAllOf = async (
  store: EventStore,
  after: Position,
  streams: readonly string[],
): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await store.readAll({ after: cursor, maxCount: 500 });
    if (page.length === 0) return found;
    found.push(...page.filter((e) => streams.includes(e.stream)));
    cursor = page.at(-1)!.position;
  }
};

/** Takes the first `count` events a subscription yields (failing after 5 s). */
const collect = (subscription: Subscription, count: number): Promise<RecordedEvent[]> =>
  withTimeout(
    (async () => {
      const events: RecordedEvent[] = [];
      for await (const batch of subscription) {
        events.push(...batch);
        if (events.length >= count) break;
      }
      return events.slice(0, count);
    })(),
    5_000,
  );

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => {
        reject(new Error(`timed out after ${ms} ms`));
      }, ms).unref(),
    ),
  ]);

const bigints = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? value.toString() : value;

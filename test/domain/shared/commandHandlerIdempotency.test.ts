import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  handleCommand,
  loadAggregate,
  type AggregateHandle,
  type CommandContext,
  type CommandError,
  type CommandResult,
} from '../../../domain/shared/commandHandler.js';
import type { Decider, TypedCommand } from '../../../domain/shared/decider.js';
import { domainError } from '../../../domain/shared/domainError.js';
import { eventIdFor } from '../../../domain/shared/eventIds.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  ReadStreamOptions,
  RecordedEvent,
  Subscription,
  WrongExpectedRevision,
} from '../../../domain/shared/eventStore.js';
import { NO_STREAM_REVISION } from '../../../domain/shared/eventStore.js';
import { StateCache } from '../../../domain/shared/stateCache.js';

// A tally: `Add` adds each amount (one event each) until `Close`. Every `Add` appends, whatever
// came before, so only the handler can keep a repeated one from being written twice.
type TallyCommand =
  | TypedCommand<'Add', { readonly amounts: readonly number[] }>
  | TypedCommand<'Close', Record<string, never>>;
const TallyEventCodec = t.union([
  t.type({ type: t.literal('Added'), data: t.type({ amount: t.number }) }),
  t.type({ type: t.literal('Closed'), data: t.type({}) }),
]);
type TallyEvent = t.TypeOf<typeof TallyEventCodec>;
type TallyState = { readonly status: 'open' | 'closed'; readonly total: number };

const tallyDecider: Decider<TallyCommand, TallyEvent, TallyState> = {
  initialState: () => ({ status: 'open', total: 0 }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'Added':
        return { ...state, total: state.total + event.data.amount };
      case 'Closed':
        return { ...state, status: 'closed' };
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  },
  decide: (command, state) => {
    if (state.status === 'closed') return E.left(domainError('illegal_state', 'tally closed'));
    switch (command.type) {
      case 'Add':
        return E.right(command.data.amounts.map((amount) => ({ type: 'Added', data: { amount } })));
      case 'Close':
        return E.right([{ type: 'Closed', data: {} }]);
      default: {
        const _exhaustive: never = command;
        return _exhaustive;
      }
    }
  },
};

const tally: AggregateHandle<TallyCommand, TallyEvent, TallyState> = {
  decider: tallyDecider,
  eventCodec: TallyEventCodec,
};

const now = '2026-11-24T10:00:00.000Z';
const add = (...amounts: number[]): TallyCommand => ({
  type: 'Add',
  data: { amounts },
  metadata: { now },
});
const close: TallyCommand = { type: 'Close', data: {}, metadata: { now } };
const as = (commandId: string, extra: Partial<CommandContext> = {}): CommandContext => ({
  commandId,
  actor: { kind: 'system', id: 'test' },
  ...extra,
});

type Result = E.Either<CommandError, CommandResult<TallyEvent, TallyState>>;
const ok = (result: Result): CommandResult<TallyEvent, TallyState> => {
  if (E.isLeft(result)) throw new Error(`command failed: ${result.left.message}`);
  return result.right;
};

/**
 * An in-memory store that checks expected revisions but, like EventStoreDB appending at the
 * current revision, never recognises event ids it holds already: a repeat lands twice unless the
 * handler stops it. Counts appends and records reads.
 */
class ForgetfulStore implements EventStore {
  readonly log: RecordedEvent[] = [];
  appends = 0;
  readonly reads: Array<{ readonly stream: string; readonly options?: ReadStreamOptions }> = [];
  /** When set, the next append is written and then fails, as if its answer were lost. */
  loseNextAnswer = false;

  readStream(stream: string, options?: ReadStreamOptions): Promise<readonly RecordedEvent[]> {
    this.reads.push(options === undefined ? { stream } : { stream, options });
    const from = options?.fromRevision ?? 0;
    const events = this.log.filter((e) => e.stream === stream && e.revision >= from);
    return Promise.resolve(events.slice(0, options?.maxCount ?? events.length));
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<E.Either<WrongExpectedRevision, AppendResult>> {
    this.appends += 1;
    const current = this.revisionOf(stream);
    const expected = options.expectedRevision;
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && current === NO_STREAM_REVISION) ||
      (expected === 'stream_exists' && current !== NO_STREAM_REVISION) ||
      expected === current;
    if (!matches) {
      return Promise.resolve(
        E.left({
          kind: 'wrong_expected_revision',
          stream,
          expected,
          actual: current === NO_STREAM_REVISION ? 'no_stream' : current,
        }),
      );
    }
    for (const [index, event] of events.entries()) {
      const position = BigInt(this.log.length + 1);
      this.log.push({
        ...event,
        stream,
        revision: current + 1 + index,
        position: { commit: position, prepare: position },
      });
    }
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      return Promise.reject(new Error('append timed out (written all the same)'));
    }
    const last = this.log.at(-1);
    if (last === undefined) throw new Error('appended nothing');
    return Promise.resolve(E.right({ nextRevision: last.revision, position: last.position }));
  }

  readAll(): Promise<readonly RecordedEvent[]> {
    return Promise.resolve([...this.log]);
  }

  headPosition(): Promise<RecordedEvent['position'] | undefined> {
    return Promise.resolve(this.log.at(-1)?.position);
  }

  subscribe(): Subscription {
    throw new Error('not used by these tests');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The amounts stored in `stream`, in order (each `Added` once per time it was written). */
  amounts(stream: string): number[] {
    return this.log
      .filter((e) => e.stream === stream && e.type === 'Added')
      .map((e) => (e.data as { amount: number }).amount);
  }

  private revisionOf(stream: string): number {
    return this.log.filter((e) => e.stream === stream).at(-1)?.revision ?? NO_STREAM_REVISION;
  }
}

describe('command handler: a repeated command on a store that does not dedupe ids', () => {
  let store: ForgetfulStore;
  beforeEach(() => {
    store = new ForgetfulStore();
  });

  it('given the fake store, when the same event ids are appended again, then it writes them twice (what the handler must prevent)', async () => {
    ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1')));
    const [event] = store.log;
    if (event === undefined) throw new Error('nothing stored');
    const again = await store.appendToStream('tally-1', [event], { expectedRevision: 'any' });
    expect(E.isRight(again)).to.equal(true);
    expect(store.amounts('tally-1')).to.deep.equal([5, 5]);
  });

  for (const withCache of [false, true]) {
    const label = withCache ? 'with a StateCache' : 'without a cache';
    const optionsOf = (): { cache?: StateCache } => (withCache ? { cache: new StateCache() } : {});

    describe(label, () => {
      it('given a command just applied, when it is repeated at the current revision, then nothing is appended and the first result is returned', async () => {
        const options = optionsOf();
        const first = ok(
          await handleCommand(store, tally, 'tally-1', add(5, 7), as('c1'), options),
        );
        const appends = store.appends;
        const repeat = ok(
          await handleCommand(store, tally, 'tally-1', add(5, 7), as('c1'), options),
        );
        expect(store.appends).to.equal(appends);
        expect(store.amounts('tally-1')).to.deep.equal([5, 7]);
        expect(first.repeated).to.equal(undefined);
        expect(repeat).to.deep.equal({ ...first, repeated: true });
        expect(repeat.nextRevision).to.equal(1);
        expect(repeat.position).to.deep.equal({ commit: 2n, prepare: 2n });
        expect(repeat.state).to.deep.equal({ status: 'open', total: 12 });
      });

      it('given a command applied with expectedRevision any, when it is repeated with any, then nothing is appended and the first result is returned', async () => {
        const options = optionsOf();
        const context = as('c1', { expectedRevision: 'any' });
        ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), options));
        const first = ok(await handleCommand(store, tally, 'tally-1', add(5), context, options));
        const repeat = ok(await handleCommand(store, tally, 'tally-1', add(5), context, options));
        expect(store.amounts('tally-1')).to.deep.equal([1, 5]);
        expect(repeat.nextRevision).to.equal(first.nextRevision);
        expect(repeat.position).to.deep.equal(first.position);
        expect(repeat.events).to.deep.equal([{ type: 'Added', data: { amount: 5 } }]);
      });

      it('given later commands, when an earlier one is repeated, then it is answered with its own events and revision and the state as stored now', async () => {
        const options = optionsOf();
        const first = ok(
          await handleCommand(store, tally, 'tally-1', add(5, 6), as('c1'), options),
        );
        ok(await handleCommand(store, tally, 'tally-1', add(10), as('c2'), options));
        ok(await handleCommand(store, tally, 'tally-1', add(20), as('c3'), options));
        const repeat = ok(
          await handleCommand(store, tally, 'tally-1', add(5, 6), as('c1'), options),
        );
        expect(store.amounts('tally-1')).to.deep.equal([5, 6, 10, 20]);
        expect(repeat.events).to.deep.equal(first.events);
        expect(repeat.nextRevision).to.equal(1);
        expect(repeat.position).to.deep.equal(first.position);
        expect(repeat.state).to.deep.equal({ status: 'open', total: 41 });
      });

      it('given a command applied before the tally closed, when it is repeated, then it is answered as before, not refused', async () => {
        const options = optionsOf();
        const first = ok(await handleCommand(store, tally, 'tally-1', add(3), as('c1'), options));
        ok(await handleCommand(store, tally, 'tally-1', close, as('close'), options));
        const repeat = ok(await handleCommand(store, tally, 'tally-1', add(3), as('c1'), options));
        expect(repeat.nextRevision).to.equal(first.nextRevision);
        expect(repeat.state.status).to.equal('closed');
        // A new command is decided, and refused.
        const other = await handleCommand(store, tally, 'tally-1', add(3), as('c2'), options);
        expect(E.isLeft(other) && other.left.code).to.equal('illegal_state');
        expect(store.amounts('tally-1')).to.deep.equal([3]);
      });

      it('given a command applied with an order key, when it is repeated with the same one, then nothing is appended; with another command id it appends', async () => {
        const options = optionsOf();
        const context = as('c1', { orderKey: Date.parse(now) });
        const first = ok(await handleCommand(store, tally, 'tally-1', add(5), context, options));
        const repeat = ok(await handleCommand(store, tally, 'tally-1', add(5), context, options));
        expect(repeat.position).to.deep.equal(first.position);
        const other = ok(
          await handleCommand(
            store,
            tally,
            'tally-1',
            add(5),
            as('c2', { orderKey: Date.parse(now) }),
            options,
          ),
        );
        expect(other.nextRevision).to.equal(1);
        expect(store.amounts('tally-1')).to.deep.equal([5, 5]);
        expect(store.log[0]?.id).to.equal(eventIdFor('c1', 0, Date.parse(now)));
      });

      it('given an append whose answer was lost, when the command is retried, then it is not written again and the retry answers with the stored append', async () => {
        const options = optionsOf();
        ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), options));
        store.loseNextAnswer = true;
        let failure: unknown;
        try {
          await handleCommand(store, tally, 'tally-1', add(5), as('c1'), options);
        } catch (error) {
          failure = error;
        }
        expect(String(failure)).to.contain('timed out');
        const retry = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1'), options));
        expect(store.amounts('tally-1')).to.deep.equal([1, 5]);
        expect(retry.nextRevision).to.equal(1);
        expect(retry.position).to.deep.equal(store.log[1]?.position);
        expect(retry.state.total).to.equal(6);
      });

      it('given a command delivered twice at once, when both run, then it is stored once and both answer with it', async () => {
        const options = optionsOf();
        ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), options));
        const [left, right] = await Promise.all([
          handleCommand(store, tally, 'tally-1', add(5), as('c1'), options),
          handleCommand(store, tally, 'tally-1', add(5), as('c1'), options),
        ]);
        expect(store.amounts('tally-1')).to.deep.equal([1, 5]);
        expect(ok(left).nextRevision).to.equal(1);
        expect(ok(right).nextRevision).to.equal(1);
        expect(ok(right).position).to.deep.equal(ok(left).position);
      });
    });
  }

  describe('with a StateCache: what it reads, what it remembers', () => {
    it('given a warm cache, when a new command runs and nothing is newer, then it reads the stream once, after the cached revision', async () => {
      const cache = new StateCache();
      ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), { cache }));
      ok(await handleCommand(store, tally, 'tally-1', add(2), as('c1'), { cache }));
      const reads = store.reads.length;
      ok(await handleCommand(store, tally, 'tally-1', add(3), as('c2'), { cache }));
      expect(store.reads.slice(reads)).to.deep.equal([
        { stream: 'tally-1', options: { fromRevision: 2 } },
      ]);
      expect(store.amounts('tally-1')).to.deep.equal([1, 2, 3]);
    });

    it('given a warm cache, when a command is repeated, then only its own events are read back (not the stream)', async () => {
      const cache = new StateCache();
      ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), { cache }));
      const first = ok(
        await handleCommand(store, tally, 'tally-1', add(2, 3), as('c1'), { cache }),
      );
      ok(await handleCommand(store, tally, 'tally-1', add(4), as('c2'), { cache }));
      const reads = store.reads.length;
      const repeat = ok(
        await handleCommand(store, tally, 'tally-1', add(2, 3), as('c1'), { cache }),
      );
      expect(repeat).to.deep.include({ nextRevision: 2, position: first.position });
      expect(store.reads.slice(reads)).to.deep.equal([
        { stream: 'tally-1', options: { fromRevision: 4 } },
        { stream: 'tally-1', options: { fromRevision: 1, maxCount: 16 } },
      ]);
    });

    it('given a command applied, when the cache was cleared before the repeat, then it is still recognised from the stream', async () => {
      const cache = new StateCache();
      const first = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1'), { cache }));
      ok(await handleCommand(store, tally, 'tally-1', add(6), as('c2'), { cache }));
      cache.delete('tally-1');
      const repeat = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1'), { cache }));
      expect(store.amounts('tally-1')).to.deep.equal([5, 6]);
      expect(repeat.position).to.deep.equal(first.position);
      expect(repeat.state.total).to.equal(11);

      // Another process's cache (a fresh one) recognises it too.
      const elsewhere = ok(
        await handleCommand(store, tally, 'tally-1', add(6), as('c2'), {
          cache: new StateCache(),
        }),
      );
      expect(elsewhere.nextRevision).to.equal(1);
      expect(store.amounts('tally-1')).to.deep.equal([5, 6]);
    });

    it('given a writer without the cache, when a command it applied is repeated with the cache, then it is recognised from the newer events read', async () => {
      const cache = new StateCache();
      ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), { cache }));
      const first = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1')));
      const repeat = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1'), { cache }));
      expect(store.amounts('tally-1')).to.deep.equal([1, 5]);
      expect(repeat.position).to.deep.equal(first.position);
      expect(cache.get('tally-1')).to.deep.equal(await loadAggregate(store, tally, 'tally-1'));
    });

    it('given a stream longer than the ids the cache keeps, when an old command is repeated, then the older revisions are read and nothing is appended', async () => {
      const cache = new StateCache(10, 2);
      const first = ok(
        await handleCommand(store, tally, 'tally-1', add(1, 2), as('c1'), { cache }),
      );
      for (const n of [3, 4, 5]) {
        ok(await handleCommand(store, tally, 'tally-1', add(n), as(`c${n}`), { cache }));
      }
      expect(cache.findId('tally-1', eventIdFor('c1', 0))).to.deep.equal({
        candidates: [],
        knownFrom: 3,
        revision: 4,
      });
      const repeat = ok(
        await handleCommand(store, tally, 'tally-1', add(1, 2), as('c1'), { cache }),
      );
      expect(store.amounts('tally-1')).to.deep.equal([1, 2, 3, 4, 5]);
      expect(repeat.events).to.deep.equal(first.events);
      expect(repeat).to.deep.include({ nextRevision: 1, position: first.position });

      // A command the cache still remembers is answered without reading the older revisions.
      const reads = store.reads.length;
      ok(await handleCommand(store, tally, 'tally-1', add(5), as('c5'), { cache }));
      expect(store.reads.slice(reads).map((read) => read.options)).to.deep.equal([
        { fromRevision: 5 },
        { fromRevision: 4, maxCount: 16 },
      ]);
      // A new one reads them to be sure it is new, then appends.
      ok(await handleCommand(store, tally, 'tally-1', add(6), as('c6'), { cache }));
      expect(store.amounts('tally-1')).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });

    it('given a stream longer than the ids the cache keeps, when a repeated command’s events straddle what it keeps, then all of them are answered', async () => {
      const cache = new StateCache(10, 2);
      ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), { cache }));
      const first = ok(
        await handleCommand(store, tally, 'tally-1', add(2, 3, 4), as('c1'), { cache }),
      );
      // The cache keeps revisions 2 and 3: the first of c1's events (revision 1) is older.
      expect(cache.findId('tally-1', eventIdFor('c1', 0))).to.deep.include({ knownFrom: 2 });
      const repeat = ok(
        await handleCommand(store, tally, 'tally-1', add(2, 3, 4), as('c1'), { cache }),
      );
      expect(repeat.events).to.deep.equal(first.events);
      expect(repeat.nextRevision).to.equal(3);
      expect(store.amounts('tally-1')).to.deep.equal([1, 2, 3, 4]);
    });

    it('given a cache whose fingerprint matches a revision holding another event, when the command runs, then that is no repeat and it appends', async () => {
      const cache = new StateCache();
      ok(await handleCommand(store, tally, 'tally-1', add(1), as('c0'), { cache }));
      const cached = cache.get('tally-1');
      if (cached === undefined) throw new Error('not cached');
      // As if c1's first id shared a fingerprint with the event at revision 0.
      cache.set('tally-1', cached.revision, cached.state, [eventIdFor('c1', 0)]);
      expect(cache.findId('tally-1', eventIdFor('c1', 0))?.candidates).to.deep.equal([0]);
      const result = ok(await handleCommand(store, tally, 'tally-1', add(5), as('c1'), { cache }));
      expect(result.nextRevision).to.equal(1);
      expect(store.amounts('tally-1')).to.deep.equal([1, 5]);
    });
  });
});

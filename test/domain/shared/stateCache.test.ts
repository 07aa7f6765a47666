import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { openDatabase } from '../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { aggregates } from '../../../domain/aggregates.js';
import type { AppCommand } from '../../../domain/app/appCommands.js';
import type { AppState } from '../../../domain/app/appDecider.js';
import {
  handleCommand,
  loadAggregate,
  type CommandContext,
  type CommandResult,
  type CommandError,
} from '../../../domain/shared/commandHandler.js';
import type { AppEvent } from '../../../domain/app/appEvents.js';
import type { EventStore, ReadStreamOptions } from '../../../domain/shared/eventStore.js';
import { StateCache } from '../../../domain/shared/stateCache.js';
import { now, operator, penalize, register } from '../../support/appCommands.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const app = aggregates.app;

const rotate = (appId: string, secretHash: string): AppCommand => ({
  type: 'RotateAppSecret',
  data: { appId, secretHash },
  metadata: { now },
});
const ban = (appId: string): AppCommand => ({
  type: 'BanApp',
  data: { appId, reason: 'operator', complaintIds: [] },
  metadata: { now },
});
const reinstate = (appId: string): AppCommand => ({
  type: 'ReinstateApp',
  data: { appId },
  metadata: { now },
});
const suspend = (appId: string): AppCommand => ({
  type: 'SuspendApp',
  data: { appId, until: '2026-12-24T10:00:00.000Z', reason: 'operator', complaintIds: [] },
  metadata: { now },
});

const as = (commandId: string): CommandContext => ({ commandId, actor: operator });

type Result = E.Either<CommandError, CommandResult<AppEvent, AppState>>;

/** The right side of a command's result; fails the test on an error. */
const ok = (result: Result): CommandResult<AppEvent, AppState> => {
  if (E.isLeft(result)) throw new Error(`command failed: ${result.left.message}`);
  return result.right;
};

/** The stream folded from its first event, no cache involved: what the store says. */
const fromScratch = (store: EventStore, stream: string) => loadAggregate(store, app, stream);

/** Records the options of every `readStream` call on `store`. */
const spyReads = (store: EventStore): Array<{ stream: string; options?: ReadStreamOptions }> => {
  const calls: Array<{ stream: string; options?: ReadStreamOptions }> = [];
  const original = store.readStream.bind(store);
  store.readStream = (stream, options) => {
    calls.push(options === undefined ? { stream } : { stream, options });
    return original(stream, options);
  };
  return calls;
};

describe('StateCache', () => {
  it('refuses a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new StateCache(capacity), String(capacity)).to.throw(RangeError);
    }
    expect(new StateCache(1).capacity).to.equal(1);
    expect(new StateCache().capacity).to.equal(20_000);
  });

  it('given a full cache, when another stream is set, then the least recently set one is dropped', () => {
    const cache = new StateCache(2);
    cache.set('a', 0, 'A');
    cache.set('b', 0, 'B');
    cache.set('c', 0, 'C');
    expect(cache.stats.size).to.equal(2);
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.get('b')).to.deep.equal({ revision: 0, state: 'B' });
    expect(cache.get('c')).to.deep.equal({ revision: 0, state: 'C' });
  });

  it('given a full cache, when the oldest stream was read, then the next set drops the other one', () => {
    const cache = new StateCache(2);
    cache.set('a', 0, 'A');
    cache.set('b', 0, 'B');
    expect(cache.get('a')?.state).to.equal('A');
    cache.set('c', 0, 'C');
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('a')?.state).to.equal('A');
    expect(cache.get('c')?.state).to.equal('C');
  });

  it('given a full cache, when the oldest stream is set again, then it counts as recently used', () => {
    const cache = new StateCache(2);
    cache.set('a', 0, 'A0');
    cache.set('b', 0, 'B');
    cache.set('a', 1, 'A1');
    cache.set('c', 0, 'C');
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('a')).to.deep.equal({ revision: 1, state: 'A1' });
    expect(cache.stats.size).to.equal(2);
  });

  it('never holds more than its capacity, whatever the order of sets and gets', () => {
    const cache = new StateCache(3);
    for (let n = 0; n < 50; n += 1) {
      cache.set(`s${n % 7}`, n, n);
      cache.get(`s${(n * 3) % 5}`);
      expect(cache.stats.size).to.be.at.most(3);
    }
  });

  it('given a newer revision cached, when an older one is set, then the newer entry stays', () => {
    const cache = new StateCache(2);
    cache.set('a', 5, 'five');
    cache.set('a', 4, 'four');
    expect(cache.get('a')).to.deep.equal({ revision: 5, state: 'five' });
    cache.set('a', 6, 'six');
    expect(cache.get('a')).to.deep.equal({ revision: 6, state: 'six' });
  });

  it('refuses a number of ids per stream that is not a positive integer', () => {
    for (const ids of [0, -1, 2.5, Number.NaN]) {
      expect(() => new StateCache(10, ids), String(ids)).to.throw(RangeError);
    }
    expect(new StateCache().idsPerStream).to.equal(256);
  });

  it('given the ids of a whole stream, when one is looked up, then its revision is the candidate and every revision is known', () => {
    const cache = new StateCache(4);
    cache.set('a', 2, 'A', ['id-0', 'id-1', 'id-2']);
    expect(cache.findId('a', 'id-1')).to.deep.equal({ candidates: [1], knownFrom: 0, revision: 2 });
    expect(cache.findId('a', 'id-9')).to.deep.equal({ candidates: [], knownFrom: 0, revision: 2 });
    expect(cache.findId('b', 'id-1')).to.equal(undefined);
    // A look-up is not a use: it counts neither as a hit nor as a miss.
    expect(cache.stats).to.deep.equal({ size: 1, hits: 0, misses: 0 });
  });

  it('given appends that follow on, when their ids are set, then they join the ids remembered, the latest idsPerStream of them', () => {
    const cache = new StateCache(4, 3);
    cache.set('a', -1, 'empty', []);
    expect(cache.findId('a', 'id-0')).to.deep.equal({ candidates: [], knownFrom: 0, revision: -1 });
    cache.set('a', 1, 'A1', ['id-0', 'id-1']);
    cache.set('a', 2, 'A2', ['id-2']);
    expect(cache.findId('a', 'id-0')).to.deep.equal({ candidates: [0], knownFrom: 0, revision: 2 });
    cache.set('a', 4, 'A4', ['id-3', 'id-4']);
    expect(cache.findId('a', 'id-0')).to.deep.equal({ candidates: [], knownFrom: 2, revision: 4 });
    expect(cache.findId('a', 'id-2')?.candidates).to.deep.equal([2]);
    expect(cache.findId('a', 'id-4')?.candidates).to.deep.equal([4]);
    expect(cache.get('a')).to.deep.equal({ revision: 4, state: 'A4' });
  });

  it('given ids that do not join up, when they are set, then only they are remembered (no gap is ever papered over)', () => {
    const cache = new StateCache(4);
    cache.set('a', 1, 'A1', ['id-0', 'id-1']);
    // Revision 2 was written by someone else and never seen; revision 3 is.
    cache.set('a', 3, 'A3', ['id-3']);
    expect(cache.findId('a', 'id-0')).to.deep.equal({ candidates: [], knownFrom: 3, revision: 3 });
    // No ids at a later revision: nothing is known any more.
    cache.set('a', 5, 'A5');
    expect(cache.findId('a', 'id-3')).to.deep.equal({ candidates: [], knownFrom: 6, revision: 5 });
    // The whole stream again, from a read from its start.
    cache.set('a', 5, 'A5', ['id-0', 'id-1', 'id-2', 'id-3', 'id-4', 'id-5']);
    expect(cache.findId('a', 'id-2')).to.deep.equal({ candidates: [2], knownFrom: 0, revision: 5 });
  });

  it('given a later revision cached, when older ids are set, then the remembered ids stay', () => {
    const cache = new StateCache(4);
    cache.set('a', 1, 'A1', ['id-0', 'id-1']);
    cache.set('a', 0, 'A0', ['other-0']);
    expect(cache.findId('a', 'id-0')?.candidates).to.deep.equal([0]);
    expect(cache.findId('a', 'other-0')?.candidates).to.deep.equal([]);
  });

  it('given a stream dropped or deleted, when its ids are looked up, then the cache knows nothing of them', () => {
    const cache = new StateCache(1);
    cache.set('a', 0, 'A', ['id-0']);
    cache.set('b', 0, 'B', ['id-b']);
    expect(cache.findId('a', 'id-0')).to.equal(undefined);
    cache.delete('b');
    expect(cache.findId('b', 'id-b')).to.equal(undefined);
  });

  it('counts hits and misses, and forgets a deleted stream', () => {
    const cache = new StateCache(4);
    expect(cache.get('a')).to.equal(undefined);
    cache.set('a', 0, 'A');
    cache.get('a');
    cache.get('a');
    cache.delete('a');
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.stats).to.deep.equal({ size: 0, hits: 2, misses: 2 });
  });

  it('given cached streams, when it is cleared, then it holds none and fills again in order', () => {
    const cache = new StateCache(2);
    cache.set('a', 0, 'A', ['id-a']);
    cache.set('b', 0, 'B');
    cache.clear();
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.findId('a', 'id-a')).to.equal(undefined);
    expect(cache.stats.size).to.equal(0);
    cache.set('c', 0, 'C');
    cache.set('d', 0, 'D');
    cache.set('e', 0, 'E');
    expect(cache.get('c'), 'the least recently used one is dropped again').to.equal(undefined);
    expect(cache.get('e')?.state).to.equal('E');
  });

  it('given a state folded before a clear or a delete, when it is set after, then it is not kept', () => {
    const cache = new StateCache();
    const before = cache.generation;
    cache.clear();
    cache.set('a', 3, 'folded from data rewritten since', [], before);
    expect(cache.get('a'), 'read before the clear').to.equal(undefined);
    const afterClear = cache.generation;
    cache.delete('b');
    cache.set('a', 3, 'still old', [], afterClear);
    expect(cache.get('a'), 'read before the delete').to.equal(undefined);
    cache.set('a', 3, 'fresh', [], cache.generation);
    expect(cache.get('a')?.state).to.equal('fresh');
  });
});

describe('loadAggregate and handleCommand with a StateCache (SQLite store, App aggregate)', () => {
  let temp: TempStore;
  let cache: StateCache;
  beforeEach(() => {
    temp = openTempStore();
    cache = new StateCache(100);
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('given an empty cache, when a command runs with it, then the state it led to is cached at its revision', async () => {
    const stream = app.streamName('a1');
    const result = ok(
      await handleCommand(temp.store, app, stream, register('a1'), as('r'), { cache }),
    );
    const cached = cache.get<AppState>(stream);
    expect(cached?.revision).to.equal(0);
    expect(cached?.state).to.deep.equal(result.state);
    expect(cached?.state).to.deep.equal((await fromScratch(temp.store, stream)).state);
    expect(cached?.state.status).to.equal('active');
  });

  it('given a cached stream, when a second command runs, then it reads only the newer revisions and answers as without a cache', async () => {
    const plain = openTempStore();
    try {
      const stream = app.streamName('a2');
      const commands = [register('a2'), penalize('a2', 'c1'), penalize('a2', 'c2'), ban('a2')];
      const withCache: CommandResult<AppEvent, AppState>[] = [];
      const without: CommandResult<AppEvent, AppState>[] = [];
      const reads = spyReads(temp.store);
      for (const [n, command] of commands.entries()) {
        const hitsBefore = cache.stats.hits;
        withCache.push(
          ok(await handleCommand(temp.store, app, stream, command, as(`k${n}`), { cache })),
        );
        without.push(ok(await handleCommand(plain.store, app, stream, command, as(`k${n}`))));
        if (n > 0) {
          // Served from the cache: one hit, and the stream read only after the cached revision.
          expect(cache.stats.hits - hitsBefore, `command ${n}`).to.equal(1);
          expect(reads.at(-1)?.options, `command ${n}`).to.deep.equal({ fromRevision: n });
        }
      }
      expect(withCache).to.deep.equal(without);
      expect(withCache.at(-1)?.state.status).to.equal('banned');
      expect(withCache.at(-1)?.nextRevision).to.equal(3);
      expect(await temp.store.readAll({ maxCount: 100 })).to.deep.equal(
        await plain.store.readAll({ maxCount: 100 }),
      );
    } finally {
      await plain.dispose();
    }
  });

  it('given a cached state, when a writer without the cache appends, then the next cached load folds the newer events', async () => {
    const stream = app.streamName('a3');
    ok(await handleCommand(temp.store, app, stream, register('a3'), as('r'), { cache }));
    expect(cache.get<AppState>(stream)?.revision).to.equal(0);

    // The foreign writer: same store, no cache, so the cached entry is now one revision behind.
    ok(await handleCommand(temp.store, app, stream, penalize('a3', 'c1'), as('p1')));
    ok(await handleCommand(temp.store, app, stream, ban('a3'), as('b1')));
    expect(cache.get<AppState>(stream)?.revision).to.equal(0);

    const loaded = await loadAggregate(temp.store, app, stream, cache);
    expect(loaded.revision).to.equal(2);
    expect(loaded.state.status).to.equal('banned');
    expect(loaded).to.deep.equal(await fromScratch(temp.store, stream));
    expect(cache.get<AppState>(stream)).to.deep.equal(loaded);
  });

  it('given a cached state a foreign writer made stale, when a command is a no-op on the stale state, then it is decided on the fresh one', async () => {
    const stream = app.streamName('a4');
    ok(await handleCommand(temp.store, app, stream, register('a4'), as('r'), { cache }));
    ok(await handleCommand(temp.store, app, stream, ban('a4'), as('b1'), { cache }));
    expect(cache.get<AppState>(stream)?.state.status).to.equal('banned');

    // Reinstated behind the cache's back: on the cached (banned) state a ban changes nothing,
    // and a no-op never reaches the store's revision check, so only a fresh read can catch it.
    ok(await handleCommand(temp.store, app, stream, reinstate('a4'), as('re1')));

    const result = ok(await handleCommand(temp.store, app, stream, ban('a4'), as('b2'), { cache }));
    expect(result.events.map((e) => e.type)).to.deep.equal(['AppBanned']);
    expect(result.nextRevision).to.equal(3);
    expect((await temp.store.readStream(stream)).map((e) => e.type)).to.deep.equal([
      'AppRegistered',
      'AppBanned',
      'AppReinstated',
      'AppBanned',
    ]);
    expect(cache.get<AppState>(stream)).to.deep.equal(await fromScratch(temp.store, stream));
  });

  it('given a cached state a foreign writer made stale, when a command is refused on the fresh state, then it is refused', async () => {
    const stream = app.streamName('a5');
    ok(await handleCommand(temp.store, app, stream, register('a5'), as('r'), { cache }));
    ok(await handleCommand(temp.store, app, stream, ban('a5'), as('b1')));

    const result = await handleCommand(temp.store, app, stream, suspend('a5'), as('s1'), {
      cache,
    });
    expect(E.isLeft(result) && result.left.code).to.equal('illegal_state');
    expect(await temp.store.readStream(stream)).to.have.length(2);
    expect(cache.get<AppState>(stream)).to.deep.equal(await fromScratch(temp.store, stream));
  });

  it('given a cached state, when another store object on the same file appends, then the next cached command sees it', async () => {
    const otherDb = openDatabase({ dataDir: temp.dir, synchronous: 'normal' });
    const other = new SqliteEventStore(otherDb, { pollIntervalMs: 50 });
    try {
      const stream = app.streamName('a6');
      ok(await handleCommand(temp.store, app, stream, register('a6'), as('r'), { cache }));
      ok(await handleCommand(temp.store, app, stream, ban('a6'), as('b1'), { cache }));
      // Another process (here: another connection) reinstates the app.
      ok(await handleCommand(other, app, stream, reinstate('a6'), as('re1')));

      const loaded = await loadAggregate(temp.store, app, stream, cache);
      expect(loaded.revision).to.equal(2);
      expect(loaded.state.status).to.equal('active');

      ok(await handleCommand(other, app, stream, penalize('a6', 'c1'), as('p1')));
      const result = ok(
        await handleCommand(temp.store, app, stream, ban('a6'), as('b2'), { cache }),
      );
      expect(result.events.map((e) => e.type)).to.deep.equal(['AppBanned']);
      expect(result.nextRevision).to.equal(4);
      expect(result.state).to.deep.equal((await fromScratch(other, stream)).state);
      expect(cache.get<AppState>(stream)).to.deep.equal(await fromScratch(other, stream));
    } finally {
      await other.close();
      otherDb.close();
    }
  });

  it('given later writes, when a command is repeated with its command id, then nothing is appended and the cache still matches the stream', async () => {
    const stream = app.streamName('a7');
    ok(await handleCommand(temp.store, app, stream, register('a7'), as('r'), { cache }));
    ok(await handleCommand(temp.store, app, stream, rotate('a7', 'h1'), as('rot1'), { cache }));
    ok(await handleCommand(temp.store, app, stream, rotate('a7', 'h2'), as('rot2'), { cache }));

    // On the current state (h2) the repeat decides a rotation to h1 again, with the ids of the
    // first rotation: the store answers with that earlier append instead of writing.
    const repeat = ok(
      await handleCommand(temp.store, app, stream, rotate('a7', 'h1'), as('rot1'), { cache }),
    );
    expect(repeat.nextRevision).to.equal(1);
    expect(await temp.store.readStream(stream)).to.have.length(3);

    const scratch = await fromScratch(temp.store, stream);
    expect(scratch.state.status === 'active' && scratch.state.secretHash).to.equal('h2');
    expect(await loadAggregate(temp.store, app, stream, cache)).to.deep.equal(scratch);
    // What the repeat answers is the stream as stored, not the earlier events applied again.
    expect(repeat.state).to.deep.equal(scratch.state);

    // And the next command is decided on h2: rotating to h2 changes nothing.
    const next = ok(
      await handleCommand(temp.store, app, stream, rotate('a7', 'h2'), as('rot3'), { cache }),
    );
    expect(next.events).to.deep.equal([]);
    expect(next.nextRevision).to.equal(2);
  });

  it('given a cache too small for the load, when a repeat is answered by an earlier append, then no state is cached at that earlier revision', async () => {
    const tiny = new StateCache(1);
    const stream = app.streamName('a10');
    const other = app.streamName('a11');
    ok(await handleCommand(temp.store, app, other, register('a11'), as('r11')));
    ok(await handleCommand(temp.store, app, stream, register('a10'), as('r'), { cache: tiny }));
    ok(
      await handleCommand(temp.store, app, stream, rotate('a10', 'h1'), as('rot1'), {
        cache: tiny,
      }),
    );
    ok(
      await handleCommand(temp.store, app, stream, rotate('a10', 'h2'), as('rot2'), {
        cache: tiny,
      }),
    );
    ok(
      await handleCommand(temp.store, app, stream, penalize('a10', 'c1'), as('p1'), {
        cache: tiny,
      }),
    );

    // A command on another stream, answered just before the repeat, takes the cache's only place.
    // The repeat of rot1 is answered with revision 1 while the state it evolved is revision 3's
    // plus a rotation to h1: only the handler's own check keeps that from being cached.
    const [, repeat] = await Promise.all([
      handleCommand(temp.store, app, other, penalize('a11', 'c9'), as('p9'), { cache: tiny }),
      handleCommand(temp.store, app, stream, rotate('a10', 'h1'), as('rot1'), { cache: tiny }),
    ]);
    expect(ok(repeat).nextRevision).to.equal(1);

    const scratch = await fromScratch(temp.store, stream);
    expect(scratch.state.status === 'active' && scratch.state.score).to.equal(95);
    expect(await loadAggregate(temp.store, app, stream, tiny)).to.deep.equal(scratch);
  });

  it('given a command delivered twice at once, when both run with the cache, then one append lands and the cache matches the stream', async () => {
    const stream = app.streamName('a8');
    ok(await handleCommand(temp.store, app, stream, register('a8'), as('r'), { cache }));
    const [first, second] = await Promise.all([
      handleCommand(temp.store, app, stream, penalize('a8', 'c1'), as('p1'), { cache }),
      handleCommand(temp.store, app, stream, penalize('a8', 'c1'), as('p1'), { cache }),
    ]);
    expect(ok(first).nextRevision).to.equal(1);
    expect(ok(second).nextRevision).to.equal(1);
    expect(await temp.store.readStream(stream)).to.have.length(2);
    const scratch = await fromScratch(temp.store, stream);
    expect(scratch.state.status === 'active' && scratch.state.score).to.equal(95);
    expect(await loadAggregate(temp.store, app, stream, cache)).to.deep.equal(scratch);
  });

  it('given a stream the cache does not hold, when it is loaded, then the state is cached and a miss is counted', async () => {
    const stream = app.streamName('a9');
    ok(await handleCommand(temp.store, app, stream, register('a9'), as('r')));
    ok(await handleCommand(temp.store, app, stream, penalize('a9', 'c1'), as('p1')));
    const loaded = await loadAggregate(temp.store, app, stream, cache);
    expect(cache.stats).to.deep.equal({ size: 1, hits: 0, misses: 1 });
    expect(loaded).to.deep.equal(await fromScratch(temp.store, stream));
    expect(cache.get<AppState>(stream)).to.deep.equal(loaded);
  });

  it('given a stream that does not exist, when it is loaded with the cache, then it reads as the initial state at revision -1', async () => {
    const stream = app.streamName('nobody');
    const loaded = await loadAggregate(temp.store, app, stream, cache);
    expect(loaded).to.deep.equal({ state: { status: 'empty' }, revision: -1 });
    // A later first write is still seen (the stream is read from revision 0 again).
    ok(await handleCommand(temp.store, app, stream, register('nobody'), as('r')));
    const after = await loadAggregate(temp.store, app, stream, cache);
    expect(after.revision).to.equal(0);
    expect(after.state.status).to.equal('active');
  });
});

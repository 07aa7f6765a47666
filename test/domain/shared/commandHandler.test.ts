import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { handleCommand, type AggregateHandle } from '../../../domain/shared/commandHandler.js';
import type { EventStore } from '../../../domain/shared/eventStore.js';
import { appDecider, appStreamName } from '../../../domain/app/appDecider.js';
import { AppEventCodec, type AppEvent } from '../../../domain/app/appEvents.js';
import type { AppCommand } from '../../../domain/app/appCommands.js';
import type { AppState } from '../../../domain/app/appDecider.js';
import { now, operator, penalize, register } from '../../support/appCommands.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const app: AggregateHandle<AppCommand, AppEvent, AppState> = {
  decider: appDecider,
  eventCodec: AppEventCodec,
};

describe('command handler', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  /** Registers app `appId` (command id `r`) and returns its stream. */
  const registeredApp = async (appId: string): Promise<string> => {
    const stream = appStreamName(appId);
    await handleCommand(temp.store, app, stream, register(appId), {
      commandId: 'r',
      actor: operator,
    });
    return stream;
  };

  it('appends decided events with deterministic ids and full metadata', async () => {
    const result = await handleCommand(temp.store, app, appStreamName('a1'), register('a1'), {
      commandId: 'cmd-1',
      actor: operator,
      correlationId: 'corr-1',
    });
    if (E.isLeft(result)) throw new Error(result.left.message);
    expect(result.right.nextRevision).to.equal(0);
    expect(result.right.events.map((e) => e.type)).to.deep.equal(['AppRegistered']);
    expect(result.right.state.status).to.equal('active');
    const [stored] = await temp.store.readStream(appStreamName('a1'));
    // eventIdFor('cmd-1', 0), pinned in eventIds.test.ts.
    expect(stored?.id).to.equal('dcbfff2e-1a2b-56bd-96e5-833c39731f4d');
    expect(stored?.metadata).to.deep.equal({
      occurredAt: now,
      actor: operator,
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      schemaVersion: 1,
    });
  });

  /** The store, counting its stream reads. */
  const countingReads = (): { store: EventStore; reads: () => number } => {
    let reads = 0;
    const store: EventStore = {
      readStream: (stream, options) => {
        reads += 1;
        return temp.store.readStream(stream, options);
      },
      appendToStream: (stream, events, options) =>
        temp.store.appendToStream(stream, events, options),
      readAll: (options) => temp.store.readAll(options),
      headPosition: () => temp.store.headPosition(),
      subscribe: (options) => temp.store.subscribe(options),
      close: () => temp.store.close(),
    };
    return { store, reads: () => reads };
  };

  it('with newStream, decides on the initial state without reading the stream', async () => {
    const counted = countingReads();
    const result = await handleCommand(counted.store, app, appStreamName('n1'), register('n1'), {
      commandId: 'n-1',
      actor: operator,
      newStream: true,
    });
    expect(E.isRight(result) && result.right.nextRevision).to.equal(0);
    expect(counted.reads()).to.equal(0);
    expect((await temp.store.readStream(appStreamName('n1'))).map((e) => e.type)).to.deep.equal([
      'AppRegistered',
    ]);
  });

  it('with newStream on a stream that exists, reads it and decides again on its state', async () => {
    const stream = await registeredApp('n2');
    const counted = countingReads();
    // The app exists: registering it again changes nothing, as without the hint.
    const again = await handleCommand(counted.store, app, stream, register('n2'), {
      commandId: 'n-2',
      actor: operator,
      newStream: true,
    });
    expect(E.isRight(again) && again.right.events).to.deep.equal([]);
    expect(E.isRight(again) && again.right.state.status).to.equal('active');
    expect(counted.reads()).to.be.greaterThan(0);
    expect(await temp.store.readStream(stream)).to.have.length(1);
  });

  it('returns a domain error and writes nothing', async () => {
    const result = await handleCommand(
      temp.store,
      app,
      appStreamName('ghost'),
      penalize('ghost', 'c1'),
      {
        commandId: 'cmd-2',
        actor: operator,
      },
    );
    expect(E.isLeft(result) && result.left.code).to.equal('not_found');
    expect(await temp.store.readStream(appStreamName('ghost'))).to.deep.equal([]);
  });

  it('writes nothing for a command that changes nothing', async () => {
    const stream = await registeredApp('a2');
    const again = await handleCommand(temp.store, app, stream, register('a2'), {
      commandId: 'r2',
      actor: operator,
    });
    expect(E.isRight(again) && again.right.events).to.deep.equal([]);
    expect(E.isRight(again) && again.right.nextRevision).to.equal(0);
    expect(await temp.store.readStream(stream)).to.have.length(1);
  });

  it('retrying the same command id appends nothing twice', async () => {
    const stream = await registeredApp('a3');
    const context = { commandId: 'p-1', actor: operator } as const;
    await handleCommand(temp.store, app, stream, penalize('a3', 'c1'), context);
    await handleCommand(temp.store, app, stream, penalize('a3', 'c1'), context);
    expect((await temp.store.readStream(stream)).map((e) => e.type)).to.deep.equal([
      'AppRegistered',
      'AppPenalized',
    ]);
  });

  it('with a pinned expected revision, a stale command fails with conflict and is not retried', async () => {
    const stream = await registeredApp('a4');
    await handleCommand(temp.store, app, stream, penalize('a4', 'c1'), {
      commandId: 'p1',
      actor: operator,
    });
    const appends = countAppends(temp.store);
    const stale = await handleCommand(temp.store, app, stream, penalize('a4', 'c2'), {
      commandId: 'p2',
      actor: operator,
      expectedRevision: 0,
    });
    expect(E.isLeft(stale) && stale.left.code).to.equal('conflict');
    expect(appends.count).to.equal(1);
    expect(await temp.store.readStream(stream)).to.have.length(2);
  });

  it('without a pinned revision, concurrent commands on one stream all land by retrying', async () => {
    const stream = await registeredApp('a5');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        handleCommand(
          temp.store,
          app,
          stream,
          penalize('a5', `c${n}`),
          { commandId: `p${n}`, actor: operator },
          { maxAttempts: 20 },
        ),
      ),
    );
    expect(results.every(E.isRight)).to.equal(true);
    const events = await temp.store.readStream(stream);
    expect(events).to.have.length(9);
    expect(events.map((e) => e.revision)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // No lost update: every penalty was decided on the state that included the ones before it.
    expect((events.at(-1)?.data as { scoreAfter: number }).scoreAfter).to.equal(100 - 8 * 5);
  });

  it('decides several commands as one: all appended together, each on the state the last left', async () => {
    const stream = await registeredApp('a7');
    const result = await handleCommand(
      temp.store,
      app,
      stream,
      [penalize('a7', 'c1'), penalize('a7', 'c2')],
      { commandId: 'both', actor: operator },
    );
    if (E.isLeft(result)) throw new Error(result.left.message);
    const events = await temp.store.readStream(stream);
    expect(events.map((e) => (e.data as { scoreAfter?: number }).scoreAfter)).to.deep.equal([
      undefined,
      95,
      90,
    ]);
    expect(temp.store.stats.commits).to.be.greaterThan(0);
    expect(result.right.nextRevision).to.equal(2);
  });

  it('stamps the events of each of several commands with that command’s own time', async () => {
    const stream = await registeredApp('a9');
    const later = new Date(Date.parse(now) + 90_000).toISOString();
    const second = penalize('a9', 'c2');
    const result = await handleCommand(
      temp.store,
      app,
      stream,
      [penalize('a9', 'c1'), { ...second, metadata: { now: later } }],
      { commandId: 'both', actor: operator },
    );
    if (E.isLeft(result)) throw new Error(result.left.message);
    const events = await temp.store.readStream(stream);
    expect(events.slice(1).map((e) => e.metadata.occurredAt)).to.deep.equal([now, later]);
  });

  it('writes nothing of several commands when one of them is refused', async () => {
    const stream = await registeredApp('a8');
    const result = await handleCommand(
      temp.store,
      app,
      stream,
      [
        penalize('a8', 'c1'),
        {
          type: 'BanApp',
          data: { appId: 'a8', reason: 'operator', complaintIds: [] },
          metadata: { now },
        },
        // Suspending a banned app is refused, so neither the penalty nor the ban may land.
        {
          type: 'SuspendApp',
          data: {
            appId: 'a8',
            until: '2026-12-24T10:00:00.000Z',
            reason: 'operator',
            complaintIds: [],
          },
          metadata: { now },
        },
      ],
      { commandId: 'three', actor: operator },
    );
    expect(E.isLeft(result) && result.left.code).to.equal('illegal_state');
    expect(await temp.store.readStream(stream)).to.have.length(1);
  });

  it('gives up with conflict after maxAttempts when the stream keeps moving', async () => {
    const stream = await registeredApp('a6');
    const appends = countAppends(temp.store, () => ({
      kind: 'wrong_expected_revision',
      stream,
      expected: 0,
      actual: 7,
    }));
    const result = await handleCommand(
      temp.store,
      app,
      stream,
      penalize('a6', 'c1'),
      { commandId: 'p', actor: operator },
      { maxAttempts: 3 },
    );
    expect(E.isLeft(result) && result.left).to.deep.include({ code: 'conflict' });
    expect(appends.count).to.equal(3);
  });
});

/** Wraps `appendToStream` to count calls, optionally answering every call with a conflict. */
const countAppends = (
  store: EventStore,
  conflict?: () => {
    kind: 'wrong_expected_revision';
    stream: string;
    expected: number;
    actual: number;
  },
): { count: number } => {
  const counter = { count: 0 };
  const original = store.appendToStream.bind(store);
  store.appendToStream = (stream, events, options) => {
    counter.count += 1;
    return conflict === undefined
      ? original(stream, events, options)
      : Promise.resolve(E.left(conflict()));
  };
  return counter;
};

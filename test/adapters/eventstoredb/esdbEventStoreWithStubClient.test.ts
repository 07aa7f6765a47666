import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  AccessDeniedError,
  BACKWARDS,
  END,
  START,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import { EsdbEventStore } from '../../../adapters/eventstoredb/esdbEventStore.js';
import type { EsdbClient } from '../../../adapters/eventstoredb/esdbEventStore.js';
import { rejectionOf } from '../../support/rejection.js';
import {
  UNKNOWN,
  bigints,
  fastRetries,
  logEntry,
  metadata,
  newEvent,
  ok,
  streamingRead,
  stub,
} from './stubClient.js';
import type { Stub } from './stubClient.js';

describe('EsdbEventStore (stub client)', () => {
  describe('appendToStream', () => {
    it('sends JSON events with the mapped expected revision and returns the result', async () => {
      const s = stub({ append: () => Promise.resolve(ok(5n, 900)) });
      const store = new EsdbEventStore(s.client);
      const outcome = await store.appendToStream('app-1', [newEvent(1)], { expectedRevision: 4 });
      expect(outcome).to.deep.equal(
        E.right({ nextRevision: 5, position: { commit: 900n, prepare: 900n } }),
      );
      expect(s.appends[0]?.options?.expectedRevision).to.equal(4n);
      expect(s.appends[0]?.events[0]).to.deep.include({
        id: newEvent(1).id,
        type: 'Thing',
        contentType: 'application/json',
        data: { n: 1 },
      });
      // The port's metadata, and the correlation and causation under EventStoreDB's own names.
      expect(s.appends[0]?.events[0]?.metadata).to.deep.equal({
        ...metadata,
        $correlationId: 'corr',
        $causationId: 'cause',
      });
    });

    it('returns a conflict as Left, with the actual revision', async () => {
      const s = stub({
        append: (stream) =>
          Promise.reject(
            new WrongExpectedVersionError(undefined, {
              streamName: stream,
              expected: 'no_stream',
              current: 2n,
            }),
          ),
      });
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(1)], {
        expectedRevision: 'no_stream',
      });
      expect(outcome).to.deep.equal(
        E.left({
          kind: 'wrong_expected_revision',
          stream: 'app-1',
          expected: 'no_stream',
          actual: 2,
        }),
      );
    });

    it('returns actual no_stream when the stream does not exist', async () => {
      const s = stub({
        append: (stream) =>
          Promise.reject(
            new WrongExpectedVersionError(undefined, {
              streamName: stream,
              expected: 3n,
              current: 'no_stream',
            }),
          ),
      });
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(1)], {
        expectedRevision: 3,
      });
      expect(E.isLeft(outcome) && outcome.left.actual).to.equal('no_stream');
    });

    it('throws other failures', async () => {
      const down = new UnavailableError();
      const s = stub({ append: () => Promise.reject(down) });
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(1)], {
          expectedRevision: 'any',
        }),
      );
      expect(error).to.equal(down);
    });

    it("returns a multi-event append's own position, the last event's, without reading back", async () => {
      // The server answers with the position of the write's last event; a read-back would go to
      // a follower that may not have the events yet (nothing is in `streams` here).
      const s = stub({ append: () => Promise.resolve(ok(1n, 150)) });
      const outcome = await new EsdbEventStore(s.client).appendToStream(
        'app-1',
        [newEvent(100), newEvent(150)],
        { expectedRevision: 'no_stream' },
      );
      expect(outcome).to.deep.equal(
        E.right({ nextRevision: 1, position: { commit: 150n, prepare: 150n } }),
      );
      expect(s.streamReads).to.have.length(0);
    });

    it('reads the position back, on the leader, only when the server sends none (a repeated write)', async () => {
      const s = stub({
        append: () => Promise.resolve(ok(0n)),
        streams: { 'app-1': [logEntry(70, 'Thing', 'app-1', 0)] },
      });
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(70)], {
        expectedRevision: 'no_stream',
      });
      expect(outcome).to.deep.equal(
        E.right({ nextRevision: 0, position: { commit: 70n, prepare: 70n } }),
      );
      expect(s.streamReads).to.have.length(1);
      expect(s.streamReads[0]?.options).to.deep.include({
        fromRevision: 0n,
        maxCount: 1,
        requiresLeader: true,
      });
    });

    it("takes the server's unknown position (2^64-1) in an append result for none", async () => {
      for (const unknown of [
        { commit: UNKNOWN, prepare: UNKNOWN },
        { commit: 70n, prepare: UNKNOWN },
      ]) {
        const s = stub({
          append: () =>
            Promise.resolve({ success: true, nextExpectedRevision: 0n, position: unknown }),
          streams: { 'app-1': [logEntry(70, 'Thing', 'app-1', 0)] },
        });
        const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(70)], {
          expectedRevision: 'any',
        });
        expect(outcome).to.deep.equal(
          E.right({ nextRevision: 0, position: { commit: 70n, prepare: 70n } }),
        );
      }
    });

    it('throws rather than return an unknown position when the read-back has none either', async () => {
      const stored = logEntry(70, 'Thing', 'app-1', 0);
      (stored.event as { position: unknown }).position = { commit: UNKNOWN, prepare: UNKNOWN };
      const s = stub({
        append: () =>
          Promise.resolve({
            success: true,
            nextExpectedRevision: 0n,
            position: { commit: UNKNOWN, prepare: UNKNOWN },
          }),
        streams: { 'app-1': [stored] },
      });
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(70)], {
          expectedRevision: 'any',
        }),
      );
      expect(error.message).to.match(/no log position/);
    });

    it('throws if the read-back event is not the one appended', async () => {
      const s = stub({
        append: () => Promise.resolve(ok(0n)),
        streams: { 'app-1': [logEntry(70, 'Thing', 'app-1', 0)] },
      });
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(71)], {
          expectedRevision: 'any',
        }),
      );
      expect(String(error)).to.match(/is not there/);
    });

    it('with throwOnAppendFailure=false, learns the actual revision from the stream', async () => {
      const s = stub({
        // The client's batch-append path reports 1n here whatever the stream holds.
        append: () => Promise.resolve({ success: false, nextExpectedRevision: 1n }),
        streams: { 'app-1': [0, 1, 2, 3].map((r) => logEntry(10 + r, 'Thing', 'app-1', r)) },
      });
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [newEvent(9)], {
        expectedRevision: 0,
      });
      expect(outcome).to.deep.equal(
        E.left({ kind: 'wrong_expected_revision', stream: 'app-1', expected: 0, actual: 3 }),
      );
      expect(s.streamReads.at(-1)?.options).to.deep.include({
        fromRevision: END,
        direction: BACKWARDS,
      });
    });

    it('refuses an empty append without calling the server', async () => {
      const s = stub({});
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [], { expectedRevision: 'any' }),
      );
      expect(String(error)).to.match(/at least one event/);
      expect(s.appends).to.have.length(0);
    });
  });

  describe('readStream', () => {
    const entries = [0, 1, 2, 3].map((r) => logEntry(10 + r, 'Thing', 'inbox-1', r));

    it('reads an absent stream as empty', async () => {
      expect(await new EsdbEventStore(stub({}).client).readStream('nope')).to.deep.equal([]);
    });

    it('reads from the start by default and from a revision when asked', async () => {
      const s = stub({ streams: { 'inbox-1': entries } });
      const store = new EsdbEventStore(s.client);
      expect((await store.readStream('inbox-1')).map((e) => e.revision)).to.deep.equal([
        0, 1, 2, 3,
      ]);
      expect(s.streamReads[0]?.options?.fromRevision).to.equal(START);
      const window = await store.readStream('inbox-1', { fromRevision: 1, maxCount: 2 });
      expect(window.map((e) => e.revision)).to.deep.equal([1, 2]);
      expect(s.streamReads[1]?.options).to.deep.include({ fromRevision: 1n, maxCount: 2 });
    });

    it('reads nothing for maxCount 0, without asking the server', async () => {
      const s = stub({ streams: { 'inbox-1': entries } });
      expect(
        await new EsdbEventStore(s.client).readStream('inbox-1', { maxCount: 0 }),
      ).to.deep.equal([]);
      expect(s.streamReads).to.have.length(0);
    });

    it('throws other read failures', async () => {
      const s = stub({});
      const broken = {
        ...s.client,
        readStream: () => streamingRead([], new UnavailableError()),
      } as EsdbClient;
      const error = await rejectionOf(new EsdbEventStore(broken).readStream('inbox-1'));
      expect(error).to.be.instanceOf(UnavailableError);
    });
  });

  describe('readAll', () => {
    // 60 entries at positions 1..60: every third one a system event, types A and B otherwise.
    const log = Array.from({ length: 60 }, (_, i) => {
      const at = i + 1;
      return logEntry(at, at % 3 === 0 ? '$statsCollected' : at % 2 === 0 ? 'B' : 'A');
    });
    const at = (e: RecordedEvent): number => Number(e.position.commit);

    it('reads from the start, leaving out system events', async () => {
      const read = await new EsdbEventStore(stub({ log }).client).readAll({ maxCount: 5 });
      expect(read.map(at)).to.deep.equal([1, 2, 4, 5, 7]);
    });

    it('reads strictly after the given position (the server starts at it, inclusive)', async () => {
      const s = stub({ log });
      const read = await new EsdbEventStore(s.client).readAll({
        after: { commit: 4n, prepare: 4n },
        maxCount: 3,
      });
      expect(read.map(at)).to.deep.equal([5, 7, 8]);
      expect(s.allReads[0]?.fromPosition).to.deep.equal({ commit: 4n, prepare: 4n });
    });

    it('keeps paging until maxCount wanted events are found, with no repeats', async () => {
      const s = stub({ log });
      const read = await new EsdbEventStore(s.client).readAll({ maxCount: 12, eventTypes: ['A'] });
      // A = odd positions that are not multiples of 3.
      expect(read.map(at)).to.deep.equal([1, 5, 7, 11, 13, 17, 19, 23, 25, 29, 31, 35]);
      expect(s.allReads.length).to.be.greaterThan(1);
      expect(s.allReads[1]?.fromPosition).to.not.equal(START);
    });

    it('stops at the end of the log', async () => {
      const read = await new EsdbEventStore(stub({ log }).client).readAll({
        after: { commit: 55n, prepare: 55n },
        maxCount: 100,
      });
      expect(read.map(at)).to.deep.equal([56, 58, 59]);
    });

    it('finds nothing for a type that is not there, after reading the whole log once', async () => {
      const s = stub({ log });
      expect(
        await new EsdbEventStore(s.client).readAll({ maxCount: 10, eventTypes: ['C'] }),
      ).to.deep.equal([]);
      const firstPositions = s.allReads.map((r) => r.fromPosition);
      expect(new Set(firstPositions.map((p) => JSON.stringify(p, bigints))).size).to.equal(
        firstPositions.length,
      );
    });
  });

  describe('subscribe', () => {
    const feed = (s: Stub, ...entries: AllStreamResolvedEvent[]): void => {
      const source = s.subscriptions.at(-1)?.source;
      for (const entry of entries) source?.write(entry);
    };

    it('subscribes from the position with a server-side type filter', () => {
      const s = stub({});
      const store = new EsdbEventStore(s.client);
      store.subscribe({ after: { commit: 5n, prepare: 4n }, eventTypes: ['a.b', 'C'] });
      store.subscribe({});
      const [filtered, all] = s.subscriptions;
      expect(filtered?.options?.fromPosition).to.deep.equal({ commit: 5n, prepare: 4n });
      expect(filtered?.options?.filter).to.deep.include({
        filterOn: 'eventType',
        regex: '^(?:a\\.b|C)$',
      });
      expect(all?.options?.fromPosition).to.equal(START);
      expect(all?.options?.filter).to.deep.include({ filterOn: 'eventType', regex: '^[^$].*' });
    });

    it('yields batches, dropping the start event, system events and unwanted types', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({
        after: { commit: 2n, prepare: 2n },
        eventTypes: ['A'],
        maxBatchSize: 2,
      });
      const iterator = subscription[Symbol.asyncIterator]();
      feed(
        s,
        logEntry(2, 'A'),
        logEntry(3, 'A'),
        logEntry(4, '$>'),
        logEntry(5, 'B'),
        logEntry(6, 'A'),
        logEntry(7, 'A'),
      );
      const first = await iterator.next();
      const second = await iterator.next();
      expect(
        first.done === false && first.value.map((e) => Number(e.position.commit)),
      ).to.deep.equal([3, 6]);
      expect(
        second.done === false && second.value.map((e) => Number(e.position.commit)),
      ).to.deep.equal([7]);
      await subscription.close();
    });

    it('close() ends the iteration and cancels the server call', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({});
      const iteration = (async () => {
        let batches = 0;
        for await (const _ of subscription) batches += 1;
        return batches;
      })();
      await new Promise((resolve) => setImmediate(resolve));
      await subscription.close();
      expect(await iteration).to.equal(0);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
    });

    it('leaving the loop early cancels the server call', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({});
      feed(s, logEntry(1, 'A'));
      for await (const _ of subscription) break;
      await new Promise((resolve) => setImmediate(resolve));
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
    });

    it('passes a failure that is not transient (access denied) to the consumer at once', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, fastRetries).subscribe({});
      const denied = new AccessDeniedError();
      const iteration = (async () => {
        for await (const _ of subscription) {
          // nothing
        }
      })();
      s.subscriptions[0]?.source.destroy(denied);
      expect(await rejectionOf(iteration)).to.equal(denied);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
      expect(s.subscriptions).to.have.length(1);
    });

    it('fails rather than skipping an event it cannot represent', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({});
      const foreign = logEntry(1, 'Foreign');
      (foreign.event as { metadata: unknown }).metadata = undefined;
      feed(s, foreign);
      const error = await rejectionOf(subscription[Symbol.asyncIterator]().next());
      expect(String(error)).to.match(/Tidings event metadata/);
    });

    it('pauses the server stream when the consumer falls behind, and resumes it', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({ maxBatchSize: 1_000 });
      const source = s.subscriptions[0]!.source;
      feed(s, ...Array.from({ length: 5_000 }, (_, i) => logEntry(i + 1, 'A')));
      await new Promise((resolve) => setImmediate(resolve));
      expect(source.isPaused()).to.equal(true);
      const iterator = subscription[Symbol.asyncIterator]();
      let received = 0;
      while (received < 5_000) {
        const next = await iterator.next();
        if (next.done === true) break;
        received += next.value.length;
      }
      expect(received).to.equal(5_000);
      expect(source.isPaused()).to.equal(false);
      await subscription.close();
    });
  });

  describe('close', () => {
    it('ends open subscriptions, disposes the client, and refuses later calls', async () => {
      const s = stub({});
      const store = new EsdbEventStore(s.client);
      store.subscribe({});
      await store.close();
      await store.close();
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
      expect(s.disposed).to.equal(1);
      expect(String(await rejectionOf(store.readStream('x')))).to.match(/closed/);
    });
  });
});

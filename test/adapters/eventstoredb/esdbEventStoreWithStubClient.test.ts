import { expect } from 'chai';
import { PassThrough, Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import {
  BACKWARDS,
  END,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AppendResult as ClientAppendResult,
  AppendToStreamOptions,
  EventData,
  ReadAllOptions as ClientReadAllOptions,
  ReadStreamOptions as ClientReadStreamOptions,
  SubscribeToAllOptions,
} from '@eventstore/db-client';
import type { EventMetadata, NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import { comparePositions } from '../../../domain/shared/eventStore.js';
import { EsdbEventStore } from '../../../adapters/eventstoredb/esdbEventStore.js';
import type { EsdbClient } from '../../../adapters/eventstoredb/esdbEventStore.js';
import { rejectionOf } from '../../support/rejection.js';

// These tests drive the adapter's own logic (paging, skipping, conflict handling, subscription
// plumbing) against a stand-in that behaves like the v6 client as read in its dist/ sources:
// reads are object-mode Readables with `cancel()`, an absent stream errors during iteration,
// `$all` reads start at their position inclusively, subscriptions are Readables with
// `unsubscribe()`. Whether the real server behaves so is the contract suite's job.

const metadata: EventMetadata = {
  occurredAt: '2026-11-24T10:00:00.000Z',
  actor: { kind: 'system', id: 'test' },
  correlationId: 'corr',
  causationId: 'cause',
  schemaVersion: 1,
};

const newEvent = (n: number, type = 'Thing'): NewEvent => ({
  id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
  type,
  data: { n },
  metadata,
});

/** A `$all` entry at commit = prepare = `at`. */
const logEntry = (
  at: number,
  type: string,
  stream = 's',
  revision = 0,
): AllStreamResolvedEvent => ({
  event: {
    streamId: stream,
    id: `00000000-0000-4000-8000-${at.toString().padStart(12, '0')}`,
    revision: BigInt(revision),
    type,
    data: { at },
    // System events carry metadata that is not Tidings metadata.
    metadata: type.startsWith('$') ? { $v: '1' } : { ...metadata },
    isJson: true,
    created: new Date(0),
    position: { commit: BigInt(at), prepare: BigInt(at) },
  },
});

const streamingRead = (
  items: readonly unknown[],
  failWith?: Error,
): Readable & { cancel(): Promise<void> } => {
  const readable = failWith
    ? new Readable({
        objectMode: true,
        read() {
          this.destroy(failWith);
        },
      })
    : Readable.from(items);
  return Object.assign(readable, { cancel: () => Promise.resolve() });
};

interface Stub {
  readonly client: EsdbClient;
  readonly appends: Array<{
    stream: string;
    events: EventData[];
    options: AppendToStreamOptions | undefined;
  }>;
  readonly streamReads: Array<{ stream: string; options: ClientReadStreamOptions | undefined }>;
  readonly allReads: ClientReadAllOptions[];
  readonly subscriptions: Array<{
    options: SubscribeToAllOptions | undefined;
    source: PassThrough;
    unsubscribed: number;
  }>;
  disposed: number;
}

const stub = (behaviour: {
  append?: (stream: string, events: EventData[]) => Promise<ClientAppendResult>;
  streams?: Record<string, readonly AllStreamResolvedEvent[]>;
  log?: readonly AllStreamResolvedEvent[];
}): Stub => {
  const state: Stub = {
    appends: [],
    streamReads: [],
    allReads: [],
    subscriptions: [],
    disposed: 0,
    client: undefined as unknown as EsdbClient,
  };
  const client = {
    appendToStream: (
      stream: string,
      events: EventData | EventData[],
      options?: AppendToStreamOptions,
    ) => {
      const list = Array.isArray(events) ? events : [events];
      state.appends.push({ stream, events: list, options });
      return behaviour.append?.(stream, list) ?? Promise.reject(new Error('no append behaviour'));
    },
    readStream: (stream: string, options?: ClientReadStreamOptions) => {
      state.streamReads.push({ stream, options });
      const events = behaviour.streams?.[stream];
      if (events === undefined)
        return streamingRead([], new StreamNotFoundError(undefined, stream));
      let selected = [...events];
      const from = options?.fromRevision ?? START;
      if (options?.direction === BACKWARDS) {
        selected.reverse();
        if (typeof from === 'bigint')
          selected = selected.filter((e) => (e.event?.revision ?? 0n) <= from);
      } else if (typeof from === 'bigint') {
        selected = selected.filter((e) => (e.event?.revision ?? 0n) >= from);
      }
      return streamingRead(selected.slice(0, Number(options?.maxCount ?? Number.MAX_SAFE_INTEGER)));
    },
    readAll: (options: ClientReadAllOptions = {}) => {
      state.allReads.push(options);
      const from = options.fromPosition ?? START;
      const log = behaviour.log ?? [];
      const start =
        from === START
          ? 0
          : from === END
            ? log.length
            : log.findIndex((e) => comparePositions(e.event!.position, from) >= 0);
      const page =
        start < 0 ? [] : log.slice(start, start + Number(options.maxCount ?? log.length));
      return streamingRead(page);
    },
    subscribeToAll: (options?: SubscribeToAllOptions) => {
      const record = { options, source: new PassThrough({ objectMode: true }), unsubscribed: 0 };
      state.subscriptions.push(record);
      return Object.assign(record.source, {
        unsubscribe: () => {
          record.unsubscribed += 1;
          return Promise.resolve();
        },
      });
    },
    dispose: () => {
      state.disposed += 1;
      return Promise.resolve();
    },
  };
  return Object.assign(state, { client: client });
};

const ok = (nextExpectedRevision: bigint, at?: number): ClientAppendResult => ({
  success: true,
  nextExpectedRevision,
  ...(at === undefined ? {} : { position: { commit: BigInt(at), prepare: BigInt(at) } }),
});

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
      expect(s.appends[0]?.events[0]?.metadata).to.deep.equal(metadata);
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

    it('reads back the last event of a multi-event append for its position', async () => {
      const s = stub({
        append: () => Promise.resolve(ok(1n, 100)),
        // Stored ids follow the positions, so these are the two events appended below.
        streams: {
          'app-1': [logEntry(100, 'Thing', 'app-1', 0), logEntry(150, 'Thing', 'app-1', 1)],
        },
      });
      const events = [newEvent(100), newEvent(150)];
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', events, {
        expectedRevision: 'no_stream',
      });
      expect(outcome).to.deep.equal(
        E.right({ nextRevision: 1, position: { commit: 150n, prepare: 150n } }),
      );
      expect(s.streamReads.at(-1)?.options).to.deep.include({ fromRevision: 1n, maxCount: 1 });
    });

    it('reads back the position when the server sends none (a repeated write)', async () => {
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

    it('passes a stream error to the consumer', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({});
      const down = new UnavailableError();
      const iteration = (async () => {
        for await (const _ of subscription) {
          // nothing
        }
      })();
      s.subscriptions[0]?.source.destroy(down);
      expect(await rejectionOf(iteration)).to.equal(down);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
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

const bigints = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? value.toString() : value;

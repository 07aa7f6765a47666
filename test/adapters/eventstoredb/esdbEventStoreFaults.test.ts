import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  AccessDeniedError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  UnavailableError,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import { AppendTooLarge, isAppendTooLarge } from '../../../adapters/eventstoredb/appendTooLarge.js';
import { EsdbEventStore } from '../../../adapters/eventstoredb/esdbEventStore.js';
import { appendSize, toEventData } from '../../../adapters/eventstoredb/mapping.js';
import { rejectionOf } from '../../support/rejection.js';
import { waitUntil } from '../../support/waitUntil.js';
import {
  UNKNOWN,
  commits,
  consumerTooSlow,
  fastRetries,
  logEntry,
  metadata,
  newEvent,
  notLeader,
  ok,
  stub,
} from './stubClient.js';
import type { Stub } from './stubClient.js';

// The adapter's handling of what goes wrong between it and the server: transient subscription
// failures, positions the server does not know, reads that stop early, system streams, ids and
// sizes the server would refuse. Each case is driven through the stub client (stubClient.ts).

/** An entry whose position the server does not know (it sends 2^64-1). */
const unknownAt = (entry: AllStreamResolvedEvent): AllStreamResolvedEvent => {
  (entry.event as { position: unknown }).position = { commit: UNKNOWN, prepare: UNKNOWN };
  return entry;
};

/** An entry that does not carry Tidings metadata, so decoding it throws. */
const foreign = (entry: AllStreamResolvedEvent): AllStreamResolvedEvent => {
  (entry.event as { metadata: unknown }).metadata = undefined;
  return entry;
};

const feed = (s: Stub, ...entries: AllStreamResolvedEvent[]): void => {
  const source = s.subscriptions.at(-1)?.source;
  for (const entry of entries) source?.write(entry);
};

const subscriptionCount = (s: Stub, count: number): Promise<number> =>
  waitUntil(
    () => s.subscriptions.length,
    (n) => n >= count,
    `${count} subscriptions`,
    2_000,
    2,
  );

const at = (e: RecordedEvent): number => Number(e.position.commit);

describe('EsdbEventStore faults (stub client)', () => {
  describe('subscriptions resubscribe after transient failures', () => {
    const transient: ReadonlyArray<[string, () => Error]> = [
      ['Unavailable', () => new UnavailableError()],
      ['DeadlineExceeded', () => new DeadlineExceededError()],
      ['NotLeader (a leader change)', notLeader],
      ['the "consumer too slow" drop (22.x, 23.x)', consumerTooSlow],
    ];
    for (const [name, failure] of transient) {
      it(`after ${name}: from the last event queued, with no repeat and no error`, async () => {
        const s = stub({});
        const subscription = new EsdbEventStore(s.client, fastRetries).subscribe({
          after: { commit: 1n, prepare: 1n },
          eventTypes: ['A'],
        });
        const iterator = subscription[Symbol.asyncIterator]();
        feed(s, logEntry(2, 'A'), logEntry(3, 'A'), logEntry(4, 'B'));
        expect(commits(await iterator.next())).to.deep.equal([2, 3]);

        s.subscriptions[0]?.source.destroy(failure());
        await subscriptionCount(s, 2);
        expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
        const again = s.subscriptions[1]?.options;
        expect(again?.fromPosition).to.deep.equal({ commit: 3n, prepare: 3n });
        expect(again?.filter).to.deep.include({ filterOn: 'eventType', regex: '^(?:A)$' });

        // Even if the new call repeated the start event, the consumer must not see it twice.
        feed(s, logEntry(3, 'A'), logEntry(5, 'A'));
        expect(commits(await iterator.next())).to.deep.equal([5]);
        await subscription.close();
        expect(s.subscriptions[1]?.unsubscribed).to.equal(1);
        expect(s.subscriptions).to.have.length(2);
      });
    }

    it('keeps the new call paused while the consumer is still behind', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, fastRetries).subscribe({
        maxBatchSize: 1_000,
      });
      const first = s.subscriptions[0]!.source;
      feed(s, ...Array.from({ length: 5_000 }, (_, i) => logEntry(i + 1, 'A')));
      await new Promise((resolve) => setImmediate(resolve));
      expect(first.isPaused()).to.equal(true);

      // What a 22.x server does to a paused subscription once its live buffer overflows.
      first.destroy(consumerTooSlow());
      await subscriptionCount(s, 2);
      const second = s.subscriptions[1]!.source;
      expect(second.isPaused()).to.equal(true);
      const from = s.subscriptions[1]?.options?.fromPosition;
      const resumeAfter = typeof from === 'object' ? Number(from.commit) : 0;
      expect(resumeAfter).to.be.greaterThan(0);
      // The new call starts after the last event queued; the server sends the rest from there.
      feed(
        s,
        ...Array.from({ length: 5_000 - resumeAfter }, (_, i) =>
          logEntry(resumeAfter + i + 1, 'A'),
        ),
      );

      const iterator = subscription[Symbol.asyncIterator]();
      const received: number[] = [];
      while (received.length < 5_000) {
        const next = await iterator.next();
        if (next.done === true) break;
        received.push(...next.value.map(at));
      }
      expect(received).to.deep.equal(Array.from({ length: 5_000 }, (_, i) => i + 1));
      expect(second.isPaused()).to.equal(false);
      await subscription.close();
    });

    it('passes the error on after maxAttempts failures in a row with no event between them', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, {
        resubscribe: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      }).subscribe({});
      const iteration = (async () => {
        for await (const _ of subscription) {
          // nothing
        }
      })();
      const last = new UnavailableError();
      for (let i = 0; i < 3; i += 1) {
        await subscriptionCount(s, i + 1);
        s.subscriptions[i]?.source.destroy(i === 2 ? last : new UnavailableError());
      }
      expect(await rejectionOf(iteration)).to.equal(last);
      expect(s.subscriptions).to.have.length(3);
    });

    it('counts only failures in a row: an event received in between resets the count', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, {
        resubscribe: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }).subscribe({});
      const iterator = subscription[Symbol.asyncIterator]();
      s.subscriptions[0]?.source.destroy(new UnavailableError());
      await subscriptionCount(s, 2);
      feed(s, logEntry(1, 'A'));
      expect(commits(await iterator.next())).to.deep.equal([1]);
      s.subscriptions[1]?.source.destroy(new UnavailableError());
      await subscriptionCount(s, 3);
      // The third failure in all, but the second in a row since the event: now it is passed on.
      const down = new UnavailableError();
      s.subscriptions[2]?.source.destroy(down);
      expect(await rejectionOf(iterator.next())).to.equal(down);
    });

    it('close() while waiting to resubscribe ends the iteration and opens no new call', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, {
        resubscribe: { baseDelayMs: 30, maxDelayMs: 30 },
      }).subscribe({});
      const iteration = (async () => {
        let batches = 0;
        for await (const _ of subscription) batches += 1;
        return batches;
      })();
      s.subscriptions[0]?.source.destroy(new UnavailableError());
      await new Promise((resolve) => setImmediate(resolve));
      await subscription.close();
      expect(await iteration).to.equal(0);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(s.subscriptions).to.have.length(1);
    });

    it('passes access denied on at once, without resubscribing', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client, fastRetries).subscribe({});
      const denied = new AccessDeniedError();
      s.subscriptions[0]?.source.destroy(denied);
      expect(await rejectionOf(subscription[Symbol.asyncIterator]().next())).to.equal(denied);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(s.subscriptions).to.have.length(1);
    });
  });

  describe('positions the server does not know (2^64-1) are not taken as positions', () => {
    it('headPosition passes over them to the last event with a known position', async () => {
      const s = stub({ log: [logEntry(5, 'A'), unknownAt(logEntry(6, 'A'))] });
      expect(await new EsdbEventStore(s.client).headPosition()).to.deep.equal({
        commit: 5n,
        prepare: 5n,
      });
    });

    it('headPosition is undefined when no event has a known position', async () => {
      const s = stub({ log: [unknownAt(logEntry(6, 'A'))] });
      expect(await new EsdbEventStore(s.client).headPosition()).to.equal(undefined);
    });

    it('a stream read refuses an event without a known position instead of passing 2^64-1 on', async () => {
      const s = stub({ streams: { 'inbox-1': [unknownAt(logEntry(6, 'A', 'inbox-1'))] } });
      const error = await rejectionOf(new EsdbEventStore(s.client).readStream('inbox-1'));
      expect(error.message).to.match(/known log position/);
    });

    it('readAll refuses one rather than paging from it', async () => {
      const s = stub({ log: [logEntry(1, 'A'), unknownAt(logEntry(2, 'A'))] });
      const error = await rejectionOf(new EsdbEventStore(s.client).readAll({ maxCount: 10 }));
      expect(error.message).to.match(/known position/);
    });

    it('a subscription fails on one rather than queue it', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({});
      feed(s, unknownAt(logEntry(1, 'A')));
      const error = await rejectionOf(subscription[Symbol.asyncIterator]().next());
      expect(error.message).to.match(/known log position/);
    });
  });

  describe('reads that stop early cancel their gRPC call', () => {
    it('readStream, when decoding an event fails part-way', async () => {
      const s = stub({
        streams: {
          'inbox-1': [
            logEntry(1, 'A', 'inbox-1', 0),
            foreign(logEntry(2, 'A', 'inbox-1', 1)),
            logEntry(3, 'A', 'inbox-1', 2),
          ],
        },
      });
      const error = await rejectionOf(new EsdbEventStore(s.client).readStream('inbox-1'));
      expect(error.message).to.match(/Tidings event metadata/);
      expect(s.cancels).to.deep.equal(['stream:inbox-1']);
    });

    it('readStream that runs to its end leaves the finished call alone', async () => {
      const s = stub({ streams: { 'inbox-1': [logEntry(1, 'A', 'inbox-1', 0)] } });
      expect(await new EsdbEventStore(s.client).readStream('inbox-1')).to.have.length(1);
      expect(s.cancels).to.deep.equal([]);
    });

    it('readAll, when decoding an event fails', async () => {
      const s = stub({ log: [logEntry(1, 'A'), foreign(logEntry(2, 'A')), logEntry(3, 'A')] });
      await rejectionOf(new EsdbEventStore(s.client).readAll({ maxCount: 10 }));
      expect(s.cancels).to.deep.equal(['$all']);
    });

    it('readAll, when it has found maxCount events in the middle of a page', async () => {
      const s = stub({ log: Array.from({ length: 40 }, (_, i) => logEntry(i + 1, 'A')) });
      const read = await new EsdbEventStore(s.client).readAll({ maxCount: 3 });
      expect(read.map(at)).to.deep.equal([1, 2, 3]);
      expect(s.cancels).to.deep.equal(['$all']);
    });

    it('headPosition, once it has found the last event', async () => {
      const s = stub({ log: [logEntry(1, 'A'), logEntry(2, 'A'), logEntry(3, '$statsCollected')] });
      expect(await new EsdbEventStore(s.client).headPosition()).to.deep.equal({
        commit: 2n,
        prepare: 2n,
      });
      expect(s.cancels).to.deep.equal(['$all']);
    });
  });

  describe('events of $ streams with ordinary types are not part of the log', () => {
    // A projection's output or a tool's events: ordinary types, no Tidings metadata.
    const log = [
      logEntry(1, 'A'),
      logEntry(2, 'A', '$projections-x-result'),
      logEntry(3, 'A'),
      logEntry(4, 'A', '$persistentsubscription-delivery::$all-parked'),
    ];

    it('readAll leaves them out instead of failing to decode them', async () => {
      const read = await new EsdbEventStore(stub({ log }).client).readAll({
        maxCount: 10,
        eventTypes: ['A'],
      });
      expect(read.map(at)).to.deep.equal([1, 3]);
    });

    it('headPosition passes over them', async () => {
      expect(await new EsdbEventStore(stub({ log }).client).headPosition()).to.deep.equal({
        commit: 3n,
        prepare: 3n,
      });
    });

    it('a subscription drops them', async () => {
      const s = stub({});
      const subscription = new EsdbEventStore(s.client).subscribe({ eventTypes: ['A'] });
      feed(s, ...log);
      expect(commits(await subscription[Symbol.asyncIterator]().next())).to.deep.equal([1, 3]);
      await subscription.close();
    });
  });

  describe('event ids', () => {
    const upper: NewEvent = { ...newEvent(1), id: 'ABCDEF01-2345-4678-89AB-CDEF01234567' };
    const lower = 'abcdef01-2345-4678-89ab-cdef01234567';

    it('are sent in lower case, and a read-back compares them so', async () => {
      const stored = logEntry(70, 'Thing', 'app-1', 0);
      (stored.event as { id: string }).id = lower;
      const s = stub({ append: () => Promise.resolve(ok(0n)), streams: { 'app-1': [stored] } });
      const outcome = await new EsdbEventStore(s.client).appendToStream('app-1', [upper], {
        expectedRevision: 'any',
      });
      expect(s.appends[0]?.events[0]?.id).to.equal(lower);
      expect(outcome).to.deep.equal(
        E.right({ nextRevision: 0, position: { commit: 70n, prepare: 70n } }),
      );
    });

    it('that are not UUIDs are refused without calling the server', async () => {
      const s = stub({ append: () => Promise.resolve(ok(0n, 1)) });
      const store = new EsdbEventStore(s.client);
      for (const id of [
        'msg-1',
        '{abcdef01-2345-4678-89ab-cdef01234567}',
        'abcdef0123454678-89ab-cdef01234567',
        '00000000-0000-0000-0000-000000000000',
      ]) {
        const error = await rejectionOf(
          store.appendToStream('app-1', [{ ...newEvent(1), id }], { expectedRevision: 'any' }),
        );
        expect(error, id).to.be.instanceOf(RangeError);
      }
      expect(s.appends).to.have.length(0);
    });
  });

  describe('append size', () => {
    const sized = (chars: number): NewEvent => ({
      ...newEvent(1),
      data: { text: 'x'.repeat(chars) },
    });

    it('an append over 1 MiB (the server default) is refused before sending, as AppendTooLarge', async () => {
      const s = stub({ append: () => Promise.resolve(ok(0n, 1)) });
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [sized(1_048_576)], {
          expectedRevision: 'any',
        }),
      );
      expect(error).to.be.instanceOf(AppendTooLarge);
      if (!isAppendTooLarge(error)) return expect.fail('expected AppendTooLarge');
      expect(error).to.deep.include({
        code: 'append_too_large',
        stream: 'app-1',
        limit: 1_048_576,
      });
      expect(error.size).to.be.greaterThan(1_048_576);
      expect(s.appends).to.have.length(0);
    });

    it('an append of exactly the limit is sent; one byte more is not', async () => {
      const events = [sized(500), sized(300)];
      const size = appendSize(events.map(toEventData));
      const s = stub({ append: () => Promise.resolve(ok(1n, 9)) });
      const atLimit = await new EsdbEventStore(s.client, { maxAppendSize: size }).appendToStream(
        'app-1',
        events,
        { expectedRevision: 'any' },
      );
      expect(E.isRight(atLimit)).to.equal(true);
      const error = await rejectionOf(
        new EsdbEventStore(s.client, { maxAppendSize: size - 1 }).appendToStream('app-1', events, {
          expectedRevision: 'any',
        }),
      );
      expect(error).to.deep.include({ size, limit: size - 1 });
      expect(s.appends).to.have.length(1);
    });

    it("maps the server's own max-append-size error to AppendTooLarge, with the server's limit", async () => {
      const refused = MaxAppendSizeExceededError.fromMaxAppendSize(524_288);
      const s = stub({ append: () => Promise.reject(refused) });
      const error = await rejectionOf(
        new EsdbEventStore(s.client).appendToStream('app-1', [sized(600_000)], {
          expectedRevision: 'any',
        }),
      );
      expect(error).to.be.instanceOf(AppendTooLarge);
      expect(error).to.deep.include({ stream: 'app-1', limit: 524_288 });
      expect(error.cause).to.equal(refused);
    });
  });

  describe("EventStoreDB's correlation metadata", () => {
    it('is written as $correlationId and $causationId and left out again on reading', async () => {
      const s = stub({ append: () => Promise.resolve(ok(0n, 1)) });
      const store = new EsdbEventStore(s.client);
      await store.appendToStream('app-1', [newEvent(1)], { expectedRevision: 'no_stream' });
      const written = s.appends[0]?.events[0]?.metadata as Record<string, unknown>;
      expect(written).to.deep.include({ $correlationId: 'corr', $causationId: 'cause' });

      // Read back what was written, as the server would return it.
      const stored = logEntry(1, 'Thing', 'app-1', 0);
      (stored.event as { metadata: unknown }).metadata = JSON.parse(JSON.stringify(written));
      const reader = new EsdbEventStore(stub({ streams: { 'app-1': [stored] } }).client);
      const [read] = await reader.readStream('app-1');
      expect(read?.metadata).to.deep.equal(metadata);
    });
  });
});

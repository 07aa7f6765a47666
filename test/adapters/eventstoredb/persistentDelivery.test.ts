import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import {
  AccessDeniedError,
  END,
  START,
  PersistentSubscriptionDoesNotExistError,
  PersistentSubscriptionDroppedError,
  PersistentSubscriptionExistsError,
  UnavailableError,
  UnsupportedError,
  persistentSubscriptionToAllSettingsFromDefaults,
} from '@eventstore/db-client';
import type {
  CreatePersistentSubscriptionToAllOptions,
  PersistentAction,
  PersistentSubscriptionToAllResolvedEvent,
  PersistentSubscriptionToAllSettings,
  SubscribeToPersistentSubscriptionToAllOptions,
} from '@eventstore/db-client';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import {
  PersistentDeliveryConsumer,
  deliveryGroupSettings,
  ensureDeliveryGroup,
} from '../../../adapters/eventstoredb/persistentDelivery.js';
import type {
  DeliveryHandler,
  DeliveryOutcome,
  PersistentDeliveryClient,
  PersistentDeliveryOptions,
} from '../../../adapters/eventstoredb/persistentDelivery.js';
import { rejectionOf } from '../../support/rejection.js';
import { waitUntil } from '../../support/waitUntil.js';
import { logEntry, metadata, serviceError } from './stubClient.js';

// A stand-in for the client's persistent-subscription calls, as read in its dist/ sources:
// creating an existing group fails with PersistentSubscriptionExistsError (gRPC ALREADY_EXISTS
// with the `persistent-subscription-exists` exception), a subscription is an object-mode Readable
// of resolved events carrying `retryCount`, with `ack`, `nack(action, reason, …events)` and
// `unsubscribe()`; failures arrive as 'error' events with the client's typed errors.

interface Answer {
  readonly kind: 'ack' | PersistentAction;
  readonly id: string | undefined;
  readonly reason?: string;
}

interface GroupStub {
  readonly client: PersistentDeliveryClient;
  readonly groups: Map<string, PersistentSubscriptionToAllSettings>;
  readonly created: Array<{
    group: string;
    settings: PersistentSubscriptionToAllSettings;
    options: CreatePersistentSubscriptionToAllOptions | undefined;
  }>;
  readonly updated: Array<{ group: string; settings: PersistentSubscriptionToAllSettings }>;
  readonly subscriptions: Array<{
    group: string;
    options: SubscribeToPersistentSubscriptionToAllOptions | undefined;
    source: PassThrough;
    answers: Answer[];
    unsubscribed: number;
  }>;
}

const existsError = (group: string): PersistentSubscriptionExistsError =>
  new PersistentSubscriptionExistsError(
    serviceError(6, `ALREADY_EXISTS: Subscription group ${group} on stream $all exists.`, {
      exception: 'persistent-subscription-exists',
      'stream-name': '$all',
      'group-name': group,
    }),
  );

const missingError = (group: string): PersistentSubscriptionDoesNotExistError =>
  new PersistentSubscriptionDoesNotExistError(
    serviceError(5, `NOT_FOUND: Subscription group ${group} on stream $all does not exist.`, {
      exception: 'persistent-subscription-does-not-exist',
      'stream-name': '$all',
      'group-name': group,
    }),
  );

const droppedError = (group: string): PersistentSubscriptionDroppedError =>
  new PersistentSubscriptionDroppedError(
    serviceError(1, `CANCELLED: Subscription group ${group} on stream $all was dropped.`, {
      exception: 'persistent-subscription-dropped',
      'stream-name': '$all',
      'group-name': group,
    }),
  );

const groupStub = (
  behaviour: {
    create?: () => Promise<void>;
    info?: () => Promise<void>;
  } = {},
): GroupStub => {
  const state: GroupStub = {
    client: undefined as unknown as PersistentDeliveryClient,
    groups: new Map(),
    created: [],
    updated: [],
    subscriptions: [],
  };
  const client = {
    createPersistentSubscriptionToAll: async (
      group: string,
      settings: PersistentSubscriptionToAllSettings,
      options?: CreatePersistentSubscriptionToAllOptions,
    ) => {
      state.created.push({ group, settings, options });
      await behaviour.create?.();
      if (state.groups.has(group)) throw existsError(group);
      state.groups.set(group, settings);
    },
    getPersistentSubscriptionToAllInfo: async (group: string) => {
      await behaviour.info?.();
      const settings = state.groups.get(group);
      if (settings === undefined) throw missingError(group);
      return { eventSource: '$all', groupName: group, status: 'Live', settings };
    },
    updatePersistentSubscriptionToAll: (
      group: string,
      settings: PersistentSubscriptionToAllSettings,
    ) => {
      state.updated.push({ group, settings });
      state.groups.set(group, settings);
      return Promise.resolve();
    },
    subscribeToPersistentSubscriptionToAll: (
      group: string,
      options?: SubscribeToPersistentSubscriptionToAllOptions,
    ) => {
      const record = {
        group,
        options,
        source: new PassThrough({ objectMode: true }),
        answers: [] as Answer[],
        unsubscribed: 0,
      };
      state.subscriptions.push(record);
      const idOf = (event: PersistentSubscriptionToAllResolvedEvent) =>
        event.link?.id ?? event.event?.id;
      return Object.assign(record.source, {
        ack: (...events: PersistentSubscriptionToAllResolvedEvent[]) => {
          for (const event of events) record.answers.push({ kind: 'ack', id: idOf(event) });
          return Promise.resolve();
        },
        nack: (
          action: PersistentAction,
          reason: string,
          ...events: PersistentSubscriptionToAllResolvedEvent[]
        ) => {
          for (const event of events)
            record.answers.push({ kind: action, id: idOf(event), reason });
          return Promise.resolve();
        },
        unsubscribe: () => {
          record.unsubscribed += 1;
          return Promise.resolve();
        },
      });
    },
  };
  return Object.assign(state, { client: client as unknown as PersistentDeliveryClient });
};

/** An event of the group as the server delivers it, at commit = prepare = `at`. */
const delivered = (
  at: number,
  retryCount = 0,
  stream = 'message-1',
  type = 'MessageRouted',
): PersistentSubscriptionToAllResolvedEvent => ({
  ...logEntry(at, type, stream),
  retryCount,
  commitPosition: BigInt(at),
});

const idAt = (at: number): string => `00000000-0000-4000-8000-${at.toString().padStart(12, '0')}`;

const feed = (s: GroupStub, ...events: PersistentSubscriptionToAllResolvedEvent[]): void => {
  const source = s.subscriptions.at(-1)?.source;
  for (const event of events) source?.write(event);
};

const answersOf = (s: GroupStub, count: number, index = -1): Promise<readonly Answer[]> =>
  waitUntil(
    () => s.subscriptions.at(index)?.answers ?? [],
    (answers) => answers.length >= count,
    `${count} answers to the server`,
    2_000,
    2,
  );

const subscriptionCount = (s: GroupStub, count: number): Promise<number> =>
  waitUntil(
    () => s.subscriptions.length,
    (n) => n >= count,
    `${count} subscriptions`,
    2_000,
    2,
  );

const GROUP = { groupName: 'delivery', eventTypes: ['MessageRouted', 'MessageRetried'] };

const consumer = (
  s: GroupStub,
  handler: DeliveryHandler,
  options: Partial<PersistentDeliveryOptions> = {},
): PersistentDeliveryConsumer =>
  new PersistentDeliveryConsumer(
    s.client,
    {
      groupName: 'delivery',
      retryDelayMs: () => 0,
      resubscribe: { baseDelayMs: 1, maxDelayMs: 1 },
      ...options,
    },
    handler,
  ).start();

describe('EventStoreDB persistent delivery (stub client)', () => {
  describe('ensureDeliveryGroup', () => {
    it('creates the group on $all with the documented settings and a server-side type filter', async () => {
      const s = groupStub();
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('created');
      const [created] = s.created;
      expect(created?.group).to.equal('delivery');
      expect(created?.settings).to.deep.include({
        startFrom: END,
        consumerStrategyName: 'RoundRobin',
        messageTimeout: 60_000,
        maxRetryCount: 10,
        checkPointAfter: 1_000,
        checkPointLowerBound: 1,
        checkPointUpperBound: 100,
        resolveLinkTos: false,
      });
      expect(created?.options?.filter).to.deep.include({
        filterOn: 'eventType',
        regex: '^(?:MessageRouted|MessageRetried)$',
      });
    });

    it('starts a new group at the given position, to hand over from a checkpoint', async () => {
      const s = groupStub();
      await ensureDeliveryGroup(s.client, { ...GROUP, startFrom: { commit: 42n, prepare: 40n } });
      expect(s.created[0]?.settings.startFrom).to.deep.equal({ commit: 42n, prepare: 40n });
    });

    it('is idempotent: run again (on another node, at the next start) it changes nothing', async () => {
      const s = groupStub();
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('created');
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('unchanged');
      // The second run finds the group described and does not try to create it again.
      expect(s.created).to.have.length(1);
      // An update would restart the group and drop every node's consumers.
      expect(s.updated).to.have.length(0);
    });

    it('brings an existing group with other settings up to date, keeping where it is', async () => {
      const s = groupStub();
      const at = { commit: 7n, prepare: 7n };
      s.groups.set(
        'delivery',
        persistentSubscriptionToAllSettingsFromDefaults({ startFrom: at, messageTimeout: 30_000 }),
      );
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('updated');
      expect(s.updated[0]?.settings).to.deep.equal({ ...deliveryGroupSettings(), startFrom: at });
    });

    it('updates without comparing on a server that cannot describe a group', async () => {
      const s = groupStub({
        info: () =>
          Promise.reject(new UnsupportedError('getPersistentSubscriptionToAllInfo', '21.10.1')),
      });
      s.groups.set('delivery', deliveryGroupSettings());
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('updated');
      expect(s.updated).to.have.length(1);
    });

    it('passes other failures on (access denied: creating a group needs an admin)', async () => {
      const denied = new AccessDeniedError();
      const s = groupStub({ create: () => Promise.reject(denied) });
      expect(await rejectionOf(ensureDeliveryGroup(s.client, GROUP))).to.equal(denied);
      expect(s.updated).to.have.length(0);
    });

    it('starts on a group that exists with the wanted settings without creating it (a user that may not create groups)', async () => {
      const denied = new AccessDeniedError();
      const s = groupStub({ create: () => Promise.reject(denied) });
      s.groups.set('delivery', deliveryGroupSettings());
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('unchanged');
      expect(s.created).to.have.length(0);
      expect(s.updated).to.have.length(0);
    });

    it('compares with the group another node created between the look and the create', async () => {
      const s = groupStub({
        create: () => {
          // Another node's create lands first.
          s.groups.set('delivery', deliveryGroupSettings());
          return Promise.resolve();
        },
      });
      expect(await ensureDeliveryGroup(s.client, GROUP)).to.equal('unchanged');
      expect(s.created).to.have.length(1);
      expect(s.updated).to.have.length(0);
    });

    it("starts a new group at the log's beginning when asked ('start')", async () => {
      const s = groupStub();
      await ensureDeliveryGroup(s.client, { ...GROUP, startFrom: 'start' });
      expect(s.created[0]?.settings.startFrom).to.equal(START);
    });

    it('refuses an empty list of event types (the group would follow nothing)', async () => {
      const s = groupStub();
      const error = await rejectionOf(ensureDeliveryGroup(s.client, { ...GROUP, eventTypes: [] }));
      expect(error).to.be.instanceOf(RangeError);
      expect(s.created).to.have.length(0);
    });
  });

  describe('PersistentDeliveryConsumer', () => {
    it('hands the decoded event to the handler and acks only after it resolved done', async () => {
      const s = groupStub();
      const seen: RecordedEvent[] = [];
      let finish: (outcome: DeliveryOutcome) => void = () => undefined;
      const delivery = consumer(s, (event) => {
        seen.push(event);
        return new Promise((resolve) => (finish = resolve));
      });
      expect(s.subscriptions[0]?.group).to.equal('delivery');
      expect(s.subscriptions[0]?.options?.bufferSize).to.equal(10);
      feed(s, delivered(5));
      await waitUntil(
        () => seen.length,
        (n) => n === 1,
        'the handler call',
        2_000,
        2,
      );
      expect(seen[0]).to.deep.include({
        id: idAt(5),
        stream: 'message-1',
        type: 'MessageRouted',
        metadata,
        position: { commit: 5n, prepare: 5n },
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(s.subscriptions[0]?.answers).to.deep.equal([]);
      finish('done');
      expect(await answersOf(s, 1)).to.deep.equal([{ kind: 'ack', id: idAt(5) }]);
      await delivery.close();
      expect(await delivery.stopped).to.deep.equal({ kind: 'closed' });
    });

    it('nacks with retry when the handler asks for one, and with park when it parks', async () => {
      const s = groupStub();
      const outcomes = new Map<string, DeliveryOutcome>([
        [idAt(1), 'retry'],
        [idAt(2), 'park'],
      ]);
      const delivery = consumer(s, (event) => Promise.resolve(outcomes.get(event.id) ?? 'done'));
      feed(s, delivered(1), delivered(2));
      const answers = await answersOf(s, 2);
      expect(answers.map((a) => [a.kind, a.id])).to.have.deep.members([
        ['retry', idAt(1)],
        ['park', idAt(2)],
      ]);
      await delivery.close();
    });

    it('retries a throwing handler, then parks once it has thrown more than maxHandlerRetries times', async () => {
      const s = groupStub();
      const delays: number[] = [];
      const delivery = consumer(s, () => Promise.reject(new Error('smtp down')), {
        maxHandlerRetries: 2,
        retryDelayMs: (retryCount) => {
          delays.push(retryCount);
          return 0;
        },
      });
      // The server redelivers the same event with its retry count going up.
      for (const retryCount of [0, 1, 2]) {
        feed(s, delivered(9, retryCount));
        await answersOf(s, retryCount + 1);
      }
      const answers = s.subscriptions[0]?.answers ?? [];
      expect(answers.map((a) => a.kind)).to.deep.equal(['retry', 'retry', 'park']);
      expect(answers[0]?.reason).to.equal('smtp down');
      expect(answers[2]?.reason).to.match(/failed 3 times; last: smtp down/);
      expect(delays).to.deep.equal([0, 1]);
      await delivery.close();
    });

    it('parks an event it cannot decode and acks events of system streams without the handler', async () => {
      const s = groupStub();
      const handled: string[] = [];
      const delivery = consumer(s, (event) => {
        handled.push(event.id);
        return Promise.resolve('done');
      });
      const undecodable = delivered(3);
      (undecodable.event as { metadata: unknown }).metadata = undefined;
      feed(s, delivered(1, 0, '$projections-routing-result'), undecodable);
      const answers = await answersOf(s, 2);
      expect(answers).to.deep.include({ kind: 'ack', id: idAt(1) });
      const parked = answers.find((a) => a.id === idAt(3));
      expect(parked?.kind).to.equal('park');
      expect(parked?.reason).to.match(/Tidings event metadata/);
      expect(handled).to.deep.equal([]);
      await delivery.close();
    });

    for (const [name, failure] of [
      ['Unavailable', () => new UnavailableError()],
      ['the group dropping its consumers (an update elsewhere)', () => droppedError('delivery')],
    ] as const) {
      it(`resubscribes after ${name} and goes on acking`, async () => {
        const s = groupStub();
        const delivery = consumer(s, () => Promise.resolve('done'));
        s.subscriptions[0]?.source.destroy(failure());
        await subscriptionCount(s, 2);
        expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
        feed(s, delivered(4));
        expect(await answersOf(s, 1, 1)).to.deep.equal([{ kind: 'ack', id: idAt(4) }]);
        await delivery.close();
        expect(s.subscriptions[1]?.unsubscribed).to.equal(1);
      });
    }

    it('aborts the signal of the events in hand when their subscription drops, and sends no answer over the dead call', async () => {
      const s = groupStub();
      const seen: AbortSignal[] = [];
      const delivery = consumer(
        s,
        (_event, { signal }) => {
          seen.push(signal);
          return new Promise<DeliveryOutcome>((resolve) => {
            signal.addEventListener('abort', () => {
              resolve('retry');
            });
          });
        },
        { resubscribe: { baseDelayMs: 200, maxDelayMs: 200 } },
      );
      feed(s, delivered(5));
      await waitUntil(
        () => seen.length,
        (n) => n === 1,
        'the event in hand',
        2_000,
        2,
      );
      expect(delivery.connected).to.equal(true);
      s.subscriptions[0]?.source.destroy(new UnavailableError());
      await waitUntil(
        () => seen[0]?.aborted,
        (aborted) => aborted === true,
        'aborted',
        2_000,
        2,
      );
      expect(delivery.connected, 'between the drop and the resubscription').to.equal(false);
      await subscriptionCount(s, 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // The server hands the event out again; an answer over the old call would be lost anyway.
      expect(s.subscriptions[0]?.answers).to.deep.equal([]);
      await waitUntil(
        () => delivery.connected,
        (connected) => connected,
        'connected again',
        2_000,
        2,
      );
      await delivery.close();
      expect(delivery.connected).to.equal(false);
    });

    it('resubscribes when the server ends the call without an error', async () => {
      const s = groupStub();
      const delivery = consumer(s, () => Promise.resolve('done'));
      s.subscriptions[0]?.source.end();
      await subscriptionCount(s, 2);
      await delivery.close();
      expect(await delivery.stopped).to.deep.equal({ kind: 'closed' });
    });

    it('stops as failed on access denied, without resubscribing', async () => {
      const s = groupStub();
      const delivery = consumer(s, () => Promise.resolve('done'));
      const denied = new AccessDeniedError();
      s.subscriptions[0]?.source.destroy(denied);
      expect(await delivery.stopped).to.deep.equal({ kind: 'failed', error: denied });
      expect(s.subscriptions).to.have.length(1);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
    });

    it('stops as failed after maxAttempts transient failures in a row', async () => {
      const s = groupStub();
      const delivery = consumer(s, () => Promise.resolve('done'), {
        resubscribe: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      });
      s.subscriptions[0]?.source.destroy(new UnavailableError());
      await subscriptionCount(s, 2);
      const last = new UnavailableError();
      s.subscriptions[1]?.source.destroy(last);
      expect(await delivery.stopped).to.deep.equal({ kind: 'failed', error: last });
      expect(s.subscriptions).to.have.length(2);
    });

    it('close() waits for a handler in progress and acks its event before disconnecting', async () => {
      const s = groupStub();
      let calls = 0;
      const delivery = consumer(s, async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return 'done';
      });
      feed(s, delivered(8));
      await waitUntil(
        () => calls,
        (n) => n === 1,
        'the handler call',
        2_000,
        2,
      );
      await delivery.close();
      expect(s.subscriptions[0]?.answers).to.deep.equal([{ kind: 'ack', id: idAt(8) }]);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
    });

    it('close() lets an event in hand be answered (a retry waiting out its delay at once), then disconnects', async () => {
      const s = groupStub();
      let calls = 0;
      const delivery = consumer(
        s,
        () => {
          calls += 1;
          return Promise.reject(new Error('webhook 503'));
        },
        { retryDelayMs: () => 60_000 },
      );
      feed(s, delivered(6));
      await waitUntil(
        () => calls,
        (n) => n === 1,
        'the handler call',
        2_000,
        2,
      );
      const started = Date.now();
      await delivery.close();
      expect(Date.now() - started).to.be.lessThan(5_000);
      expect(s.subscriptions[0]?.answers).to.deep.equal([
        { kind: 'retry', id: idAt(6), reason: 'webhook 503' },
      ]);
      expect(s.subscriptions[0]?.unsubscribed).to.equal(1);
      // Events arriving after close are left to other consumers.
      feed(s, delivered(7));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(calls).to.equal(1);
    });
  });
});

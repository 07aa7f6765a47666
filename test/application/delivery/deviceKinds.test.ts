import { DEFAULT_PREFERENCES } from '../../../domain/recipient/recipientPreferences.js';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { CommandBus } from '../../../application/commandBus.js';
import { DeliveryWorker } from '../../../application/delivery/deliveryWorker.js';
import { builtInChannels } from '../../../channels/index.js';
import { createChannelRegistry } from '../../../channels/registry.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../../domain/delivery/retryPolicy.js';
import { domainError } from '../../../domain/shared/domainError.js';
import type { AppQueries } from '../../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { DueDelivery, MessageQueries } from '../../../projections/messages/messageQueries.js';
import type {
  DeviceView,
  RecipientQueries,
} from '../../../projections/recipients/recipientQueries.js';
import {
  PAGER_DEVICE_ID,
  PAGER_SETTINGS,
  pagerChannel,
  pagerDevice,
  type PagerChannel,
} from '../../support/pagerChannel.js';
import { testSecretBox } from '../../support/testSecretBox.js';
import { waitUntil } from '../../support/waitUntil.js';

const recipientId = 'r-1';

/** A first delivery of one message to the person's pager, as the delivery queue reads it. */
const pagerDelivery: DueDelivery = {
  message_id: 'msg-1',
  channel: `pager:${PAGER_DEVICE_ID}`,
  status: 'pending',
  attempts: 0,
  last_error: null,
  retry_at: null,
  delivered_at: null,
  app_id: 'app-1',
  binding_id: 'b-1',
  recipient_id: recipientId,
  title: null,
  subtitle: null,
  body: 'Your order is on its way',
  url: null,
  thread: null,
  level: null,
  deliver_at: null,
  moderation_policy: null,
  moderation_reason: null,
  suppressed_reason: null,
  routed_channels: `["inbox","pager:${PAGER_DEVICE_ID}"]`,
  inbox_only: null,
  created_at: '2025-03-01T12:00:00.000Z',
  updated_at: '2025-03-01T12:00:00.000Z',
  inbox_at: '2025-03-01T12:00:00.000Z',
  read_at: null,
  archived_at: null,
  correlation_id: null,
  routed_by: null,
  push_deferred_until: null,
  push_outcome: null,
  push_summary_of: null,
  push_merged_into: null,
  app_name: 'Work orders',
  delivery_seq: 1,
};

const notUsed = (): never => {
  throw new Error('not used by a first delivery');
};

/** The recipients read model answering `devices` for the person. */
const recipientsWith = (devices: readonly DeviceView[]): RecipientQueries => ({
  byId: () => undefined,
  byUsername: () => undefined,
  devices: (id) => (id === recipientId ? devices : []),
  device: (id, deviceId) =>
    id === recipientId ? devices.find((device) => device.deviceId === deviceId) : undefined,
  session: () => undefined,
  preferences: () => DEFAULT_PREFERENCES,
});

/** A command as the tests look at it: its type and data, without the clock. */
interface Asked {
  readonly type: string;
  readonly data: unknown;
}

/**
 * A command bus that records the commands it is asked (those appended together, one after
 * another), and refuses them all: the worker needs nothing more from it here.
 */
const recordingBus = (): CommandBus & { readonly asked: Asked[] } => {
  const asked: Asked[] = [];
  return {
    asked,
    execute: (_aggregate, id, command) => {
      const commands: readonly Asked[] = Array.isArray(command) ? command : [command];
      asked.push(...commands.map(({ type, data }) => ({ type, data })));
      return Promise.resolve(E.left(domainError('not_found', `no stream for ${id}`)));
    },
  };
};

/** The delivery queue over `deliveries`, as the messages read model answers it. */
const queueOf = (deliveries: readonly DueDelivery[]) =>
  ({
    freshDeliveries: (afterSeq: number, limit: number) =>
      deliveries.filter((delivery) => delivery.delivery_seq > afterSeq).slice(0, limit),
    retriesDue: () => [],
  }) satisfies Pick<MessageQueries, 'freshDeliveries' | 'retriesDue'>;

/**
 * Runs a worker over `deliveries` (or the `queue` given) with the person's `devices` and the
 * command bus `commands` until `done` holds for what the bus was asked; `during` runs with the
 * started worker before that wait.
 */
const runWorker = async (
  channel: PagerChannel,
  devices: readonly DeviceView[],
  deliveries: readonly DueDelivery[],
  commands: CommandBus & { readonly asked: Asked[] },
  done: (asked: readonly Asked[]) => boolean,
  tuning: {
    readonly concurrency?: number;
    readonly now?: () => Date;
    readonly retry?: RetryPolicy;
    readonly pollIntervalMs?: number;
    readonly bindings?: BindingQueries;
    readonly apps?: AppQueries;
    readonly queue?: Pick<MessageQueries, 'freshDeliveries' | 'retriesDue'>;
    readonly during?: (worker: DeliveryWorker) => Promise<void>;
  } = {},
): Promise<readonly Asked[]> => {
  const queue = tuning.queue ?? queueOf(deliveries);
  const worker = new DeliveryWorker({
    ...(tuning.concurrency === undefined ? {} : { concurrency: tuning.concurrency }),
    ...(tuning.now === undefined ? {} : { now: tuning.now }),
    ...(tuning.pollIntervalMs === undefined ? {} : { pollIntervalMs: tuning.pollIntervalMs }),
    commands,
    messages: { ...queue, ...unusedMessageQueries },
    recipients: recipientsWith(devices),
    bindings: tuning.bindings ?? unusedBindingQueries,
    apps: tuning.apps ?? unusedAppQueries,
    channels: createChannelRegistry([...builtInChannels, channel]),
    secrets: testSecretBox,
    context: {
      // The pager channel sends no HTTP; a request would come back failed and show in the outcome.
      http: {
        request: () =>
          Promise.resolve({ kind: 'failed', code: 'ERR_TEST', message: 'no HTTP in this test' }),
      },
      logger: silentLogger,
      now: () => new Date(),
    },
    retry: tuning.retry ?? defaultRetryPolicy,
    logger: silentLogger,
  });
  worker.start();
  try {
    await tuning.during?.(worker);
    await waitUntil(() => commands.asked, done, 'the outcomes to be recorded');
  } finally {
    await worker.stop();
  }
  return commands.asked;
};

/** Runs a worker over the one pager delivery until it has recorded its outcome. */
const deliverOnce = (
  channel: PagerChannel,
  devices: readonly DeviceView[],
): Promise<readonly Asked[]> =>
  runWorker(channel, devices, [pagerDelivery], recordingBus(), (asked) =>
    asked.some(({ type }) => type === 'RecordDelivery' || type === 'RecordDeliveryFailure'),
  );

const unusedMessageQueries: Omit<MessageQueries, 'freshDeliveries' | 'retriesDue'> = {
  byId: notUsed,
  deliveries: notUsed,
  inbox: notUsed,
  inboxEntry: notUsed,
  held: notUsed,
  due: notUsed,
  devicePushesSince: notUsed,
  pendingDelivery: notUsed,
  oldestFreshDelivery: notUsed,
  inboxDeliveries: notUsed,
};
const unusedBindingQueries: BindingQueries = {
  byId: notUsed,
  byKeyHash: notUsed,
  byAppAndOpenid: notUsed,
  activeForRecipient: notUsed,
};
const unusedAppQueries: AppQueries = {
  byId: notUsed,
  bySecretHash: notUsed,
  suspensionsEndedBy: notUsed,
};

describe('delivery worker: devices of any kind, through the registry and the device view', () => {
  it('sends to the pager device the target names, its sealed PIN opened for render', async () => {
    const pager = pagerChannel();
    const asked = await deliverOnce(pager, [pagerDevice(undefined, 'dev_other'), pagerDevice()]);
    expect(pager.sent).to.deep.equal([
      { messageId: 'msg-1', body: pagerDelivery.body, settings: PAGER_SETTINGS },
    ]);
    expect(asked).to.deep.equal([
      {
        type: 'RecordDelivery',
        data: { messageId: 'msg-1', channel: `pager:${PAGER_DEVICE_ID}`, attempt: 1 },
      },
    ]);
  });

  it('marks that pager device broken, by id and fingerprint, when the channel does not know it', async () => {
    const pager = pagerChannel();
    pager.answer = { kind: 'rejected', reason: 'no such pager', code: 'device_unknown' };
    const asked = await deliverOnce(pager, [pagerDevice()]);
    expect(asked.filter(({ type }) => type === 'MarkDeviceBroken')).to.deep.equal([
      {
        type: 'MarkDeviceBroken',
        data: {
          recipientId,
          deviceId: PAGER_DEVICE_ID,
          fingerprint: testSecretBox.fingerprint(PAGER_SETTINGS),
          reason: 'no such pager',
        },
      },
    ]);
  });

  it('does not send to a broken pager device, and does not mark it again', async () => {
    const pager = pagerChannel();
    const asked = await deliverOnce(pager, [pagerDevice('no such pager')]);
    expect(pager.sent).to.deep.equal([]);
    expect(asked.map(({ type }) => type)).to.deep.equal([
      'RecordDeliveryFailure',
      'AbandonDelivery',
    ]);
    expect(asked[0]?.data).to.deep.include({
      channel: `pager:${PAGER_DEVICE_ID}`,
      error: "the person's pager device is marked broken",
    });
  });

  it('gives up on a device removed since the routing, and sends to no other device', async () => {
    const pager = pagerChannel();
    const asked = await deliverOnce(pager, [pagerDevice(undefined, 'dev_other')]);
    expect(pager.sent).to.deep.equal([]);
    expect(asked.map(({ type }) => type)).to.deep.equal([
      'RecordDeliveryFailure',
      'AbandonDelivery',
    ]);
    // The app reads this reason: it names the kind, never the person's device id.
    expect(asked[0]?.data).to.deep.include({ error: "the person's pager device was removed" });
  });

  it('masks the device’s secrets in the failure it records, as given and percent-encoded', async () => {
    const pager = pagerChannel();
    const device = {
      ...pagerDevice(),
      secrets: { pin: testSecretBox.seal('47 11') },
    };
    pager.answer = {
      kind: 'failed',
      reason: 'pager service: PIN 47 11 refused at /page/47%2011',
    };
    const asked = await deliverOnce(pager, [device]);
    const failure = asked.find(({ type }) => type === 'RecordDeliveryFailure');
    expect(failure?.data).to.deep.include({
      error: 'pager service: PIN *** refused at /page/***',
    });
  });

  it('records a channel that throws as a failed attempt, the secrets masked in its message', async () => {
    const pager = pagerChannel();
    const throwing: PagerChannel = Object.assign(pager, {
      send: () =>
        Promise.reject(new Error(`socket closed while sending PIN ${PAGER_SETTINGS.pin}`)),
    });
    const asked = await deliverOnce(throwing, [pagerDevice()]);
    const failure = asked.find(({ type }) => type === 'RecordDeliveryFailure');
    expect(failure?.data).to.deep.include({ error: 'socket closed while sending PIN ***' });
  });

  it('gives up on secrets this server’s key cannot open, without sending them anywhere', async () => {
    const pager = pagerChannel();
    const tampered = {
      ...pagerDevice(),
      secrets: { pin: 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    };
    const asked = await deliverOnce(pager, [tampered]);
    expect(pager.sent).to.deep.equal([]);
    expect(String((asked[0]?.data as { error?: string }).error)).to.match(/cannot be opened/);
  });
});

describe('delivery worker: the attempts on one message that finish together', () => {
  const devices = [pagerDevice(undefined, 'dev_a'), pagerDevice(undefined, 'dev_b')];
  const deliveries: readonly DueDelivery[] = devices.map((device, index) => ({
    ...pagerDelivery,
    channel: `pager:${device.deviceId}`,
    delivery_seq: index + 1,
  }));

  /**
   * A command bus that keeps each call's commands together (one call is one append) and answers
   * each call with `answer`: accepted, or refused with the code it gives.
   */
  const batchingBus = (
    answer: (channels: readonly string[]) => 'accepted' | 'refused',
  ): CommandBus & { readonly asked: Asked[]; readonly calls: (readonly string[])[] } => {
    const asked: Asked[] = [];
    const calls: (readonly string[])[] = [];
    return {
      asked,
      calls,
      execute: (_aggregate, _id, command) => {
        const commands: readonly Asked[] = Array.isArray(command) ? command : [command];
        asked.push(...commands.map(({ type, data }) => ({ type, data })));
        const channels = commands.map(({ data }) => (data as { channel: string }).channel);
        calls.push(channels);
        return Promise.resolve(
          answer(channels) === 'accepted'
            ? E.right({ events: [], nextRevision: 0, state: undefined as never })
            : E.left(domainError('illegal_state', 'the message refuses this record')),
        );
      },
    };
  };

  it('records two devices that answered in the same turn with one append', async () => {
    const pager = pagerChannel();
    const bus = batchingBus(() => 'accepted');
    await runWorker(pager, devices, deliveries, bus, (asked) => asked.length >= 2);
    expect(pager.sent.map(({ settings }) => settings)).to.have.length(2);
    expect(bus.calls).to.deep.equal([['pager:dev_a', 'pager:dev_b']]);
    expect(bus.asked.map(({ type }) => type)).to.deep.equal(['RecordDelivery', 'RecordDelivery']);
  });

  it('records each on its own when the message refuses them together, so one refusal loses no other', async () => {
    const pager = pagerChannel();
    // Refused together and for dev_b alone; dev_a alone is accepted.
    const bus = batchingBus((channels) =>
      channels.length === 1 && channels[0] === 'pager:dev_a' ? 'accepted' : 'refused',
    );
    await runWorker(pager, devices, deliveries, bus, () => bus.calls.length >= 3);
    expect(bus.calls).to.deep.equal([
      ['pager:dev_a', 'pager:dev_b'],
      ['pager:dev_a'],
      ['pager:dev_b'],
    ]);
  });
});

describe('delivery worker: new deliveries past the cursor', () => {
  const pagers = (count: number): DeviceView[] =>
    Array.from({ length: count }, (_, index) => pagerDevice(undefined, `dev_${index}`));
  const deliveriesTo = (devices: readonly DeviceView[]): DueDelivery[] =>
    devices.map((device, index) => ({
      ...pagerDelivery,
      message_id: `msg-${index}`,
      channel: `pager:${device.deviceId}`,
      delivery_seq: index + 1,
    }));
  const recorded = (asked: readonly Asked[]): number =>
    asked.filter(({ type }) => type === 'RecordDelivery').length;

  it('sends a backlog bigger than its slots without being woken again', async () => {
    const devices = pagers(7);
    const pager = pagerChannel();
    await runWorker(
      pager,
      devices,
      deliveriesTo(devices),
      recordingBus(),
      (asked) => recorded(asked) >= 7,
      {
        concurrency: 2,
      },
    );
    expect(pager.sent).to.have.length(7);
  });

  it('finds a delivery added after a look that found the queue short once it is woken, and looks no more meanwhile', async () => {
    const devices = pagers(2);
    const [first, second] = deliveriesTo(devices);
    const present: DueDelivery[] = [first!];
    const queue = queueOf(present);
    let looks = 0;
    const counted = {
      ...queue,
      freshDeliveries: (afterSeq: number, limit: number) => {
        looks += 1;
        return queue.freshDeliveries(afterSeq, limit);
      },
    };
    const pager = pagerChannel();
    await runWorker(pager, devices, [], recordingBus(), (asked) => recorded(asked) >= 2, {
      queue: counted,
      during: async (worker) => {
        await waitUntil(
          () => pager.sent.length,
          (sent) => sent === 1,
          'the first push',
        );
        // The first attempt has finished; its end frees a slot but must not look again.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(looks).to.equal(1);
        present.push(second!);
        worker.wake();
      },
    });
    expect(pager.sent).to.have.length(2);
    expect(looks).to.equal(2);
  });
});

describe('delivery worker: the retry times it recorded', () => {
  it('keeps a later retry time in mind when a look at an earlier retry finds the page short', async () => {
    const devices = [pagerDevice(undefined, 'dev_a'), pagerDevice(undefined, 'dev_b')];
    const [first, second] = devices.map((device, index) => ({
      ...pagerDelivery,
      message_id: `msg-${index}`,
      channel: `pager:${device.deviceId}`,
      delivery_seq: index + 1,
    }));
    let clock = Date.parse('2025-03-01T12:00:00.000Z');
    const bus = recordingBus();
    const fresh: DueDelivery[] = [first!];
    // The rows the queue shows as retries: what the worker recorded, once their time has come.
    const retries: DueDelivery[] = [];
    const queue = {
      freshDeliveries: (afterSeq: number, limit: number) =>
        fresh.filter((delivery) => delivery.delivery_seq > afterSeq).slice(0, limit),
      // A retry whose delivery is recorded leaves the queue, as the messages read model has it.
      retriesDue: (now: string, limit: number) =>
        retries
          .filter((delivery) => (delivery.retry_at ?? '') <= now && !delivered(delivery))
          .slice(0, limit),
    };
    const delivered = (delivery: DueDelivery): boolean =>
      bus.asked.some(
        ({ type, data }) =>
          type === 'RecordDelivery' && (data as { channel: string }).channel === delivery.channel,
      );
    const failedAgain = (sent: number) => (asked: readonly Asked[]) =>
      asked.filter(({ type }) => type === 'RecordDeliveryFailure').length >= sent;
    const pager = pagerChannel();
    pager.answer = { kind: 'failed', reason: 'pager network down' };
    const retryOf = (delivery: DueDelivery): DueDelivery => {
      const failure = bus.asked.find(
        ({ type, data }) =>
          type === 'RecordDeliveryFailure' &&
          (data as { channel: string }).channel === delivery.channel,
      );
      const retryAt = (failure?.data as { retryAt?: string } | undefined)?.retryAt ?? null;
      return { ...delivery, attempts: 1, retry_at: retryAt };
    };
    await runWorker(pager, devices, [], bus, (asked) => asked.length >= 4, {
      queue,
      now: () => new Date(clock),
      // No poll during the test: only the worker's own bookkeeping can bring the retries back.
      pollIntervalMs: 600_000,
      retry: { maxAttempts: 3, baseDelayMs: 1_000, factor: 1, maxDelayMs: 1_000, jitter: 0 },
      // A retry asks again whether the binding and the app still want it: they do.
      bindings: {
        ...unusedBindingQueries,
        byId: () =>
          ({ status: 'active', level: 'strong', blocked: 0, muted_until: null }) as ReturnType<
            BindingQueries['byId']
          >,
      },
      apps: {
        ...unusedAppQueries,
        byId: () => ({ status: 'active', suspended_until: null }) as ReturnType<AppQueries['byId']>,
      },
      during: async (worker) => {
        await waitUntil(() => bus.asked, failedAgain(1), 'the first failure');
        clock += 500;
        fresh.push(second!);
        worker.wake();
        await waitUntil(() => bus.asked, failedAgain(2), 'the second failure');
        retries.push(retryOf(first!), retryOf(second!));
        pager.answer = { kind: 'delivered' };
        // The first retry's time: its look finds one retry, less than a page.
        clock += 500;
        worker.wake();
        await waitUntil(
          () => pager.sent.length,
          (sent) => sent === 3,
          'the first retry',
        );
        // The second retry's time: a wake must look at retries again.
        clock += 500;
        worker.wake();
      },
    });
    expect(pager.sent.map(({ messageId }) => messageId)).to.deep.equal([
      'msg-0',
      'msg-1',
      'msg-0',
      'msg-1',
    ]);
  });
});

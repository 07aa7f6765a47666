import { DEFAULT_PREFERENCES } from '../../../domain/recipient/recipientPreferences.js';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { CommandBus } from '../../../application/commandBus.js';
import { DeliveryWorker } from '../../../application/delivery/deliveryWorker.js';
import type { Channel } from '../../../channels/channel.js';
import { builtInChannels } from '../../../channels/index.js';
import { guardPluginChannel } from '../../../channels/pluginGuard.js';
import { createChannelRegistry } from '../../../channels/registry.js';
import { defaultRetryPolicy } from '../../../domain/delivery/retryPolicy.js';
import { domainError } from '../../../domain/shared/domainError.js';
import type { DueDelivery, MessageQueries } from '../../../projections/messages/messageQueries.js';
import type { RecipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { deviceTarget } from '../../../domain/delivery/deliveryTarget.js';
import type { DeviceView } from '../../../projections/recipients/recipientQueries.js';
import { PAGER_DEVICE_ID, pagerChannel, pagerDevice } from '../../support/pagerChannel.js';
import { testSecretBox } from '../../support/testSecretBox.js';
import { waitUntil } from '../../support/waitUntil.js';

const recipientId = 'r-1';

const delivery = (channel: string, seq: number): DueDelivery => ({
  message_id: `msg-${seq}`,
  channel,
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
  routed_channels: `["inbox","${channel}"]`,
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
  delivery_seq: seq,
});

const WILD_DEVICE_ID = 'dev_wild0000000000000000';

/** The person's device of the `wild` plugin, its token sealed as the read model keeps it. */
const wildDevice: DeviceView = {
  deviceId: WILD_DEVICE_ID,
  kind: 'wild',
  name: 'Wild',
  settings: {},
  secrets: { token: testSecretBox.seal('sekret-token-42') },
  clearSecrets: {},
  fingerprint: testSecretBox.fingerprint({ token: 'sekret-token-42' }),
  createdAt: '2025-03-01T11:00:00.000Z',
};

const notUsed = (): never => {
  throw new Error('not used by a first delivery');
};

/** A plugin of kind `wild` that behaves as `send` says, with a secret `token` setting. */
const wildPlugin = (send: () => unknown, render?: () => unknown): Channel => ({
  kind: 'wild',
  name: 'Wild plugin',
  settings: [{ name: 'token', description: 'token', type: 'string', secret: true, required: true }],
  render: render ?? ((message) => message.body),
  send: send as Channel['send'],
});

interface Asked {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Runs one worker over two first deliveries, one to the `wild` plugin and one after it to the
 * well-behaved pager, and answers the commands recorded once both have an outcome (the pager's
 * proves the worker is still alive and not wedged).
 */
const deliverBoth = async (wild: Channel): Promise<Asked[]> => {
  const asked: Asked[] = [];
  const commands: CommandBus = {
    execute: (_aggregate, id, command) => {
      const list: readonly { type: string; data: unknown }[] = Array.isArray(command)
        ? command
        : [command];
      asked.push(...list.map(({ type, data }) => ({ type, data: data as Asked['data'] })));
      return Promise.resolve(E.left(domainError('not_found', `no stream for ${id}`)));
    },
  };
  const queue = [
    delivery(deviceTarget('wild', WILD_DEVICE_ID), 1),
    delivery(deviceTarget('pager', PAGER_DEVICE_ID), 2),
  ];
  const devices = [pagerDevice(), wildDevice];
  const recipients: RecipientQueries = {
    byId: () => undefined,
    byUsername: () => undefined,
    devices: () => devices,
    device: (_recipientId, deviceId) => devices.find((device) => device.deviceId === deviceId),
    session: () => undefined,
    preferences: () => DEFAULT_PREFERENCES,
  };
  const worker = new DeliveryWorker({
    commands,
    messages: {
      freshDeliveries: (after: number) => queue.filter((row) => row.delivery_seq > after),
      retriesDue: () => [],
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
    } satisfies MessageQueries,
    recipients,
    bindings: {
      byId: notUsed,
      byKeyHash: notUsed,
      byAppAndOpenid: notUsed,
      activeForRecipient: notUsed,
    },
    apps: { byId: notUsed, bySecretHash: notUsed, suspensionsEndedBy: notUsed },
    channels: createChannelRegistry([
      ...builtInChannels,
      guardPluginChannel(wild, { sendTimeoutMs: 200 }),
      pagerChannel(),
    ]),
    context: {
      http: {
        request: () => Promise.resolve({ kind: 'failed', code: 'ERR_TEST', message: 'none' }),
      },
      logger: silentLogger,
      now: () => new Date(),
    },
    secrets: testSecretBox,
    retry: defaultRetryPolicy,
    logger: silentLogger,
  });
  worker.start();
  try {
    await waitUntil(
      () => asked,
      (list) =>
        ['msg-1', 'msg-2'].every((id) =>
          list.some(
            ({ type, data }) =>
              (type === 'RecordDelivery' || type === 'RecordDeliveryFailure') &&
              data['messageId'] === id,
          ),
        ),
      'both outcomes to be recorded',
    );
  } finally {
    await worker.stop();
  }
  return asked;
};

/** The failure the worker recorded for the plugin's delivery. */
const pluginFailure = (asked: readonly Asked[]): Readonly<Record<string, unknown>> | undefined =>
  asked.find(({ type, data }) => type === 'RecordDeliveryFailure' && data['messageId'] === 'msg-1')
    ?.data;

const pagerDelivered = (asked: readonly Asked[]): boolean =>
  asked.some(({ type, data }) => type === 'RecordDelivery' && data['messageId'] === 'msg-2');

describe('delivery worker with a misbehaving plugin: a failed attempt, the worker alive', () => {
  it('a send that throws is failed, with its message', async () => {
    const asked = await deliverBoth(
      wildPlugin(() => {
        throw new Error('plugin bug');
      }),
    );
    expect(pluginFailure(asked)).to.deep.include({ error: 'channel wild failed: plugin bug' });
    expect(pluginFailure(asked)).to.have.property('retryAt');
    expect(pagerDelivered(asked)).to.equal(true);
  });

  it('a send that rejects is failed, without the secret it quoted', async () => {
    const asked = await deliverBoth(
      wildPlugin(() => Promise.reject(new Error('401 for token sekret-token-42'))),
    );
    expect(pluginFailure(asked)).to.deep.include({
      error: 'channel wild failed: 401 for token ***',
    });
    expect(pagerDelivered(asked)).to.equal(true);
  });

  it('a render that throws is failed', async () => {
    const asked = await deliverBoth(
      wildPlugin(
        () => Promise.resolve({ kind: 'delivered' }),
        () => {
          throw new TypeError('cannot read body');
        },
      ),
    );
    expect(pluginFailure(asked)).to.deep.include({
      error: 'channel wild could not render: cannot read body',
    });
    expect(pagerDelivered(asked)).to.equal(true);
  });

  // Regressions: unguarded, a malformed answer threw inside the worker after the send (the
  // attempt counted as "could not be recorded" and was sent again at once, for ever), and a send
  // that never settles held its slot for good.
  for (const [what, answer] of [
    ['undefined', undefined],
    ['a string', 'ok'],
    ['an unknown kind', { kind: 'sent' }],
    ['a failure without a reason', { kind: 'failed' }],
    ['a negative retryAfterMs', { kind: 'failed', reason: 'busy', retryAfterMs: -1 }],
    ['an unknown rejection code', { kind: 'rejected', reason: 'no', code: 'gone' }],
  ] as const) {
    it(`a send that answers ${what} is failed as a malformed outcome`, async () => {
      const asked = await deliverBoth(wildPlugin(() => Promise.resolve(answer)));
      expect(pluginFailure(asked)).to.deep.include({
        error: 'channel wild answered a malformed outcome',
      });
      expect(pagerDelivered(asked)).to.equal(true);
    });
  }

  it('a send that never settles is failed after the time limit', async () => {
    const asked = await deliverBoth(wildPlugin(() => new Promise(() => undefined)));
    expect(pluginFailure(asked)).to.deep.include({
      error: 'channel wild did not answer within 200 ms',
    });
    expect(pagerDelivered(asked)).to.equal(true);
  });
});

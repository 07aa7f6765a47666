import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../../devtools/barkServer.js';
import {
  inboxDelivery,
  type InboxDelivery,
} from '../../../../adapters/http/api/inboxDeliveryView.js';
import type { InboxDeliveryFacts } from '../../../../projections/messages/deliveryQueries.js';
import type { DeviceView } from '../../../../projections/recipients/recipientQueries.js';
import { fromNow, type CreatedApp, type Person } from '../../../support/httpFixtures.js';
import {
  bindPerson,
  bindWithoutDevice,
  createPipelineApp,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
  type InboxItem,
} from '../../../support/pipeline.js';
import { call, type TestServer } from '../../../support/testServer.js';

type Item = InboxItem & { readonly delivery: InboxDelivery };

interface Device {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly broken: string | null;
}

/**
 * `delivery` of `GET /v1/me/inbox` (issue 18 "Why no push") over HTTP against a real Tidings
 * with the Bark stand-in: where each message was pushed, or why not, one person and binding per
 * case. The push budget is one device push per binding and hour, so a binding's second message
 * is over it.
 */
describe('GET /v1/me/inbox: delivery, why no push', () => {
  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_PUSH_BUDGET_PER_HOUR: '1' } });
    app = await createPipelineApp(server);
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const inbox = async (person: Person): Promise<Item[]> => {
    const reply = await call<{ items: Item[] }>(server.base, 'GET', '/v1/me/inbox', {
      cookie: person.cookie,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    return reply.body.items;
  };

  /** The message's inbox item once `done` holds for it. */
  const itemOnce = async (
    person: Person,
    messageId: string,
    done: (item: Item) => boolean,
    what: string,
  ): Promise<Item> => {
    const items = await waitUntil(
      () => inbox(person),
      (all) => all.some((item) => item.messageId === messageId && done(item)),
      `${messageId}: ${what}`,
    );
    return items.find((item) => item.messageId === messageId)!;
  };

  const devicesOf = async (person: Person): Promise<Device[]> =>
    (
      await call<{ items: Device[] }>(server.base, 'GET', '/v1/me/devices', {
        cookie: person.cookie,
      })
    ).body.items;

  const routedInboxOnly = async (messageId: string): Promise<unknown> =>
    (await messageEvents(server, messageId)).find((event) => event.type === 'MessageRouted')?.data;

  /** Sends to the bound person and waits until the message is in their inbox. */
  const sendTo = async (who: BoundPerson, body: string): Promise<string> =>
    sendAccepted(server, app, { openid: who.openid, title: body, body });

  it('a pushed message lists its device with status delivered, its time and name, and no reason', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const [device] = await devicesOf(who.person);
    const messageId = await sendTo(who, 'pushed');
    const item = await itemOnce(
      who.person,
      messageId,
      (i) => i.delivery.devices[0]?.status === 'delivered',
      'pushed',
    );
    expect(item.delivery).to.deep.equal({
      devices: [
        {
          deviceId: device?.deviceId,
          kind: 'bark',
          status: 'delivered',
          at: item.delivery.devices[0]?.at,
          name: device?.name,
        },
      ],
    });
    expect(Date.parse(item.delivery.devices[0]?.at ?? '')).to.be.greaterThan(0);
    expect(bark.notificationsOf(who.deviceKey)).to.have.length(1);
  });

  it('weak: inbox only, though the person has a device', async () => {
    const who = await bindPerson(server, bark, app, { level: 'weak' });
    const messageId = await sendTo(who, 'weak one');
    const item = await itemOnce(who.person, messageId, () => true, 'in the inbox');
    expect(item.delivery).to.deep.equal({ devices: [], reason: 'weak' });
    expect(await routedInboxOnly(messageId)).to.deep.include({ inboxOnly: 'weak' });
  });

  it('muted: says until when (the binding’s mute)', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const patched = await call<{ mutedUntil: string }>(
      server.base,
      'PATCH',
      `/v1/me/apps/${who.bindingId}`,
      { cookie: who.person.cookie, body: { mutedUntil: fromNow(2 * 3_600_000) } },
    );
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    const messageId = await sendTo(who, 'muted one');
    const item = await itemOnce(who.person, messageId, () => true, 'in the inbox');
    expect(item.delivery).to.deep.equal({
      devices: [],
      reason: 'muted',
      mutedUntil: patched.body.mutedUntil,
    });
    expect(bark.notificationsOf(who.deviceKey)).to.deep.equal([]);
  });

  it('push_budget: the binding’s second message in the hour is over its budget of one', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const first = await sendTo(who, 'within budget');
    await itemOnce(
      who.person,
      first,
      (i) => i.delivery.devices[0]?.status === 'delivered',
      'pushed',
    );
    const second = await sendTo(who, 'over budget');
    const item = await itemOnce(who.person, second, () => true, 'in the inbox');
    expect(item.delivery).to.deep.equal({ devices: [], reason: 'push_budget' });
    expect(await routedInboxOnly(second)).to.deep.include({ inboxOnly: 'over_budget' });
  });

  it('no_device: a strong binding of a person without any device', async () => {
    const who = await bindWithoutDevice(server, app, { level: 'strong' });
    const messageId = await sendTo(who, 'nowhere to push');
    const item = await itemOnce(who.person, messageId, () => true, 'in the inbox');
    expect(item.delivery).to.deep.equal({ devices: [], reason: 'no_device' });
  });

  it('device_broken: the push abandoned on a device Bark refused, then no device but a broken one', async () => {
    // Bark answers 400 "failed to get device token" for a key it does not know: marked broken.
    const who = await bindPerson(server, bark, app, { level: 'strong', knownDevice: false });
    const first = await sendTo(who, 'to a lost key');
    const devices = await waitUntil(
      () => devicesOf(who.person),
      (all) => all[0]?.broken !== null && all[0]?.broken !== undefined,
      'the device marked broken',
    );
    const device = devices[0]!;
    expect(device.broken).to.include('failed to get device token');
    const broken = [{ deviceId: device.deviceId, kind: 'bark', name: device.name }];
    const abandoned = await itemOnce(
      who.person,
      first,
      (i) => i.delivery.devices[0]?.status === 'abandoned',
      'abandoned',
    );
    expect(abandoned.delivery).to.deep.equal({
      devices: [
        { deviceId: device.deviceId, kind: 'bark', status: 'abandoned', name: device.name },
      ],
      reason: 'device_broken',
      brokenDevices: broken,
    });

    // The router leaves a broken device out: no device to push to, because the only one is broken.
    const second = await sendTo(who, 'after it broke');
    const item = await itemOnce(who.person, second, () => true, 'in the inbox');
    expect(await routedInboxOnly(second)).to.deep.include({ inboxOnly: 'no_device' });
    expect(item.delivery).to.deep.equal({
      devices: [],
      reason: 'device_broken',
      brokenDevices: broken,
    });
  });

  it('answers every item of a page with its own delivery', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const pushed = await sendTo(who, 'first, pushed');
    await itemOnce(
      who.person,
      pushed,
      (i) => i.delivery.devices[0]?.status === 'delivered',
      'pushed',
    );
    const over = await sendTo(who, 'second, over budget');
    await itemOnce(who.person, over, () => true, 'in the inbox');
    const reasons = (await inbox(who.person)).map((item) => [
      item.messageId,
      item.delivery.reason ?? item.delivery.devices.map((d) => d.status).join(),
    ]);
    expect(reasons).to.deep.equal([
      [over, 'push_budget'],
      [pushed, 'delivered'],
    ]);
  });
});

describe('inbox delivery view (adapters/http/api/inboxDeliveryView.ts)', () => {
  const phone: DeviceView = {
    deviceId: 'dev_phone',
    kind: 'bark',
    name: 'iPhone',
    settings: {},
    secrets: {},
    clearSecrets: {},
    fingerprint: 'f',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
  const brokenPhone: DeviceView = { ...phone, broken: 'failed to get device token' };
  const facts = (devices: InboxDeliveryFacts['devices'] = []): InboxDeliveryFacts => ({
    devices,
    mutedUntil: null,
    chosenDevices: null,
  });
  const NOT_DEFERRED = { push_deferred_until: null, push_outcome: null };
  const released = {
    channel: 'bark:dev_phone',
    status: 'delivered',
    delivered_at: '2025-01-02T07:00:01.000Z',
    retry_at: null,
  } as const;

  it('quiet hours: waiting with quietUntil, released with its pushes, merged or dropped', () => {
    const quiet = { inbox_only: 'quiet_hours', push_deferred_until: null, push_outcome: null };
    expect(
      inboxDelivery({ ...quiet, push_deferred_until: '2025-01-02T07:00:00.000Z' }, facts(), [
        phone,
      ]),
    ).to.deep.equal({ devices: [], reason: 'quiet_hours', quietUntil: '2025-01-02T07:00:00.000Z' });
    expect(inboxDelivery(quiet, facts(), [phone])).to.deep.equal({
      devices: [],
      reason: 'quiet_hours',
    });
    expect(
      inboxDelivery({ ...quiet, push_outcome: 'released' }, facts([released]), [phone]),
    ).to.deep.equal({
      devices: [
        {
          deviceId: 'dev_phone',
          kind: 'bark',
          status: 'delivered',
          at: '2025-01-02T07:00:01.000Z',
          name: 'iPhone',
        },
      ],
    });
    for (const outcome of ['merged', 'dropped'] as const) {
      expect(
        inboxDelivery({ ...quiet, push_deferred_until: null, push_outcome: outcome }, facts(), [
          phone,
        ]),
      ).to.deep.equal({ devices: [], reason: 'quiet_hours', quietOutcome: outcome });
    }
  });

  it('a retry planned shows its time; a bare legacy `bark` target is the device `bark`', () => {
    const legacy: DeviceView = { ...phone, deviceId: 'bark', name: 'Bark' };
    expect(
      inboxDelivery(
        { inbox_only: null, ...NOT_DEFERRED },
        facts([
          {
            channel: 'bark',
            status: 'pending',
            delivered_at: null,
            retry_at: '2025-01-02T08:00:00.000Z',
          },
        ]),
        [legacy],
      ),
    ).to.deep.equal({
      devices: [
        {
          deviceId: 'bark',
          kind: 'bark',
          status: 'pending',
          at: '2025-01-02T08:00:00.000Z',
          name: 'Bark',
        },
      ],
    });
  });

  it('no_device is device_broken only when every device for the app is broken', () => {
    const tablet: DeviceView = { ...phone, deviceId: 'dev_tablet', name: 'iPad' };
    const noDevice = { inbox_only: 'no_device', ...NOT_DEFERRED };
    expect(inboxDelivery(noDevice, facts(), [])).to.deep.equal({
      devices: [],
      reason: 'no_device',
    });
    expect(inboxDelivery(noDevice, facts(), [brokenPhone, tablet])).to.deep.equal({
      devices: [],
      reason: 'no_device',
    });
    // The binding names the phone alone: that one is broken.
    expect(
      inboxDelivery(noDevice, { ...facts(), chosenDevices: ['dev_phone'] }, [brokenPhone, tablet]),
    ).to.deep.equal({
      devices: [],
      reason: 'device_broken',
      brokenDevices: [{ deviceId: 'dev_phone', kind: 'bark', name: 'iPhone' }],
    });
  });

  it('pushes abandoned on a device that works (the server was down) give no reason', () => {
    const abandoned = { ...released, status: 'abandoned', delivered_at: null } as const;
    expect(
      inboxDelivery({ inbox_only: null, ...NOT_DEFERRED }, facts([abandoned]), [phone]),
    ).to.deep.equal({
      devices: [{ deviceId: 'dev_phone', kind: 'bark', status: 'abandoned', name: 'iPhone' }],
    });
    expect(
      inboxDelivery({ inbox_only: null, ...NOT_DEFERRED }, facts([abandoned]), [brokenPhone]),
    ).to.deep.equal({
      devices: [{ deviceId: 'dev_phone', kind: 'bark', status: 'abandoned', name: 'iPhone' }],
      reason: 'device_broken',
      brokenDevices: [{ deviceId: 'dev_phone', kind: 'bark', name: 'iPhone' }],
    });
  });
});

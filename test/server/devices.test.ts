import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { DATABASE_FILE } from '../../adapters/sqlite/database.js';
import {
  expectProblem,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../support/httpFixtures.js';
import { recordingLogger, type LogEntry } from '../support/logs.js';
import {
  bindPerson,
  createPipelineApp,
  getMessage,
  deviceRef,
  sendAccepted,
  SHORT_RETRY,
  waitForMessage,
  waitUntil,
  type BoundPerson,
  type MessageView,
} from '../support/pipeline.js';
import { call, startTestServer, type Reply, type TestServer } from '../support/testServer.js';
import { unique } from '../support/unique.js';

interface Device {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly broken: string | null;
  readonly createdAt: string;
}

/**
 * Generic devices end to end over HTTP, with the Bark stand-in speaking bark-server's protocol
 * on 127.0.0.1: one person, several Bark devices (two of one kind prove the fan-out is per
 * device, not per kind), a strong binding, and every secret checked for in the log, the API
 * answers and the log lines.
 */
describe('devices end to end: fan-out, broken devices, chosen devices, recall, test pushes', () => {
  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;
  let entries: LogEntry[];
  /** Every answer the API gave in this suite, to search for secrets. */
  const answers: unknown[] = [];
  /** Every device key used in this suite. */
  const keys: string[] = [];

  const api = async <T>(
    method: string,
    path: string,
    cookie: string,
    body?: unknown,
  ): Promise<Reply<T>> => {
    const reply = await call<T>(server.base, method, path, {
      cookie,
      ...(body === undefined ? {} : { body }),
    });
    answers.push(reply.body);
    return reply;
  };
  const addBark = async (person: Person, name: string, known = true): Promise<Device> => {
    const deviceKey = unique('Key');
    keys.push(deviceKey);
    if (known) bark.addDevice(deviceKey);
    const reply = await api<Device>('POST', '/v1/me/devices', person.cookie, {
      kind: 'bark',
      name,
      settings: { serverUrl: bark.url, deviceKey },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return { ...reply.body, settings: { ...reply.body.settings, deviceKey } };
  };
  const keyOf = (device: Device): string => String(device.settings['deviceKey']);
  const pushesTo = (device: Device): readonly { body: string; id?: string }[] =>
    bark.notificationsOf(keyOf(device));
  const devicesOf = async (person: Person): Promise<Device[]> =>
    (await api<{ items: Device[] }>('GET', '/v1/me/devices', person.cookie)).body.items;
  const settled = (view: MessageView): boolean =>
    view.deliveries.every((d) => d.status === 'delivered' || d.status === 'abandoned');

  /** A person with two known Bark devices and a strong binding. */
  const twoDevices = async (): Promise<{ who: BoundPerson; phone: Device; tablet: Device }> => {
    const person = await registerPerson(server);
    const phone = await addBark(person, 'Phone');
    const tablet = await addBark(person, 'Tablet');
    const who = await bindPerson(server, undefined, app, { person, level: 'strong' });
    return { who, phone, tablet };
  };

  before(async () => {
    bark = await startBarkServer();
    const recording = recordingLogger();
    entries = recording.entries;
    server = await startTestServer({
      env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1' },
      retryPolicy: { ...SHORT_RETRY, maxAttempts: 2 },
      logger: recording.logger,
    });
    app = await createPipelineApp(server);
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('a strong message reaches each device once; GET /v1/messages/:id tells the devices apart', async () => {
    const { who, phone, tablet } = await twoDevices();
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'to both' });
    const view = await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.filter((d) => d.status === 'delivered').length === 3,
      'three deliveries',
    );
    answers.push(view);
    expect(view.deliveries.map((d) => [d.channel, d.device, d.status]).sort()).to.deep.equal(
      [
        ['bark', deviceRef(who.bindingId, phone.deviceId), 'delivered'],
        ['bark', deviceRef(who.bindingId, tablet.deviceId), 'delivered'],
        ['inbox', undefined, 'delivered'],
      ].sort(),
    );
    expect(pushesTo(phone).map((n) => n.body)).to.deep.equal(['to both']);
    expect(pushesTo(tablet).map((n) => n.body)).to.deep.equal(['to both']);
  });

  it('an app never sees the person’s device ids: two apps get different references, errors name the kind', async () => {
    const { who, phone, tablet } = await twoDevices();
    const other = await createPipelineApp(server, 'Other app');
    const otherWho = await bindPerson(server, undefined, other, {
      person: who.person,
      level: 'strong',
    });
    const first = await sendAccepted(server, app, { openid: who.openid, body: 'from one' });
    const second = await sendAccepted(server, other, { openid: otherWho.openid, body: 'from two' });
    const done = (v: MessageView): boolean =>
      v.deliveries.filter((d) => d.status === 'delivered').length === 3;
    const seenByOne = await waitForMessage(server, app, first, done, 'delivered everywhere');
    const seenByTwo = await waitForMessage(server, other, second, done, 'delivered everywhere');
    for (const view of [seenByOne, seenByTwo]) {
      const text = JSON.stringify(view);
      expect(text).to.not.include(phone.deviceId);
      expect(text).to.not.include(tablet.deviceId);
      expect(view.deliveries.every((d) => d.deviceId === undefined)).to.equal(true);
    }
    const refs = (view: MessageView) =>
      view.deliveries.flatMap((d) => (d.device === undefined ? [] : [d.device]));
    expect(refs(seenByOne)).to.have.length(2);
    expect(refs(seenByOne).every((ref) => /^[A-Za-z0-9_-]{12}$/.test(ref))).to.equal(true);
    expect(refs(seenByOne).filter((ref) => refs(seenByTwo).includes(ref))).to.deep.equal([]);

    // A device removed before its retry: the app reads which kind of device went, not which one.
    bark.failTimes(keyOf(tablet), 1, 503, 'busy', { headers: { 'Retry-After': '1' } });
    const third = await sendAccepted(server, app, { openid: who.openid, body: 'late' });
    const tabletRef = deviceRef(who.bindingId, tablet.deviceId);
    await waitForMessage(
      server,
      app,
      third,
      (v) => v.deliveries.find((d) => d.device === tabletRef)?.retryAt !== undefined,
      'the tablet delivery waiting for its retry',
    );
    const removed = await api('DELETE', `/v1/me/devices/${tablet.deviceId}`, who.person.cookie);
    expect(removed.status).to.equal(204);
    const late = await waitForMessage(
      server,
      app,
      third,
      (v) => v.deliveries.find((d) => d.device === tabletRef)?.status === 'abandoned',
      'the tablet delivery given up',
    );
    expect(late.deliveries.find((d) => d.device === tabletRef)?.lastError).to.equal(
      "the person's bark device was removed",
    );
    const text = JSON.stringify(late);
    expect(text).to.not.include(phone.deviceId);
    expect(text).to.not.include(tablet.deviceId);
  });

  it('a weak binding reaches none of the devices', async () => {
    const person = await registerPerson(server);
    const phone = await addBark(person, 'Phone');
    const who = await bindPerson(server, undefined, app, { person, level: 'weak' });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'quiet' });
    const view = await waitForMessage(server, app, messageId, settled, 'settled');
    expect(view.deliveries.map((d) => d.channel)).to.deep.equal(['inbox']);
    expect(pushesTo(phone)).to.deep.equal([]);
  });

  it('a device Bark does not know is marked broken; the other keeps working and alone gets the next', async () => {
    const person = await registerPerson(server);
    const phone = await addBark(person, 'Phone');
    const lost = await addBark(person, 'Lost phone', false);
    const who = await bindPerson(server, undefined, app, { person, level: 'strong' });
    const first = await sendAccepted(server, app, { openid: who.openid, body: 'first' });
    const view = await waitForMessage(
      server,
      app,
      first,
      (v) => settled(v) && v.deliveries.length === 3,
      'settled',
    );
    const ref = (device: Device): string => deviceRef(who.bindingId, device.deviceId);
    expect(view.deliveries.find((d) => d.device === ref(lost))?.status).to.equal('abandoned');
    expect(view.deliveries.find((d) => d.device === ref(phone))?.status).to.equal('delivered');
    const devices = await waitUntil(
      () => devicesOf(person),
      (items) => items.some((d) => d.deviceId === lost.deviceId && d.broken !== null),
      'the lost device marked broken',
    );
    expect(devices.find((d) => d.deviceId === lost.deviceId)?.broken).to.include(
      'failed to get device token',
    );
    expect(devices.find((d) => d.deviceId === phone.deviceId)?.broken).to.equal(null);

    const second = await sendAccepted(server, app, { openid: who.openid, body: 'second' });
    const next = await waitForMessage(
      server,
      app,
      second,
      (v) => settled(v) && v.deliveries.length > 1,
      'settled',
    );
    expect(next.deliveries.map((d) => d.device ?? d.channel).sort()).to.deep.equal(
      ['inbox', ref(phone)].sort(),
    );
    expect(pushesTo(phone).map((n) => n.body)).to.deep.equal(['first', 'second']);

    // Saving the device again (the person fixed it in Bark) clears the mark.
    bark.addDevice(keyOf(lost));
    const saved = await api<Device>('PATCH', `/v1/me/devices/${lost.deviceId}`, person.cookie, {
      settings: { deviceKey: keyOf(lost) },
    });
    expect(saved.status).to.equal(200);
    expect(saved.body.broken).to.equal(null);
  });

  it('a binding that names devices reaches only those; a device not of the person is 400', async () => {
    const { who, phone, tablet } = await twoDevices();
    const bad = await api('PATCH', `/v1/me/apps/${who.bindingId}`, who.person.cookie, {
      devices: [tablet.deviceId, 'dev_notmine'],
    });
    expect(expectProblem(bad, 400, 'validation_failed').errors).to.deep.equal([
      { path: '/devices/1', message: 'is not one of your devices' },
    ]);
    const chosen = await api<{ devices: string[] | null }>(
      'PATCH',
      `/v1/me/apps/${who.bindingId}`,
      who.person.cookie,
      { devices: [tablet.deviceId] },
    );
    expect(chosen.status).to.equal(200);
    expect(chosen.body.devices).to.deep.equal([tablet.deviceId]);
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'tablet only' });
    await waitForMessage(
      server,
      app,
      messageId,
      (v) => settled(v) && v.deliveries.length === 2,
      'settled',
    );
    expect(pushesTo(tablet).map((n) => n.body)).to.deep.equal(['tablet only']);
    expect(pushesTo(phone)).to.deep.equal([]);

    const all = await api<{ items: { bindingId: string; devices: unknown }[] }>(
      'PATCH',
      `/v1/me/apps/${who.bindingId}`,
      who.person.cookie,
      { devices: null },
    );
    expect(all.status).to.equal(200);
  });

  it('a recall takes the message back from every device that delivered it', async () => {
    const { who, phone, tablet } = await twoDevices();
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'oops' });
    await waitForMessage(
      server,
      app,
      messageId,
      (v) => v.deliveries.filter((d) => d.status === 'delivered').length === 3,
      'delivered everywhere',
    );
    expect(pushesTo(phone)).to.have.length(1);
    const recalled = await call(server.base, 'DELETE', `/v1/messages/${messageId}`, {
      token: app.appSecret,
    });
    expect(recalled.status).to.equal(200);
    await waitUntil(
      () => [pushesTo(phone).length, pushesTo(tablet).length],
      (counts) => counts.every((count) => count === 0),
      'the notification deleted on both devices',
    );
  });

  it('a device’s test push goes to that device alone', async () => {
    const { who, phone, tablet } = await twoDevices();
    const reply = await api<{ messageId: string }>(
      'POST',
      `/v1/me/devices/${tablet.deviceId}/test`,
      who.person.cookie,
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    await waitUntil(
      () => pushesTo(tablet),
      (n) => n.length === 1,
      'the test push on the tablet',
    );
    const status = await api<{ deliveries: { deviceId?: string }[] }>(
      'GET',
      `/v1/me/test-push/${reply.body.messageId}`,
      who.person.cookie,
    );
    expect(status.body.deliveries.map((d) => d.deviceId).filter(Boolean)).to.deep.equal([
      tablet.deviceId,
    ]);
    expect(pushesTo(phone)).to.deep.equal([]);
    const unknown = await api('POST', '/v1/me/devices/dev_nope/test', who.person.cookie);
    expectProblem(unknown, 404, 'not_found');
  });

  it('no device key is in clear in the event log, in any API answer or in any log line', async () => {
    const { who, phone } = await twoDevices();
    await api('PATCH', `/v1/me/devices/${phone.deviceId}`, who.person.cookie, {
      name: 'Renamed',
      settings: { deviceKey: keyOf(phone) },
    });
    await api('POST', `/v1/me/devices/${phone.deviceId}/test`, who.person.cookie);
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'secret check' });
    await waitForMessage(server, app, messageId, settled, 'settled');
    answers.push(await getMessage(server, app, messageId));
    answers.push((await devicesOf(who.person)).map((d) => d));
    expect(keys.length).to.be.greaterThan(5);

    const raw = new Database(join(server.dir, DATABASE_FILE), { readonly: true });
    try {
      const rows = raw.prepare('SELECT type, data, metadata FROM events').all() as {
        type: string;
        data: string;
        metadata: string;
      }[];
      expect(rows.some((row) => row.type === 'RecipientDeviceAdded')).to.equal(true);
      const log = rows.map((row) => `${row.data}${row.metadata}`).join('\n');
      for (const key of keys) expect(log, 'the event log').to.not.include(key);
      // The read models hold them sealed too.
      const devices = JSON.stringify(raw.prepare('SELECT * FROM devices').all());
      for (const key of keys) expect(devices, 'the devices read model').to.not.include(key);
    } finally {
      raw.close();
    }
    const api_ = JSON.stringify(answers);
    for (const key of keys) expect(api_, 'the API answers').to.not.include(key);
    const lines = JSON.stringify(entries);
    expect(entries.length).to.be.greaterThan(0);
    for (const key of keys) expect(lines, 'the log lines').to.not.include(key);
  });
});

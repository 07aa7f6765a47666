import { expect } from 'chai';
import type { HostResolver } from '../../../../adapters/outbound/destinationGuard.js';
import { INBOX_CHANNEL } from '../../../../domain/message/messageEvents.js';
import {
  errorPaths,
  eventCount,
  expectNoNewEvents,
  expectProblem,
  registerPerson,
  type Person,
} from '../../../support/httpFixtures.js';
import { call, startTestServer, type Reply, type TestServer } from '../../../support/testServer.js';

interface Device {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly broken: string | null;
  readonly createdAt: string;
}

const KEY = 'DeviceKey_secret_0123';

/** The devices routes over HTTP: what they check, answer and write. */
describe('HTTP devices API', () => {
  const resolver: HostResolver = (hostname) =>
    Promise.resolve(
      hostname === 'private.example.test'
        ? [{ address: '10.0.0.7', family: 4 }]
        : [{ address: '93.184.216.34', family: 4 }],
    );
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ resolver });
  });
  after(async () => {
    await server.dispose();
  });

  const add = (person: Person, body: unknown): Promise<Reply<Device>> =>
    call<Device>(server.base, 'POST', '/v1/me/devices', { cookie: person.cookie, body });
  const barkBody = (deviceKey = KEY) => ({
    kind: 'bark',
    settings: { serverUrl: 'https://bark.example.test', deviceKey },
  });

  it('GET /v1/channels lists the device kinds with their settings, without the inbox', async () => {
    const reply = await call<{
      items: { kind: string; name: string; settings: Record<string, unknown>[] }[];
    }>(server.base, 'GET', '/v1/channels');
    expect(reply.status).to.equal(200);
    // The server's own registry, in its order: a channel added later is listed without a change here.
    const kinds = server.tidings.channels.kinds.filter((kind) => kind !== INBOX_CHANNEL);
    expect(server.tidings.channels.kinds).to.include(INBOX_CHANNEL);
    expect(kinds).to.include.members(['bark', 'ntfy', 'webhook']);
    expect(reply.body.items.map((c) => c.kind)).to.deep.equal(kinds);
    const settingsOf = (kind: string) => reply.body.items.find((c) => c.kind === kind)?.settings;
    expect(settingsOf('bark')).to.deep.equal([
      {
        name: 'serverUrl',
        description: 'Base URL of the bark-server, e.g. https://api.day.app',
        type: 'url',
        secret: false,
        required: true,
      },
      {
        name: 'deviceKey',
        description: 'The device key shown in the Bark app (one key per device)',
        type: 'string',
        secret: true,
        required: true,
      },
    ]);
    expect(settingsOf('ntfy')?.find((s) => s['name'] === 'serverUrl')).to.deep.include({
      type: 'url',
      required: false,
      default: 'https://ntfy.sh',
    });
    expect(settingsOf('webhook')?.find((s) => s['name'] === 'secret')).to.deep.include({
      secret: true,
      generated: true,
    });
  });

  it('POST adds a device: 201 with an id, the channel’s name, the secret masked', async () => {
    const person = await registerPerson(server);
    const reply = await add(person, barkBody());
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    expect(reply.body.deviceId).to.match(/^dev_[A-Za-z0-9_-]{22}$/);
    expect(reply.body).to.deep.include({
      kind: 'bark',
      name: 'Bark (iOS)',
      settings: { serverUrl: 'https://bark.example.test', deviceKey: '********' },
      broken: null,
    });
    const list = await call<{ items: Device[] }>(server.base, 'GET', '/v1/me/devices', {
      cookie: person.cookie,
    });
    expect(list.body.items).to.deep.equal([reply.body]);
    expect(JSON.stringify(list.body)).to.not.include(KEY);
  });

  it('refuses an unknown kind, the inbox, unknown and missing settings: 400 naming each field', async () => {
    const person = await registerPerson(server);
    const before = await eventCount(server.tidings);
    expect(
      errorPaths(
        expectProblem(await add(person, { kind: 'pager', settings: {} }), 400, 'validation_failed'),
      ),
    ).to.deep.equal(['/kind']);
    expect(
      errorPaths(
        expectProblem(await add(person, { kind: 'inbox', settings: {} }), 400, 'validation_failed'),
      ),
    ).to.deep.equal(['/kind']);
    const missing = await add(person, { kind: 'bark', settings: { serverUrl: 'ftp://x.test' } });
    expect(errorPaths(expectProblem(missing, 400, 'validation_failed'))).to.deep.equal([
      '/settings/serverUrl',
      '/settings/deviceKey',
    ]);
    expect(await eventCount(server.tidings)).to.equal(before);
  });

  it('refuses "********" for the secret of a new device: there is no stored value to keep', async () => {
    const person = await registerPerson(server);
    const before = await eventCount(server.tidings);
    const masked = await add(person, barkBody('********'));
    expect(errorPaths(expectProblem(masked, 400, 'validation_failed'))).to.deep.equal([
      '/settings/deviceKey',
    ]);
    expect(await eventCount(server.tidings)).to.equal(before);
  });

  it('refuses a private destination: 400 forbidden_destination naming the field', async () => {
    const person = await registerPerson(server);
    const reply = await add(person, {
      kind: 'bark',
      settings: { serverUrl: 'https://private.example.test', deviceKey: KEY },
    });
    expect(errorPaths(expectProblem(reply, 400, 'forbidden_destination'))).to.deep.equal([
      '/settings/serverUrl',
    ]);
  });

  it('PATCH merges over the stored settings, keeps a masked secret, and saving unchanged writes nothing', async () => {
    const person = await registerPerson(server);
    const device = (await add(person, { ...barkBody(), name: 'Phone' })).body;
    const path = `/v1/me/devices/${device.deviceId}`;
    const renamed = await call<Device>(server.base, 'PATCH', path, {
      cookie: person.cookie,
      body: { name: 'Work phone', settings: { deviceKey: '********' } },
    });
    expect(renamed.status).to.equal(200);
    expect(renamed.body).to.deep.include({ name: 'Work phone', settings: device.settings });
    const again = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'PATCH', path, {
        cookie: person.cookie,
        body: { settings: { serverUrl: 'https://bark.example.test' } },
      }),
    );
    expect(again.status).to.equal(200);
  });

  it('another person’s device and an unknown one are 404 for PATCH, DELETE and test', async () => {
    const owner = await registerPerson(server);
    const other = await registerPerson(server);
    const { deviceId } = (await add(owner, barkBody())).body;
    for (const [method, path] of [
      ['PATCH', `/v1/me/devices/${deviceId}`],
      ['DELETE', `/v1/me/devices/${deviceId}`],
      ['POST', `/v1/me/devices/${deviceId}/test`],
      ['DELETE', '/v1/me/devices/dev_unknown'],
    ] as const) {
      const reply = await call(server.base, method, path, {
        cookie: other.cookie,
        ...(method === 'PATCH' ? { body: { name: 'mine' } } : {}),
      });
      expectProblem(reply, 404, 'not_found');
    }
    const removed = await call(server.base, 'DELETE', `/v1/me/devices/${deviceId}`, {
      cookie: owner.cookie,
    });
    expect(removed.status).to.equal(204);
  });

  it('refuses a 21st device with 422 illegal_state', async () => {
    const person = await registerPerson(server);
    for (let i = 0; i < 20; i += 1)
      expect((await add(person, barkBody(`Key${i}`))).status).to.equal(201);
    expectProblem(await add(person, barkBody('Key20')), 422, 'illegal_state');
  });
});

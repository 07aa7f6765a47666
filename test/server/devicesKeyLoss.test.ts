import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_SECRETS_KEY_FILE } from '../../adapters/config/dataFolderFiles.js';
import { expectProblem, registerPerson, type Person } from '../support/httpFixtures.js';
import { call, startTestServer, type Reply, type TestServer } from '../support/testServer.js';

interface Device {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly broken: string | null;
}

/**
 * A data folder whose `device-secrets.key` was replaced (restored without it, say): the sealed
 * secrets in the log no longer open. Saving such a device must not quietly drop or remake them.
 */
describe('devices after the data folder’s key was lost', () => {
  let server: TestServer;
  let person: Person;
  let bark: Device;
  let ntfy: Device;
  let webhook: Device;

  const api = <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> =>
    call<T>(server.base, method, path, {
      cookie: person.cookie,
      ...(body === undefined ? {} : { body }),
    });
  const add = async (body: unknown): Promise<Device> => {
    const reply = await api<Device>('POST', '/v1/me/devices', body);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply.body;
  };

  before(async () => {
    const env = { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1' };
    const first = await startTestServer({ env });
    person = await registerPerson(first);
    server = first;
    bark = await add({
      kind: 'bark',
      settings: { serverUrl: 'http://127.0.0.1:9', deviceKey: 'KeyBeforeTheLoss' },
    });
    ntfy = await add({
      kind: 'ntfy',
      settings: { serverUrl: 'http://127.0.0.1:9', topic: 'alerts', token: 'tk_before' },
    });
    webhook = await add({ kind: 'webhook', settings: { url: 'http://127.0.0.1:9/hook' } });
    await first.stop();
    writeFileSync(
      join(first.dir, DEVICE_SECRETS_KEY_FILE),
      `${randomBytes(32).toString('base64')}\n`,
      { mode: 0o600 },
    );
    server = await first.restart();
  });
  after(async () => {
    await server.dispose();
  });

  it('a PATCH that leaves an unreadable secret out, or sends it masked, is 400 naming it', async () => {
    const renamed = await api('PATCH', `/v1/me/devices/${bark.deviceId}`, { name: 'Phone' });
    expect(expectProblem(renamed, 400, 'validation_failed').errors).to.deep.equal([
      { path: '/settings/deviceKey', message: 'can no longer be read; enter it again' },
    ]);
    // An optional secret is not dropped either.
    const masked = await api('PATCH', `/v1/me/devices/${ntfy.deviceId}`, {
      settings: { topic: 'other', token: '********' },
    });
    expect(expectProblem(masked, 400, 'validation_failed').errors).to.deep.equal([
      { path: '/settings/token', message: 'can no longer be read; enter it again' },
    ]);
  });

  it('a PATCH that gives the secret again saves the device', async () => {
    const saved = await api<Device>('PATCH', `/v1/me/devices/${bark.deviceId}`, {
      name: 'Phone',
      settings: { deviceKey: 'KeyTypedAgain' },
    });
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
    expect(saved.body).to.deep.include({ name: 'Phone', broken: null });
    const renamed = await api<Device>('PATCH', `/v1/me/devices/${bark.deviceId}`, {
      name: 'Phone 2',
    });
    expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
  });

  it('a generated secret is made anew and shown once in the 200 answer', async () => {
    const saved = await api<Device & { secret?: string }>(
      'PATCH',
      `/v1/me/devices/${webhook.deviceId}`,
      { name: 'Hook' },
    );
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
    expect(saved.body.secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(saved.body.settings['secret']).to.equal('********');
    const again = await api<Device & { secret?: string }>(
      'PATCH',
      `/v1/me/devices/${webhook.deviceId}`,
      { name: 'Hook 2' },
    );
    expect(again.status).to.equal(200);
    expect(again.body.secret, 'shown once only').to.equal(undefined);
  });
});

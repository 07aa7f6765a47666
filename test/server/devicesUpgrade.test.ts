import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { DATABASE_FILE } from '../../adapters/sqlite/database.js';
import { recipientStreamName } from '../../domain/recipient/recipientDecider.js';
import { registerPerson } from '../support/httpFixtures.js';
import { appendAsBefore } from '../support/olderEvents.js';
import {
  bindPerson,
  createPipelineApp,
  deviceRef,
  sendAccepted,
  startPipelineServer,
  waitForBark,
} from '../support/pipeline.js';
import { call, type TestServer } from '../support/testServer.js';

/**
 * A data folder written before devices were generic: the person's Bark device exists only as the
 * old `RecipientBarkDeviceSet` event, and the recipients read model is the old version 2 with its
 * Bark columns. The new code rebuilds the read model at start, and the person's strong messages
 * still reach their Bark device, now the device `bark`.
 */
describe('upgrade: a data folder with a legacy Bark device starts on the generic devices', () => {
  let bark: BarkStandIn;
  let server: TestServer | undefined;

  before(async () => {
    bark = await startBarkServer();
  });
  after(async () => {
    await server?.dispose();
    await bark.close();
  });

  it('keeps the device (GET /v1/me, GET /v1/me/devices) and pushes strong messages to it', async () => {
    const first = await startPipelineServer();
    server = first;
    const app = await createPipelineApp(first);
    const person = await registerPerson(first);
    const who = await bindPerson(first, undefined, app, { person, level: 'strong' });
    const deviceKey = 'LegacyPhoneKey0123';
    bark.addDevice(deviceKey);
    // As the old code wrote it: the key in clear, no device id.
    const at = await appendAsBefore(first.tidings.store, recipientStreamName(person.recipientId), [
      {
        type: 'RecipientBarkDeviceSet',
        data: { recipientId: person.recipientId, serverUrl: bark.url, deviceKey },
      },
    ]);
    await Promise.all(first.tidings.runners.map((runner) => runner.waitFor(at)));
    await first.stop();

    // Put the read model back to the old layout, as a folder of the old code has it.
    const db = new Database(join(first.dir, DATABASE_FILE));
    try {
      db.exec(`DROP TABLE devices; DROP TABLE recipients;
        CREATE TABLE recipients (recipient_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
          password_hash TEXT NOT NULL, bark_server_url TEXT, bark_device_key TEXT, bark_broken TEXT,
          registered_at TEXT NOT NULL);
        UPDATE projection_versions SET version = 2 WHERE name = 'recipients';`);
    } finally {
      db.close();
    }

    server = await first.restart();
    const me = await call<{ devices: { bark?: { serverUrl: string } } }>(
      server.base,
      'GET',
      '/v1/me',
      { cookie: person.cookie },
    );
    expect(me.status).to.equal(200);
    expect(me.body.devices).to.deep.equal({ bark: { serverUrl: bark.url } });
    const devices = await call<{ items: { deviceId: string; kind: string; settings: unknown }[] }>(
      server.base,
      'GET',
      '/v1/me/devices',
      { cookie: person.cookie },
    );
    expect(devices.body.items.map((d) => [d.deviceId, d.kind, d.settings])).to.deep.equal([
      ['bark', 'bark', { serverUrl: bark.url, deviceKey: '********' }],
    ]);

    const messageId = await sendAccepted(server, app, {
      openid: who.openid,
      body: 'after upgrade',
    });
    const view = await waitForBark(server, app, messageId, 'delivered');
    expect(view.deliveries.find((d) => d.channel === 'bark')?.device).to.equal(
      deviceRef(who.bindingId, 'bark'),
    );
    expect(bark.notificationsOf(deviceKey).map((n) => n.body)).to.deep.equal(['after upgrade']);
  });
});

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { verifyExport } from '../../application/audit/exportVerification.js';
import { call, type TestServer } from '../support/testServer.js';
import {
  createPipelineApp,
  getMessage,
  inboxIds,
  startPipelineServer,
} from '../support/pipeline.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import { personWithHistory as historyOf } from '../support/erasureHistory.js';

const AUDIT_TOKEN = 'test-audit-token-0123456789abcdef';

interface AuditItem {
  readonly position: string;
  readonly stream: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** Every file of the data folder (the database, its write-ahead log, keys, tokens), byte-wise. */
const folderHolds = (dir: string, text: string): string[] => {
  const needle = Buffer.from(text, 'utf8');
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(needle));
};

describe('erasure of a person (DELETE /v1/me, DELETE /v1/admin/recipients/:id; docs/audit.md)', () => {
  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;
  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN } });
    app = await createPipelineApp(server);
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const audit = <T>(path: string) => call<T>(server.base, 'GET', path, { token: AUDIT_TOKEN });

  const personWithHistory = () => historyOf(bark, app, [server, server]);

  const verify = async () => {
    const reply = await audit<{ ok: boolean; checked: number; firstBadPosition?: number }>(
      '/v1/audit/verify',
    );
    expect(reply.status).to.equal(200);
    return reply.body;
  };

  it('erases the person from the log and every read model, revokes their apps, and the chain still verifies', async () => {
    const alice = await personWithHistory();
    const bob = await personWithHistory();
    const { person } = alice.bound;
    const bobsInbox = await inboxIds(server, bob.bound.person);
    expect(bobsInbox).to.have.length.greaterThan(0);

    // A wrong password deletes nothing.
    const wrong = await call(server.base, 'DELETE', '/v1/me', {
      cookie: person.cookie,
      body: { password: 'not the password' },
    });
    expect(wrong.status).to.equal(401);
    expect((await call(server.base, 'GET', '/v1/me', { cookie: person.cookie })).status).to.equal(
      200,
    );
    const missing = await call(server.base, 'DELETE', '/v1/me', {
      cookie: person.cookie,
      body: {},
    });
    expect(missing.status).to.equal(400);

    const deleted = await call(server.base, 'DELETE', '/v1/me', {
      cookie: person.cookie,
      body: { password: person.password },
    });
    expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
    expect(deleted.headers.get('set-cookie')).to.match(/tidings_session=;.*Max-Age=0/);

    // The account is gone: no session, no login, and the app learns to stop.
    expect((await call(server.base, 'GET', '/v1/me', { cookie: person.cookie })).status).to.equal(
      401,
    );
    const login = await call(server.base, 'POST', '/v1/auth/login', {
      body: { username: person.username, password: person.password },
    });
    expect(login.status).to.equal(401);
    const push = await call<{ code: string }>(server.base, 'POST', '/v1/messages', {
      token: app.appSecret,
      body: { key: alice.bound.key, body: 'still there?' },
    });
    expect(push.status).to.equal(410);
    expect(push.body.code).to.equal('binding_revoked');
    // The app still sees its message's status, without its contents.
    const status = await getMessage(server, app, alice.messageId);
    expect(JSON.stringify(status)).to.not.include(alice.traces.body);

    // The chain verifies, and the audit API shows [erased] where the data was.
    const report = await verify();
    expect(report.ok, JSON.stringify(report)).to.equal(true);
    const account = await audit<{ items: AuditItem[] }>(
      `/v1/audit/streams/recipient-${person.recipientId}`,
    );
    const byType = (type: string) => account.body.items.find((item) => item.type === type);
    expect(byType('RecipientRegistered')?.data).to.deep.include({
      username: '[erased]',
      passwordHash: '[erased]',
    });
    const device = byType('RecipientDeviceAdded')?.data;
    expect(device?.['settings']).to.deep.equal({ serverUrl: '[erased]' });
    expect(device?.['secrets']).to.deep.equal({ deviceKey: '[erased]' });
    expect(byType('RecipientErased')?.data).to.deep.equal({
      recipientId: person.recipientId,
      by: 'self',
    });
    const erasures = account.body.items.filter((item) => item.type === 'RecipientDataErased');
    expect(erasures).to.have.length.greaterThan(0);
    const trail = await audit<{ items: AuditItem[] }>(`/v1/audit/trail/${alice.messageId}`);
    const submitted = trail.body.items.find((item) => item.type === 'MessageSubmitted');
    expect(submitted?.data).to.deep.include({
      title: '[erased]',
      body: '[erased]',
      url: '[erased]',
      recipientId: person.recipientId,
    });
    const complaint = trail.body.items.find((item) => item.type === 'ComplaintFiled');
    expect(complaint?.data).to.deep.include({ reason: '[erased]', category: 'spam' });
    expect(trail.body.items.some((item) => item.type === 'BindingRevoked')).to.equal(false);

    // Bob is untouched: his inbox, his data in the log.
    expect(await inboxIds(server, bob.bound.person)).to.deep.equal(bobsInbox);
    const bobTrail = await audit<{ items: AuditItem[] }>(`/v1/audit/trail/${bob.messageId}`);
    expect(
      bobTrail.body.items.find((item) => item.type === 'MessageSubmitted')?.data,
    ).to.deep.include({ title: bob.traces.title, body: bob.traces.body });

    // An export verifies offline, erased events included.
    const exported = await fetch(`${server.base}/v1/audit/export`, {
      headers: { authorization: `Bearer ${AUDIT_TOKEN}` },
    });
    const offline = await verifyExport((await exported.text()).split('\n'));
    expect(offline.ok, JSON.stringify(offline)).to.equal(true);
    expect(offline.checked).to.equal(report.checked);

    // Nothing of Alice is left in any file of the data folder, while the server runs and after
    // it stopped; Bob's texts are (the search works).
    const aliceTexts = [person.username, ...Object.values(alice.traces)];
    for (const text of aliceTexts) {
      expect(folderHolds(server.dir, text), `${text} while running`).to.deep.equal([]);
    }
    await server.stop();
    for (const text of aliceTexts) {
      expect(folderHolds(server.dir, text), text).to.deep.equal([]);
    }
    for (const text of [bob.bound.person.username, bob.traces.title, bob.traces.complaint]) {
      expect(folderHolds(server.dir, text), text).to.not.deep.equal([]);
    }
    server = await server.restart();
    const again = await verify();
    expect(again.ok, JSON.stringify(again)).to.equal(true);
  });

  it('an operator deletes an account with a reason; again is 204, an unknown one 404, no reason 400', async () => {
    const carol = await personWithHistory();
    const { recipientId } = carol.bound.person;
    const path = `/v1/admin/recipients/${recipientId}`;
    const noReason = await call<{ code: string }>(server.base, 'DELETE', path, {
      token: server.adminToken,
      body: {},
    });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.code).to.equal('validation_failed');
    const blankReason = await call(server.base, 'DELETE', path, {
      token: server.adminToken,
      body: { reason: '   ' },
    });
    expect(blankReason.status).to.equal(400);
    const asApp = await call(server.base, 'DELETE', path, {
      token: app.appSecret,
      body: { reason: 'court order 17' },
    });
    expect(asApp.status).to.equal(401);
    const deleted = await call(server.base, 'DELETE', path, {
      token: server.adminToken,
      body: { reason: 'court order 17' },
    });
    expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
    const again = await call(server.base, 'DELETE', path, {
      token: server.adminToken,
      body: { reason: 'court order 17' },
    });
    expect(again.status).to.equal(204);
    const unknown = await call<{ code: string }>(
      server.base,
      'DELETE',
      '/v1/admin/recipients/rcp_nobody',
      { token: server.adminToken, body: { reason: 'court order 17' } },
    );
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal('not_found');

    const account = await audit<{ items: AuditItem[] }>(
      `/v1/audit/streams/recipient-${recipientId}`,
    );
    const erased = account.body.items.filter((item) => item.type === 'RecipientErased');
    expect(erased.map((item) => item.data)).to.deep.equal([
      { recipientId, by: 'operator', reason: 'court order 17' },
    ]);
    const push = await call(server.base, 'POST', '/v1/messages', {
      token: app.appSecret,
      body: { key: carol.bound.key, body: 'still there?' },
    });
    expect(push.status).to.equal(410);
    expect(
      (await call(server.base, 'GET', '/v1/me', { cookie: carol.bound.person.cookie })).status,
    ).to.equal(401);
    const report = await verify();
    expect(report.ok, JSON.stringify(report)).to.equal(true);
  });
});

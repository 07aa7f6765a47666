import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../../devtools/barkServer.js';
import type { JsonSchema } from '../../../../adapters/http/codecs.js';
import { personWithHistory, type Traces } from '../../../support/erasureHistory.js';
import {
  createApp,
  expectNoNewEvents,
  expectProblem,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../../../support/httpFixtures.js';
import { validate } from '../../../support/jsonSchemaCheck.js';
import {
  bindPerson,
  CALLBACK,
  createPipelineApp,
  inboxIds,
  sendAccepted,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
} from '../../../support/pipeline.js';
import { call, type TestServer } from '../../../support/testServer.js';
import { unique } from '../../../support/unique.js';

/** The export document, as far as these tests read it. */
interface Exported {
  readonly format: string;
  readonly exportedAt: string;
  readonly account: { recipientId: string; username: string; createdAt: string };
  readonly preferences: Record<string, unknown>;
  readonly bindings: {
    bindingId: string;
    appId: string;
    appName: string;
    openid: string;
    level: string;
    status: string;
    authorizedAt: string;
    revokedAt: string | null;
    devices: string[] | null;
  }[];
  readonly devices: {
    deviceId: string;
    kind: string;
    name: string;
    settings: Record<string, unknown>;
  }[];
  readonly inbox: {
    messageId: string;
    appName: string;
    title: string | null;
    body: string;
    url: string | null;
    receivedAt: string;
    readAt: string | null;
    archivedAt: string | null;
    deliveries: { channel: string; deviceId?: string; status: string }[];
  }[];
  readonly complaints: {
    complaintId: string;
    messageId: string;
    appName: string | null;
    reason: string;
    status: string;
  }[];
}

/** `GET /v1/me/export` as the person: status, headers, the raw text and the parsed document. */
const exportOf = async (
  server: TestServer,
  who: Person,
): Promise<{ status: number; headers: Headers; text: string; document: Exported }> => {
  const response = await fetch(`${server.base}/v1/me/export`, {
    headers: { cookie: who.cookie },
  });
  const text = await response.text();
  expect(response.status, text).to.equal(200);
  return {
    status: response.status,
    headers: response.headers,
    text,
    document: JSON.parse(text) as Exported,
  };
};

/** GET /v1/me/export over HTTP: everything of the person, nothing of anyone else. */
describe('HTTP data export API (GET /v1/me/export)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;
  let shop: CreatedApp;
  /** The person exporting, with a Bark device, a delivered message, a complaint and a note. */
  let owner: BoundPerson;
  let traces: Traces;
  let complainedId: string;
  let noteId: string;
  let revokedBindingId: string;
  const NTFY_TOKEN = unique('tk_ntfy_secret_');
  /** Someone else with their own binding, device, messages and complaint. */
  let other: BoundPerson;
  const otherTraces = {
    body: unique('other-body-'),
    title: unique('other-title-'),
    complaint: unique('other-complaint-'),
  };
  let otherMessageId: string;

  before(async () => {
    server = await startPipelineServer();
    bark = await startBarkServer();
    app = await createPipelineApp(server);
    shop = await createApp(server, { name: 'Corner shop', redirectUris: [CALLBACK] });

    const history = await personWithHistory(bark, app, [server, server]);
    owner = history.bound;
    traces = history.traces;
    complainedId = history.messageId;
    const ids = await inboxIds(server, owner.person);
    noteId = ids.find((id) => id !== complainedId) ?? '';
    expect(noteId).to.not.equal('');
    // Read, then archived: it leaves the inbox view, not the export.
    const me = { cookie: owner.person.cookie };
    expect((await call(server.base, 'POST', `/v1/me/inbox/${noteId}/read`, me)).status).to.equal(
      204,
    );
    expect((await call(server.base, 'DELETE', `/v1/me/inbox/${noteId}`, me)).status).to.equal(204);
    const ntfy = await call(server.base, 'POST', '/v1/me/devices', {
      ...me,
      body: {
        kind: 'ntfy',
        name: 'Laptop',
        settings: { serverUrl: 'http://127.0.0.1:9', topic: 'orders', token: NTFY_TOKEN },
      },
    });
    expect(ntfy.status, JSON.stringify(ntfy.body)).to.equal(201);
    const prefs = await call(server.base, 'PUT', '/v1/me/preferences', {
      ...me,
      body: { locale: 'zh-CN', timeZone: 'Asia/Shanghai', quietHours: null, digest: null },
    });
    expect(prefs.status, JSON.stringify(prefs.body)).to.equal(200);
    // An app allowed and then unbound.
    const unbound = await bindPerson(server, undefined, shop, {
      person: owner.person,
      level: 'weak',
    });
    revokedBindingId = unbound.bindingId;
    expect(
      (await call(server.base, 'DELETE', `/v1/me/apps/${revokedBindingId}`, me)).status,
    ).to.equal(204);

    other = await bindPerson(server, bark, app, { level: 'weak' });
    otherMessageId = await sendAccepted(server, app, {
      key: other.key,
      title: otherTraces.title,
      body: otherTraces.body,
    });
    await waitUntil(
      () => inboxIds(server, other.person),
      (list) => list.includes(otherMessageId),
      "the other person's message",
    );
    const filed = await call(server.base, 'POST', `/v1/me/inbox/${otherMessageId}/complaints`, {
      cookie: other.person.cookie,
      body: { category: 'abuse', reason: otherTraces.complaint },
    });
    expect(filed.status, JSON.stringify(filed.body)).to.equal(201);
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('needs a session', async () => {
    expectProblem(await call(server.base, 'GET', '/v1/me/export'), 401, 'unauthorized');
    expectProblem(
      await call(server.base, 'GET', '/v1/me/export', { cookie: 'tidings_session=nope' }),
      401,
      'unauthorized',
    );
  });

  it('answers a JSON file named tidings-export-<username>-<date>.json, and writes nothing', async () => {
    const got = await expectNoNewEvents(server.tidings, () => exportOf(server, owner.person));
    expect(got.headers.get('content-type')).to.match(/^application\/json\b/);
    const day = got.document.exportedAt.slice(0, 10);
    expect(day).to.match(/^\d{4}-\d{2}-\d{2}$/);
    expect(got.headers.get('content-disposition')).to.equal(
      `attachment; filename="tidings-export-${owner.person.username}-${day}.json"`,
    );
    expect(got.document.format).to.equal('tidings-export/1');
    expect(Date.parse(got.document.exportedAt)).to.be.closeTo(Date.now(), 60_000);
  });

  it('holds the account and the preferences', async () => {
    const { document } = await exportOf(server, owner.person);
    expect(document.account).to.include({
      recipientId: owner.person.recipientId,
      username: owner.person.username,
    });
    expect(Date.parse(document.account.createdAt)).to.be.above(0);
    expect(document.preferences).to.deep.equal({
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      quietHours: null,
      digest: null,
    });
  });

  it('holds every binding, the revoked one too, with its app and times', async () => {
    const { document } = await exportOf(server, owner.person);
    const active = document.bindings.find((b) => b.bindingId === owner.bindingId);
    expect(active).to.deep.include({
      appId: app.appId,
      appName: app.name,
      openid: owner.openid,
      level: 'strong',
      status: 'active',
      revokedAt: null,
      devices: null,
    });
    const revoked = document.bindings.find((b) => b.bindingId === revokedBindingId);
    expect(revoked).to.deep.include({ appName: 'Corner shop', level: 'weak', status: 'revoked' });
    expect(Date.parse(revoked?.revokedAt ?? '')).to.be.at.least(
      Date.parse(revoked?.authorizedAt ?? ''),
    );
    expect(document.bindings).to.have.length(2);
  });

  it('holds the devices with every secret setting masked, the raw secrets nowhere', async () => {
    const { document, text } = await exportOf(server, owner.person);
    const barkDevice = document.devices.find((d) => d.kind === 'bark');
    expect(barkDevice?.settings).to.deep.equal({ serverUrl: bark.url, deviceKey: '********' });
    const ntfy = document.devices.find((d) => d.kind === 'ntfy');
    expect(ntfy).to.deep.include({ name: 'Laptop' });
    expect(ntfy?.settings).to.deep.include({ topic: 'orders', token: '********' });
    expect(text).to.not.include(owner.deviceKey);
    expect(text).to.not.include(NTFY_TOKEN);
    // Nor the app's credentials or the binding's key.
    expect(text).to.not.include(app.appSecret);
    expect(text).to.not.include(owner.key);
    expect(text).to.not.match(/key_?hash|password|fingerprint/i);
  });

  it('holds every message of the inbox, archived and complained-about ones too, with deliveries', async () => {
    const { document } = await exportOf(server, owner.person);
    const ids = document.inbox.map((m) => m.messageId);
    expect(ids).to.have.members([complainedId, noteId]);
    const complained = document.inbox.find((m) => m.messageId === complainedId);
    expect(complained).to.deep.include({
      appName: app.name,
      title: traces.title,
      body: traces.body,
      url: traces.url,
      archivedAt: null,
    });
    const barkId = document.devices.find((d) => d.kind === 'bark')?.deviceId;
    expect(complained?.deliveries.map((d) => [d.channel, d.deviceId, d.status])).to.deep.include([
      'bark',
      barkId,
      'delivered',
    ]);
    expect(complained?.deliveries.map((d) => d.channel)).to.include('inbox');
    const note = document.inbox.find((m) => m.messageId === noteId);
    expect(note?.body).to.equal(traces.note);
    expect(note?.readAt).to.be.a('string');
    expect(note?.archivedAt).to.be.a('string');
    // Newest first.
    const times = document.inbox.map((m) => m.receivedAt);
    expect(times).to.deep.equal([...times].sort().reverse());
  });

  it('holds the person’s own complaints with their texts', async () => {
    const { document } = await exportOf(server, owner.person);
    expect(document.complaints).to.have.length(1);
    expect(document.complaints[0]).to.deep.include({
      messageId: complainedId,
      appName: app.name,
      reason: traces.complaint,
      status: 'open',
    });
  });

  it('holds nothing of anyone else: not their name, messages, ids, device or complaint', async () => {
    const { text } = await exportOf(server, owner.person);
    for (const [what, value] of Object.entries({
      username: other.person.username,
      recipientId: other.person.recipientId,
      bindingId: other.bindingId,
      openid: other.openid,
      deviceKey: other.deviceKey,
      messageId: otherMessageId,
      title: otherTraces.title,
      body: otherTraces.body,
      complaint: otherTraces.complaint,
    })) {
      expect(text, `the other person's ${what}`).to.not.include(value);
    }
    // And the other person's export is theirs alone.
    const theirs = await exportOf(server, other.person);
    expect(theirs.document.account.username).to.equal(other.person.username);
    expect(theirs.document.inbox.map((m) => m.messageId)).to.deep.equal([otherMessageId]);
    expect(theirs.document.complaints.map((c) => c.reason)).to.deep.equal([otherTraces.complaint]);
    expect(theirs.text).to.not.include(owner.person.username);
    expect(theirs.text).to.not.include(traces.body);
  });

  it('matches the schema /openapi.json documents for it', async () => {
    const openapi = await call<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>(server.base, 'GET', '/openapi.json');
    const answer = openapi.body.paths['/v1/me/export']?.['get']?.responses['200'] as
      { content: Record<string, { schema: JsonSchema }> } | undefined;
    const schema = answer?.content['application/json']?.schema;
    expect(schema, 'the documented 200 body').to.not.equal(undefined);
    const { document } = await exportOf(server, owner.person);
    expect(validate(openapi.body, schema ?? {}, document)).to.deep.equal([]);
  });

  it('names the file in UTF-8 too when the username is not ASCII, and exports an empty inbox', async () => {
    const person = await registerPerson(server, `小林_${Date.now().toString(36)}`);
    const got = await exportOf(server, person);
    const day = got.document.exportedAt.slice(0, 10);
    const name = `tidings-export-${person.username}-${day}.json`;
    expect(got.headers.get('content-disposition')).to.equal(
      `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    );
    expect(got.document.account.username).to.equal(person.username);
    expect(got.document.inbox).to.deep.equal([]);
    expect(got.document.bindings).to.deep.equal([]);
    expect(got.document.devices).to.deep.equal([]);
    expect(got.document.complaints).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { SYSTEM_APP_ID } from '../../../../domain/app/systemApp.js';
import type { Position } from '../../../../domain/shared/eventStore.js';
import { startBarkServer, type BarkStandIn } from '../../../../devtools/barkServer.js';
import {
  createApp,
  expectNoNewEvents,
  expectProblem,
  registerPerson,
  sha256Hex,
  type Person,
} from '../../../support/httpFixtures.js';
import { inboxIds, startPipelineServer, waitUntil } from '../../../support/pipeline.js';
import { call, type TestServer } from '../../../support/testServer.js';
import { unique } from '../../../support/unique.js';

/**
 * The built-in app "Tidings" test pushes come from (domain/app/systemApp.ts) reaches everyone who
 * ever sent themselves one, at level strong: nobody may act as it through the app API, rotate its
 * secret, or take its standing away with complaints.
 */
describe('HTTP: the built-in app Tidings', function () {
  this.timeout(30_000);
  let server: TestServer;
  let bark: BarkStandIn;
  let person: Person;
  let testPushId: string;

  /** Sends the person a test push and waits until Bark has it; answers its message id. */
  const sendTestPush = async (): Promise<string> => {
    const sent = await call<{ messageId: string; status: string; level: string }>(
      server.base,
      'POST',
      '/v1/me/test-push',
      { cookie: person.cookie },
    );
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    expect(sent.body).to.include({ status: 'accepted', level: 'strong' });
    await waitUntil(
      () =>
        call<{ status: string; deliveries: { channel: string; status: string }[] }>(
          server.base,
          'GET',
          `/v1/me/test-push/${sent.body.messageId}`,
          { cookie: person.cookie },
        ),
      (reply) =>
        reply.body.deliveries.some((d) => d.channel === 'bark' && d.status === 'delivered'),
      'the test push on Bark',
    );
    return sent.body.messageId;
  };

  /** Appends events as an older server wrote them, and waits until every read model has them. */
  const appendAsBefore = async (
    stream: string,
    events: readonly { type: string; data: unknown }[],
  ): Promise<void> => {
    const appended = await server.tidings.store.appendToStream(
      stream,
      events.map((event) => ({
        id: randomUUID(),
        ...event,
        metadata: {
          occurredAt: new Date().toISOString(),
          actor: { kind: 'operator', id: 'older-server' },
          correlationId: stream,
          causationId: stream,
          schemaVersion: 1,
        },
      })),
      { expectedRevision: 'any' },
    );
    if (appended._tag === 'Left') expect.fail(`append failed: ${JSON.stringify(appended.left)}`);
    const head: Position = appended.right.position;
    await Promise.all(server.tidings.runners.map((runner) => runner.waitFor(head)));
  };

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer();
    person = await registerPerson(server);
    const deviceKey = unique('Dev');
    bark.addDevice(deviceKey);
    const put = await call(server.base, 'PUT', '/v1/me/devices/bark', {
      cookie: person.cookie,
      body: { serverUrl: bark.url, deviceKey },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    testPushId = await sendTestPush();
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('refuses to rotate its secret: 403 forbidden, no secret shown, nothing written', async () => {
    const reply = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', `/v1/admin/apps/${SYSTEM_APP_ID}/secret`, {
        token: server.adminToken,
      }),
    );
    const body = expectProblem(reply, 403, 'forbidden');
    expect(body.detail).to.match(/built-in app Tidings/);
    expect(body['appId']).to.equal(SYSTEM_APP_ID);
    expect(body).to.not.have.property('appSecret');
  });

  it('authenticates no app credential as it, even a secret an older server rotated it to', async () => {
    const secret = `tds_${randomUUID()}`;
    await appendAsBefore(`app-${SYSTEM_APP_ID}`, [
      { type: 'AppSecretRotated', data: { appId: SYSTEM_APP_ID, secretHash: sha256Hex(secret) } },
    ]);
    // The same kind of rotation for an ordinary app does take effect: the refusals below are the
    // rule's, not a read model that missed the event.
    const ordinary = await createApp(server);
    const ordinarySecret = `tds_${randomUUID()}`;
    await appendAsBefore(`app-${ordinary.appId}`, [
      {
        type: 'AppSecretRotated',
        data: { appId: ordinary.appId, secretHash: sha256Hex(ordinarySecret) },
      },
    ]);
    expect((await call(server.base, 'GET', '/v1/app', { token: ordinarySecret })).status).to.equal(
      200,
    );

    const pushes = bark.requests.length;
    const attempts = await expectNoNewEvents(server.tidings, async () => [
      await call(server.base, 'POST', '/v1/messages', {
        token: secret,
        body: { openid: person.recipientId, title: 'Tidings', body: 'Log in here: …' },
      }),
      await call(server.base, 'POST', '/v1/messages/batch', {
        token: secret,
        body: { messages: [{ openid: person.recipientId, body: 'Log in here: …' }] },
      }),
      await call(server.base, 'GET', '/v1/app', { token: secret }),
      await call(server.base, 'GET', `/v1/bindings?openid=${person.recipientId}`, {
        token: secret,
      }),
      await call(server.base, 'GET', `/v1/messages/${testPushId}`, { token: secret }),
      await call(server.base, 'DELETE', `/v1/messages/${testPushId}`, { token: secret }),
    ]);
    for (const reply of attempts) expectProblem(reply, 401, 'unauthorized');
    expect(bark.requests.length, 'requests Bark received').to.equal(pushes);

    // Test pushes themselves still go out.
    await sendTestPush();
  });

  it('refuses complaints about its messages: 403 forbidden, nothing written', async () => {
    expect(await inboxIds(server, person)).to.include(testPushId);
    const reply = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', `/v1/me/inbox/${testPushId}/complaints`, {
        cookie: person.cookie,
        body: { category: 'spam', reason: 'I did not ask for this' },
      }),
    );
    expect(expectProblem(reply, 403, 'forbidden').detail).to.match(/My apps/);
    expect(await inboxIds(server, person), 'the test push stays in the inbox').to.include(
      testPushId,
    );
  });

  it('a complaint about it filed before this rule cannot be upheld (403), only dismissed', async () => {
    const complaintId = `cmp_${randomUUID()}`;
    await appendAsBefore(`complaint-${complaintId}`, [
      {
        type: 'ComplaintFiled',
        data: {
          complaintId,
          messageId: testPushId,
          appId: SYSTEM_APP_ID,
          recipientId: person.recipientId,
          category: 'abuse',
          reason: 'filed before the rule',
        },
      },
    ]);
    const upheld = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', `/v1/admin/complaints/${complaintId}/uphold`, {
        token: server.adminToken,
        body: { severity: 'severe' },
      }),
    );
    expectProblem(upheld, 403, 'forbidden');
    const dismissed = await call(
      server.base,
      'POST',
      `/v1/admin/complaints/${complaintId}/dismiss`,
      {
        token: server.adminToken,
        body: {},
      },
    );
    expect([dismissed.status, dismissed.body]).to.deep.equal([200, { status: 'dismissed' }]);
    const app = await call<{ score: number; status: string }>(
      server.base,
      'GET',
      `/v1/admin/apps/${SYSTEM_APP_ID}`,
      { token: server.adminToken },
    );
    expect(app.body).to.include({ status: 'active', score: 100 });
  });

  it('shows it to the operator, who can reinstate it where an older server let it be suspended', async () => {
    await appendAsBefore(`app-${SYSTEM_APP_ID}`, [
      {
        type: 'AppSuspended',
        data: {
          appId: SYSTEM_APP_ID,
          until: new Date(Date.now() + 86_400_000).toISOString(),
          reason: 'complaint_surge',
          complaintIds: [],
        },
      },
    ]);
    const refused = await call(server.base, 'POST', '/v1/me/test-push', { cookie: person.cookie });
    expectProblem(refused, 403, 'app_suspended');
    const reinstated = await call(
      server.base,
      'POST',
      `/v1/admin/apps/${SYSTEM_APP_ID}/reinstate`,
      {
        token: server.adminToken,
        body: { note: 'suspended by an older server' },
      },
    );
    expect([reinstated.status, reinstated.body]).to.deep.equal([200, { status: 'active' }]);
    const listed = await call<{ items: { appId: string; name: string; status: string }[] }>(
      server.base,
      'GET',
      '/v1/admin/apps?sort=name',
      { token: server.adminToken },
    );
    expect(listed.body.items.find((item) => item.appId === SYSTEM_APP_ID)).to.include({
      name: 'Tidings',
      status: 'active',
    });
    await waitUntil(
      () =>
        call(server.base, 'GET', `/v1/admin/apps/${SYSTEM_APP_ID}`, { token: server.adminToken }),
      (reply) => (reply.body as { status?: string }).status === 'active',
      'the reinstatement in the read model',
    );
    await sendTestPush();
  });
});

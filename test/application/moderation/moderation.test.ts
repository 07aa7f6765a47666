import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  APP_ID,
  APP_SECRET,
  closedPortBase,
  startFakeWechat,
  type FakeWechat,
} from '../../../devtools/wechatServer.js';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { expectProblem, type CreatedApp } from '../../support/httpFixtures.js';
import {
  barkBodiesFor,
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  getMessage,
  inboxOf,
  messageEventTypes,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForStatus,
  type BoundPerson,
} from '../../support/pipeline.js';
import { call, type TestServer } from '../../support/testServer.js';

interface HeldItem {
  readonly messageId: string;
  readonly appId: string;
  readonly body: string;
  readonly policy: string | null;
  readonly reason: string | null;
}

const wechatEnv = (base: string): Record<string, string> => ({
  TIDINGS_WECHAT_APPID: APP_ID,
  TIDINGS_WECHAT_SECRET: APP_SECRET,
  TIDINGS_WECHAT_API_BASE: base,
});

/** The terms of the bundled denylist (one a line; blank lines and `#` comments ignored). */
const bundledDenylist = (): string[] =>
  readFileSync(
    new URL('../../../adapters/moderation/default-denylist.txt', import.meta.url),
    'utf8',
  )
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

/** The moderation stage end to end: denylist rejection, WeChat holds and operator review. */
describe('pipeline: moderation', function () {
  this.timeout(30_000);

  let bark: BarkStandIn;

  before(async () => {
    bark = await startBarkServer();
  });

  after(async () => {
    await bark.close();
  });

  const heldList = async (server: TestServer): Promise<HeldItem[]> => {
    const reply = await call<{ items: HeldItem[] }>(
      server.base,
      'GET',
      '/v1/admin/moderation/held',
      { token: server.adminToken },
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    return reply.body.items;
  };

  /** Checks that nothing of a message reached the person, and that it was never routed. */
  const expectNotDelivered = async (
    server: TestServer,
    app: CreatedApp,
    who: BoundPerson,
    messageId: string,
  ): Promise<void> => {
    const view = await getMessage(server, app, messageId);
    expect(view.deliveries).to.deep.equal([]);
    const types = await messageEventTypes(server, messageId);
    expect(types).to.not.include('MessageApproved');
    expect(types).to.not.include('MessageRouted');
    expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.not.include(messageId);
    expect(barkBodiesFor(bark, who.deviceKey)).to.deep.equal([]);
  };

  describe('with the WeChat checker answering', () => {
    let server: TestServer;
    let wechat: FakeWechat;
    let app: CreatedApp;

    before(async () => {
      wechat = await startFakeWechat();
      server = await startPipelineServer({ env: wechatEnv(wechat.base) });
      app = await createPipelineApp(server, 'Moderated app');
    });

    after(async () => {
      await server.dispose();
      await wechat.close();
    });

    it('rejects a message with a term of the bundled denylist, with the reason, and delivers nothing', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const term = '刷单';
      expect(bundledDenylist()).to.include(term);
      const checksBefore = wechat.checks.length;
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        title: '兼职',
        body: `在家${term}，日结三百`,
      });
      const view = await waitForStatus(server, app, messageId, 'rejected');
      expect(view.reason).to.be.a('string').and.include(term);
      expect(await messageEventTypes(server, messageId)).to.deep.equal([
        'MessageSubmitted',
        'MessageRejected',
      ]);
      await expectNotDelivered(server, app, who, messageId);
      // The cheap local policy decided; the external checker was not asked.
      expect(wechat.checks.length).to.equal(checksBefore);
    });

    it('holds a message WeChat wants reviewed; an operator approves it and it is delivered', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        title: 'Offer',
        body: 'A special offer for you [review:20002]',
      });
      const held = await waitForStatus(server, app, messageId, 'held');
      expect(held.reason)
        .to.be.a('string')
        .and.match(/review/i);
      const check = wechat.checks.find((c) => String(c.body['content']).includes('[review:20002]'));
      expect(check?.body['openid'], 'the binding openid sent to WeChat').to.equal(who.openid);

      const listed = (await heldList(server)).find((item) => item.messageId === messageId);
      expect(listed).to.deep.include({
        appId: app.appId,
        body: 'A special offer for you [review:20002]',
        policy: 'wechat',
      });
      expect(listed?.reason).to.match(/review/i);
      // Held means waiting for a person: nothing is delivered meanwhile.
      await expectNotDelivered(server, app, who, messageId);

      const approved = await call(
        server.base,
        'POST',
        `/v1/admin/moderation/${messageId}/approve`,
        { token: server.adminToken },
      );
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      expect(approved.body).to.deep.equal({ status: 'approved' });

      const view = await waitForBark(server, app, messageId, 'delivered');
      expect(view.status).to.equal('delivered');
      expect(barkPushesFor(bark, who.deviceKey).map((p) => p['body'])).to.deep.equal([
        'A special offer for you [review:20002]',
      ]);
      expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([
        messageId,
      ]);
      expect((await heldList(server)).map((item) => item.messageId)).to.not.include(messageId);
    });

    it('holds another one; an operator rejects it with a reason and it is never delivered', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'Questionable [review:20006]',
      });
      await waitForStatus(server, app, messageId, 'held');

      const rejected = await call(server.base, 'POST', `/v1/admin/moderation/${messageId}/reject`, {
        token: server.adminToken,
        body: { reason: 'misleading offer' },
      });
      expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
      expect(rejected.body).to.deep.equal({ status: 'rejected' });

      const view = await getMessage(server, app, messageId);
      expect(view.status).to.equal('rejected');
      expect(view.reason).to.equal('misleading offer');
      expect((await heldList(server)).map((item) => item.messageId)).to.not.include(messageId);
      await expectNotDelivered(server, app, who, messageId);

      // A rejected message cannot be approved after all.
      expectProblem(
        await call(server.base, 'POST', `/v1/admin/moderation/${messageId}/approve`, {
          token: server.adminToken,
        }),
        422,
        'illegal_state',
      );
    });

    it('lets a message WeChat passes through', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'Your parcel has arrived',
      });
      await waitForBark(server, app, messageId, 'delivered');
      const check = wechat.checks.find((c) => c.body['content'] === 'Your parcel has arrived');
      expect(check?.body['openid']).to.equal(who.openid);
    });
  });

  describe('with the WeChat checker down', () => {
    let server: TestServer;
    let app: CreatedApp;

    before(async () => {
      server = await startPipelineServer({ env: wechatEnv(await closedPortBase()) });
      app = await createPipelineApp(server, 'Unchecked app');
    });

    after(async () => {
      await server.dispose();
    });

    it('holds every message it could not check, and never approves it by itself', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'An ordinary update',
      });
      const view = await waitForStatus(server, app, messageId, 'held');
      expect(view.reason)
        .to.be.a('string')
        .and.match(/^checker unavailable/);
      const listed = (await heldList(server)).find((item) => item.messageId === messageId);
      expect(listed?.policy).to.equal('wechat');
      // Only an operator moves a held message on: the log holds no approval.
      expect(await messageEventTypes(server, messageId)).to.deep.equal([
        'MessageSubmitted',
        'MessageHeldForReview',
      ]);
      await expectNotDelivered(server, app, who, messageId);
    });
  });
});

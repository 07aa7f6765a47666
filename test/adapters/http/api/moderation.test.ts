import { expect } from 'chai';
import {
  APP_ID,
  APP_SECRET,
  startFakeWechat,
  type FakeWechat,
} from '../../../../devtools/wechatServer.js';
import { expectProblem, fromNow, type CreatedApp } from '../../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  deliver,
  messageEventTypes,
  sendAccepted,
  startPipelineServer,
  waitForMessage,
  waitForStatus,
  type BoundPerson,
} from '../../../support/pipeline.js';
import { call, type Reply, type TestServer } from '../../../support/testServer.js';

/**
 * The operator's review routes (adapters/http/api/moderationRoutes.ts): a verdict is an answer to
 * a hold, so only a message held now can be approved or rejected; anything else is 422
 * `illegal_state` and writes nothing.
 */
describe('HTTP operator API: moderation review', function () {
  this.timeout(30_000);
  let server: TestServer;
  let wechat: FakeWechat;
  let app: CreatedApp;
  let who: BoundPerson;

  before(async () => {
    wechat = await startFakeWechat();
    server = await startPipelineServer({
      env: {
        TIDINGS_WECHAT_APPID: APP_ID,
        TIDINGS_WECHAT_SECRET: APP_SECRET,
        TIDINGS_WECHAT_API_BASE: wechat.base,
      },
    });
    app = await createPipelineApp(server, 'Reviewed app');
    // No device: a delivered message is in the inbox at once and nothing follows in the background.
    who = await bindWithoutDevice(server, app);
  });

  after(async () => {
    await server.dispose();
    await wechat.close();
  });

  const approve = (messageId: string): Promise<Reply> =>
    call(server.base, 'POST', `/v1/admin/moderation/${messageId}/approve`, {
      token: server.adminToken,
    });
  const reject = (messageId: string): Promise<Reply> =>
    call(server.base, 'POST', `/v1/admin/moderation/${messageId}/reject`, {
      token: server.adminToken,
      body: { reason: 'misleading offer' },
    });

  /** Sends a message WeChat wants reviewed and waits until it is held. */
  const heldMessage = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const messageId = await sendAccepted(
      server,
      app,
      { key: who.key, body: 'A special offer for you [review:20002]', ...extra },
      extra['deliverAt'] === undefined ? 'accepted' : 'scheduled',
    );
    await waitForStatus(server, app, messageId, 'held');
    return messageId;
  };

  /** Expects a verdict refused as 422 illegal_state naming `status`, the message unchanged. */
  const expectRefused = async (
    verdict: (messageId: string) => Promise<Reply>,
    messageId: string,
    status: string,
  ): Promise<void> => {
    const before = await messageEventTypes(server, messageId);
    const body = expectProblem(await verdict(messageId), 422, 'illegal_state');
    expect(body.detail, 'names the status the message is in').to.equal(
      `only a held message can be ${verdict === approve ? 'approved' : 'rejected'}; this one is ${status}`,
    );
    expect(body['messageId']).to.equal(messageId);
    expect(body['state'], 'the state as an extension member').to.equal(status);
    expect(await messageEventTypes(server, messageId), 'events of the message').to.deep.equal(
      before,
    );
  };

  it('refuses to approve or reject a message that was never held (the policies approved it)', async () => {
    const messageId = await deliver(server, app, who, 'Your parcel has arrived');
    expect(await messageEventTypes(server, messageId)).to.deep.equal([
      'MessageSubmitted',
      'MessageApproved',
      'MessageRouted',
      'MessageDelivered',
    ]);
    await expectRefused(approve, messageId, 'delivered');
    await expectRefused(reject, messageId, 'delivered');
  });

  it('approves a held message once; approving again or rejecting it then is refused', async () => {
    const messageId = await heldMessage();
    const approved = await approve(messageId);
    expect([approved.status, approved.body]).to.deep.equal([200, { status: 'approved' }]);
    await waitForMessage(server, app, messageId, (view) => view.status === 'delivered', 'inbox');
    await expectRefused(approve, messageId, 'delivered');
    await expectRefused(reject, messageId, 'delivered');
    const events = await server.tidings.store.readStream(`message-${messageId}`);
    expect(events.filter((event) => event.type === 'MessageApproved')).to.have.length(1);
  });

  it('rejects a held message once; rejecting again or approving it then is refused', async () => {
    const messageId = await heldMessage();
    const rejected = await reject(messageId);
    expect([rejected.status, rejected.body]).to.deep.equal([200, { status: 'rejected' }]);
    await expectRefused(reject, messageId, 'rejected');
    await expectRefused(approve, messageId, 'rejected');
    expect(await messageEventTypes(server, messageId)).to.deep.equal([
      'MessageSubmitted',
      'MessageHeldForReview',
      'MessageRejected',
    ]);
  });

  it('refuses a verdict on a message recalled after its approval', async () => {
    const messageId = await heldMessage();
    expect((await approve(messageId)).status).to.equal(200);
    await waitForMessage(server, app, messageId, (view) => view.status === 'delivered', 'inbox');
    const recalled = await call(server.base, 'DELETE', `/v1/messages/${messageId}`, {
      token: app.appSecret,
    });
    expect([recalled.status, recalled.body]).to.deep.equal([200, { status: 'recalled' }]);
    await expectRefused(approve, messageId, 'recalled');
    await expectRefused(reject, messageId, 'recalled');
  });

  it('refuses a verdict on a held message the app cancelled meanwhile', async () => {
    const messageId = await heldMessage({ deliverAt: fromNow(3_600_000) });
    const cancelled = await call(server.base, 'DELETE', `/v1/messages/${messageId}`, {
      token: app.appSecret,
    });
    expect([cancelled.status, cancelled.body]).to.deep.equal([200, { status: 'cancelled' }]);
    await waitForStatus(server, app, messageId, 'cancelled');
    await expectRefused(approve, messageId, 'cancelled');
    await expectRefused(reject, messageId, 'cancelled');
  });

  it('answers 404 not_found for a message that does not exist', async () => {
    expectProblem(await approve('msg_nothing_here'), 404, 'not_found');
    expectProblem(await reject('msg_nothing_here'), 404, 'not_found');
  });
});

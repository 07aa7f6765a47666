import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { expectProblem, fromNow, type CreatedApp } from '../../support/httpFixtures.js';
import {
  barkPushesFor,
  barkRequestCount,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  inboxOf,
  messageEvents,
  messageEventTypes,
  send,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForMessage,
  waitForStatus,
  type BoundPerson,
} from '../../support/pipeline.js';
import { call, type TestServer } from '../../support/testServer.js';

/**
 * The person's preferences applied at delivery (docs/architecture.md levels and protections,
 * docs/bark.md "Mapping in Tidings"), end to end over HTTP with the Bark stand-in.
 */
describe('pipeline: preferences at delivery', function () {
  this.timeout(30_000);

  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_PUSH_BUDGET_PER_HOUR: '2' } });
    app = await createPipelineApp(server, 'Prefs app');
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const patchBinding = async (who: BoundPerson, body: Record<string, unknown>): Promise<void> => {
    const reply = await call(server.base, 'PATCH', `/v1/me/apps/${who.bindingId}`, {
      cookie: who.person.cookie,
      body,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  };

  const unbind = async (who: BoundPerson): Promise<void> => {
    const reply = await call(server.base, 'DELETE', `/v1/me/apps/${who.bindingId}`, {
      cookie: who.person.cookie,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(204);
  };

  /** The `inboxOnly` reason the router recorded, or undefined for a routing with devices. */
  const inboxOnlyReason = async (messageId: string): Promise<unknown> => {
    const routed = (await messageEvents(server, messageId)).filter(
      (event) => event.type === 'MessageRouted',
    );
    expect(routed, 'exactly one routing').to.have.length(1);
    return (routed[0]?.data as { inboxOnly?: string }).inboxOnly;
  };

  /**
   * Sends one message now, waits until it is routed and in the inbox, and checks it reached the
   * inbox only: no Bark delivery was planned (so none can follow) and the stand-in heard nothing.
   */
  const expectInboxOnly = async (who: BoundPerson, reason: string): Promise<void> => {
    const messageId = await sendAccepted(server, app, {
      openid: who.openid,
      body: `for ${reason}`,
    });
    const view = await waitForStatus(server, app, messageId, 'delivered');
    expect(view.deliveries.map((d) => d.channel)).to.deep.equal(['inbox']);
    expect(deliveryOn(view, 'inbox')?.status).to.equal('delivered');
    expect(await inboxOnlyReason(messageId)).to.equal(reason);
    expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([messageId]);
    expect(barkRequestCount(bark, who.deviceKey), 'Bark requests').to.equal(0);
  };

  /** Sends one message now and checks it is suppressed: nothing anywhere. */
  const expectSuppressedAtSubmit = async (who: BoundPerson, reason: string): Promise<void> => {
    const messageId = await sendAccepted(
      server,
      app,
      { openid: who.openid, body: `for ${reason}` },
      'suppressed',
    );
    const view = await getMessage(server, app, messageId);
    expect(view.status).to.equal('suppressed');
    expect(view.reason).to.equal(reason);
    expect(view.deliveries).to.deep.equal([]);
    // Suppressed is final: the aggregate refuses to route it, so these cannot change later.
    expect(await messageEventTypes(server, messageId)).to.deep.equal([
      'MessageSubmitted',
      'MessageSuppressed',
    ]);
    expect(await inboxOf(server, who.person)).to.deep.equal([]);
    expect(barkRequestCount(bark, who.deviceKey)).to.equal(0);
  };

  it('strong: the inbox and one Bark push', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'loud' });
    const view = await waitForBark(server, app, messageId, 'delivered');
    expect(view.deliveries.map((d) => d.channel)).to.deep.equal(['bark', 'inbox']);
    expect(deliveryOn(view, 'inbox')?.status).to.equal('delivered');
    expect(await inboxOnlyReason(messageId)).to.equal(undefined);
    expect(barkPushesFor(bark, who.deviceKey).map((p) => p['body'])).to.deep.equal(['loud']);
    expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([messageId]);
  });

  it('weak: the inbox only, no Bark request', async () => {
    const who = await bindPerson(server, bark, app, { level: 'weak' });
    await expectInboxOnly(who, 'weak');
  });

  it('strong but muted until a future time: the inbox only', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    await patchBinding(who, { mutedUntil: fromNow(3_600_000) });
    await expectInboxOnly(who, 'muted');
  });

  it('strong with no Bark device: the inbox only', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong', device: false });
    await expectInboxOnly(who, 'no_device');
  });

  it('none: 202 suppressed and nothing anywhere', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    await patchBinding(who, { level: 'none' });
    await expectSuppressedAtSubmit(who, 'level_none');
  });

  it('blocked: 202 suppressed and nothing anywhere', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    await patchBinding(who, { blocked: true });
    await expectSuppressedAtSubmit(who, 'blocked');
  });

  it('revoked: 410 binding_revoked by openid and by key', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    await unbind(who);
    expectProblem(
      await send(server, app, { openid: who.openid, body: 'after unbind' }),
      410,
      'binding_revoked',
    );
    expectProblem(
      await send(server, app, { key: who.key, body: 'after unbind' }),
      410,
      'binding_revoked',
    );
    expect(await inboxOf(server, who.person)).to.deep.equal([]);
    expect(barkRequestCount(bark, who.deviceKey)).to.equal(0);
  });

  it('push budget: over TIDINGS_PUSH_BUDGET_PER_HOUR=2 a message reaches the inbox only', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const id = await sendAccepted(server, app, { openid: who.openid, body: `update ${n}` });
      await waitForStatus(server, app, id, 'delivered');
      ids.push(id);
    }
    const [first, second, third] = ids as [string, string, string];
    await waitForBark(server, app, first, 'delivered');
    await waitForBark(server, app, second, 'delivered');
    const thirdView = await getMessage(server, app, third);
    expect(thirdView.deliveries.map((d) => d.channel)).to.deep.equal(['inbox']);
    expect(await inboxOnlyReason(third)).to.equal('over_budget');

    expect(barkPushesFor(bark, who.deviceKey).map((p) => p['body'])).to.deep.equal([
      'update 1',
      'update 2',
    ]);
    expect((await inboxOf(server, who.person)).map((i) => i.body)).to.deep.equal([
      'update 3',
      'update 2',
      'update 1',
    ]);
  });

  describe('the binding is read at delivery time, not at submission', () => {
    /** Schedules a message two seconds ahead. */
    const schedule = async (who: BoundPerson): Promise<string> => {
      const messageId = await sendAccepted(
        server,
        app,
        { openid: who.openid, body: 'later', delaySeconds: 2 },
        'scheduled',
      );
      return messageId;
    };

    const expectSuppressedAtRelease = async (
      who: BoundPerson,
      messageId: string,
      reason: string,
    ): Promise<void> => {
      const view = await waitForStatus(server, app, messageId, 'suppressed');
      expect(view.reason).to.equal(reason);
      expect(view.deliveries).to.deep.equal([]);
      const types = await messageEventTypes(server, messageId);
      // Accepted and scheduled with the binding as it was; suppressed when it came due.
      expect(types).to.include.members(['MessageApproved', 'MessageScheduled', 'MessageReleased']);
      expect(types.at(-1)).to.equal('MessageSuppressed');
      expect(types).to.not.include('MessageRouted');
      expect(await inboxOf(server, who.person)).to.deep.equal([]);
      expect(barkRequestCount(bark, who.deviceKey)).to.equal(0);
    };

    it('a binding changed to none before the message is due: suppressed at release', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await schedule(who);
      await patchBinding(who, { level: 'none' });
      expect((await getMessage(server, app, messageId)).status).to.equal('scheduled');
      await expectSuppressedAtRelease(who, messageId, 'level_none');
    });

    it('an app unbound before the message is due: suppressed at release', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await schedule(who);
      await unbind(who);
      expect((await getMessage(server, app, messageId)).status).to.equal('scheduled');
      await expectSuppressedAtRelease(who, messageId, 'revoked');
    });

    it('a binding changed from weak to strong before the message is due: pushed at release', async () => {
      const who = await bindPerson(server, bark, app, { level: 'weak' });
      const messageId = await schedule(who);
      await patchBinding(who, { level: 'strong' });
      expect((await getMessage(server, app, messageId)).status).to.equal('scheduled');
      await waitForBark(server, app, messageId, 'delivered');
      expect(barkPushesFor(bark, who.deviceKey).map((p) => p['body'])).to.deep.equal(['later']);
    });

    for (const [change, body, reason] of [
      ['set the app to weak', { level: 'weak' }, 'weak'],
      ['blocked the app', { blocked: true }, 'blocked'],
    ] as const) {
      it(`a Bark retry after the person ${change} is given up, not pushed`, async () => {
        const who = await bindPerson(server, bark, app, { level: 'strong' });
        bark.respond(who.deviceKey, 503, 'Service Unavailable');
        const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'retry' });
        await waitForMessage(
          server,
          app,
          messageId,
          (view) => (deliveryOn(view, 'bark')?.attempts ?? 0) >= 1,
          'a first failed attempt',
        );
        await patchBinding(who, body);
        const sentBefore = barkRequestCount(bark, who.deviceKey);
        const view = await waitForBark(server, app, messageId, 'abandoned');
        expect(deliveryOn(view, 'bark')?.lastError).to.equal(
          `not retried: ${reason} since the routing`,
        );
        // An attempt already on its way when the change landed may still have reached Bark.
        expect(barkRequestCount(bark, who.deviceKey)).to.be.at.most(sentBefore + 1);
        expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([
          messageId,
        ]);
        bark.reset();
      });
    }
  });
});

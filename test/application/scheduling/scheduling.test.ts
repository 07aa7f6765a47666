import { kindOfTarget } from '../../../domain/delivery/deliveryTarget.js';
import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { expectProblem, type CreatedApp } from '../../support/httpFixtures.js';
import {
  barkBodiesFor,
  barkPushesFor,
  barkRequestCount,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  inboxOf,
  messageEventTypes,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForMessage,
  waitForStatus,
  waitUntil,
} from '../../support/pipeline.js';
import { call, type TestServer } from '../../support/testServer.js';

/** Scheduling across a restart, cancelling, recalling (docs/api.md `DELETE /v1/messages/:id`). */
describe('pipeline: scheduling, cancel and recall', function () {
  this.timeout(30_000);

  let bark: BarkStandIn;

  before(async () => {
    bark = await startBarkServer();
  });

  after(async () => {
    await bark.close();
  });

  describe('across a server restart', () => {
    let server: TestServer;

    before(async () => {
      server = await startPipelineServer();
    });

    after(async () => {
      await server.dispose();
    });

    it('delivers a message scheduled before the stop exactly once, after its time', async () => {
      const app = await createPipelineApp(server, 'Restart app');
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(
        server,
        app,
        { openid: who.openid, body: 'survives a restart', delaySeconds: 3 },
        'scheduled',
      );
      const before = await getMessage(server, app, messageId);
      expect(before.status).to.equal('scheduled');
      const deliverAt = Date.parse(before.deliverAt ?? '');

      await server.stop();
      server = await server.restart();

      const view = await waitForBark(server, app, messageId, 'delivered');
      expect(view.status).to.equal('delivered');
      const barkDelivery = deliveryOn(view, 'bark');
      expect(barkDelivery?.attempts).to.equal(1);
      expect(Date.parse(barkDelivery?.deliveredAt ?? '')).to.be.at.least(deliverAt);

      const pushes = barkPushesFor(bark, who.deviceKey).filter((p) => p['id'] === messageId);
      expect(pushes).to.have.length(1);
      expect(pushes[0]?.['body']).to.equal('survives a restart');
      const types = await messageEventTypes(server, messageId);
      expect(types.filter((type) => type === 'MessageReleased')).to.have.length(1);
      expect(types.filter((type) => type === 'MessageRouted')).to.have.length(1);
      expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([
        messageId,
      ]);
    });
  });

  describe('cancel and recall', () => {
    let server: TestServer;
    let app: CreatedApp;

    before(async () => {
      // Separate stages: a test here holds a message at `submitted` by stopping moderation.
      server = await startPipelineServer({ env: { TIDINGS_SUBMISSION_STAGES: 'separate' } });
      app = await createPipelineApp(server, 'Cancel app');
    });

    after(async () => {
      await server.dispose();
    });

    const remove = (messageId: string) =>
      call<{ status?: string }>(server.base, 'DELETE', `/v1/messages/${messageId}`, {
        token: app.appSecret,
      });

    it('cancels a scheduled message, which is then never delivered', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(
        server,
        app,
        { openid: who.openid, body: 'never mind', delaySeconds: 1 },
        'scheduled',
      );
      const scheduled = await getMessage(server, app, messageId);
      expect(scheduled.status).to.equal('scheduled');

      const cancelled = await remove(messageId);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(cancelled.body).to.deep.equal({ status: 'cancelled' });
      expect((await getMessage(server, app, messageId)).status).to.equal('cancelled');

      // Let its time pass, then run the scheduler by hand: a cancelled message is not released.
      const deliverAt = Date.parse(scheduled.deliverAt ?? '');
      await waitUntil(
        () => Date.now(),
        (now) => now > deliverAt,
        'the cancelled message to come due',
      );
      await server.tidings.scheduler.tick();

      const after = await getMessage(server, app, messageId);
      expect(after.status).to.equal('cancelled');
      expect(after.deliveries).to.deep.equal([]);
      const types = await messageEventTypes(server, messageId);
      expect(types.at(-1)).to.equal('MessageCancelled');
      expect(types).to.not.include('MessageReleased');
      expect(types).to.not.include('MessageRouted');
      expect(await inboxOf(server, who.person)).to.deep.equal([]);
      expect(barkBodiesFor(bark, who.deviceKey)).to.deep.equal([]);

      // Cancelling again is harmless and answers the same.
      expect((await remove(messageId)).body).to.deep.equal({ status: 'cancelled' });
    });

    it('recalls a delivered message: it leaves the inbox and Bark gets delete=1 with the same id', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const keep = await sendAccepted(server, app, { openid: who.openid, body: 'keep me' });
      await waitForBark(server, app, keep, 'delivered');
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        title: 'Oops',
        body: 'sent to the wrong person',
      });
      await waitForBark(server, app, messageId, 'delivered');
      const pushed = barkPushesFor(bark, who.deviceKey).find(
        (p) => p['body'] === 'sent to the wrong person',
      );
      expect(pushed?.['id']).to.equal(messageId);
      expect(bark.notificationsOf(who.deviceKey).map((n) => n.id)).to.include(messageId);

      const recalled = await remove(messageId);
      expect(recalled.status, JSON.stringify(recalled.body)).to.equal(200);
      expect(recalled.body).to.deep.equal({ status: 'recalled' });
      expect((await getMessage(server, app, messageId)).status).to.equal('recalled');
      expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([keep]);

      const deletes = await waitUntil(
        () => barkBodiesFor(bark, who.deviceKey).filter((b) => b['delete'] !== undefined),
        (found) => found.length > 0,
        'the Bark recall request',
      );
      expect(deletes).to.deep.equal([{ device_key: who.deviceKey, id: messageId, delete: '1' }]);
      expect(bark.notificationsOf(who.deviceKey).map((n) => n.body)).to.deep.equal(['keep me']);
    });

    it('recalls a message of a thread with the id its pushes carried', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'order 9 dispatched',
        thread: 'order-9',
      });
      await waitForBark(server, app, messageId, 'delivered');
      const pushId = barkPushesFor(bark, who.deviceKey)[0]?.['id'];
      expect(pushId).to.be.a('string');

      expect((await remove(messageId)).body).to.deep.equal({ status: 'recalled' });
      const deletes = await waitUntil(
        () => barkBodiesFor(bark, who.deviceKey).filter((b) => b['delete'] !== undefined),
        (found) => found.length > 0,
        'the Bark recall request',
      );
      expect(deletes).to.deep.equal([{ device_key: who.deviceKey, id: pushId, delete: '1' }]);
      expect(bark.notificationsOf(who.deviceKey)).to.deep.equal([]);
    });

    it('recalls a message whose push keeps failing: the retries stop, Bark is given up', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      bark.respond(who.deviceKey, 503, 'Service Unavailable');
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'retry me until recalled',
      });
      const failing = await waitForMessage(
        server,
        app,
        messageId,
        (view) => (deliveryOn(view, 'bark')?.attempts ?? 0) >= 2,
        'two failed Bark attempts',
      );
      expect(deliveryOn(failing, 'bark')?.status).to.equal('pending');

      expect((await remove(messageId)).body).to.deep.equal({ status: 'recalled' });
      const sentAtRecall = barkRequestCount(bark, who.deviceKey);
      const view = await getMessage(server, app, messageId);
      const given = deliveryOn(view, 'bark');
      expect(given?.status).to.equal('abandoned');
      // Written out: apps read this text in GET /v1/messages/:id.
      expect(given?.lastError).to.equal(
        'the message was recalled before this channel delivered it',
      );
      expect((await messageEventTypes(server, messageId)).slice(-2)).to.deep.equal([
        'MessageRecalled',
        'MessageDeliveryAbandoned',
      ]);

      // The retry planned before the recall comes due (SHORT_RETRY waits at most 1 s) and the
      // worker looks at its queue again (every second): nothing more goes to Bark, except an
      // attempt that may have been on its way when the recall landed.
      const quietUntil = Date.now() + 2_500;
      await waitUntil(
        () => Date.now(),
        (now) => now > quietUntil,
        'the planned retry to come due',
      );
      expect(barkRequestCount(bark, who.deviceKey)).to.be.at.most(sentAtRecall + 1);
      bark.reset();
    });

    it('withdraws a push that was on its way when the message was recalled', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      // Bark receives the push at once but answers it only 3 s later.
      bark.delay(who.deviceKey, 3_000);
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: 'recalled while in flight',
      });
      await waitUntil(
        () => barkRequestCount(bark, who.deviceKey),
        (count) => count === 1,
        'the push to reach Bark',
      );
      await waitForStatus(server, app, messageId, 'delivered');

      expect((await remove(messageId)).body).to.deep.equal({ status: 'recalled' });
      const atRecall = deliveryOn(await getMessage(server, app, messageId), 'bark');
      expect(atRecall?.status, 'the push had not been answered yet').to.equal('abandoned');

      // The push is answered 200 after the recall; its report is refused and the worker takes
      // the notification back with Bark's delete request.
      const deletes = await waitUntil(
        () => barkBodiesFor(bark, who.deviceKey).filter((b) => b['delete'] !== undefined),
        (found) => found.length > 0,
        'the Bark recall request',
      );
      expect(deletes).to.deep.equal([{ device_key: who.deviceKey, id: messageId, delete: '1' }]);
      await waitUntil(
        () => bark.notificationsOf(who.deviceKey),
        (shown) => shown.length === 0,
        'the notification to leave the device',
      );
      const types = await messageEventTypes(server, messageId);
      expect(types.filter((type) => type === 'MessageDelivered')).to.have.length(1); // the inbox
      bark.reset();
    });

    it('withdraws a push the messages read model has not seen yet when the recall comes', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      bark.delay(who.deviceKey, 500);
      const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'lagging' });
      await waitForStatus(server, app, messageId, 'delivered');
      // The messages read model stops here (as when it falls behind): the Bark delivery lands in
      // the log only.
      const projection = server.tidings.runners.find((runner) => runner.name === 'messages');
      if (projection === undefined) throw new Error('no messages projection');
      await projection.stop();
      try {
        await waitUntil(
          () => messageEvents(server, messageId),
          (events) =>
            events.some(
              (event) =>
                event.type === 'MessageDelivered' &&
                kindOfTarget((event.data as { channel: string }).channel) === 'bark',
            ),
          'the Bark delivery in the log',
        );
        expect(deliveryOn(await getMessage(server, app, messageId), 'bark')?.status).to.equal(
          'pending',
        );
        expect((await remove(messageId)).body).to.deep.equal({ status: 'recalled' });
        const deletes = await waitUntil(
          () => barkBodiesFor(bark, who.deviceKey).filter((b) => b['delete'] !== undefined),
          (found) => found.length > 0,
          'the Bark recall request',
        );
        expect(deletes).to.deep.equal([{ device_key: who.deviceKey, id: messageId, delete: '1' }]);
      } finally {
        projection.start();
        bark.reset();
      }
      await waitForStatus(server, app, messageId, 'recalled');
    });

    it('recalls a message the read model still shows as submitted when the aggregate has delivered it', async () => {
      const who = await bindPerson(server, bark, app, { level: 'weak' });
      const runner = (name: string) => {
        const found = server.tidings.runners.find((candidate) => candidate.name === name);
        if (found === undefined) throw new Error(`no runner ${name}`);
        return found;
      };
      const moderation = runner('moderation');
      const projection = runner('messages');
      await moderation.stop();
      const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'racing' });
      expect((await getMessage(server, app, messageId)).status).to.equal('submitted');
      // The read model stops while moderation and routing catch up: the aggregate reaches
      // delivered (the inbox), the read model still says submitted.
      await projection.stop();
      moderation.start();
      try {
        await waitUntil(
          () => messageEventTypes(server, messageId),
          (types) => types.includes('MessageRouted'),
          'the message to be routed',
        );
        expect((await getMessage(server, app, messageId)).status).to.equal('submitted');
        const reply = await remove(messageId);
        expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
        expect(reply.body).to.deep.equal({ status: 'recalled' });
      } finally {
        projection.start();
      }
      await waitForStatus(server, app, messageId, 'recalled');
    });

    it('refuses to cancel or recall a rejected message: 422 illegal_state', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const messageId = await sendAccepted(server, app, {
        openid: who.openid,
        body: '在家兼职刷单，日结',
      });
      await waitForStatus(server, app, messageId, 'rejected');
      expectProblem(await remove(messageId), 422, 'illegal_state');
      expect((await getMessage(server, app, messageId)).status).to.equal('rejected');
    });

    it('refuses to cancel a message that is not scheduled and not yet delivered (suppressed): 422', async () => {
      const who = await bindPerson(server, bark, app, { level: 'strong' });
      const patched = await call(server.base, 'PATCH', `/v1/me/apps/${who.bindingId}`, {
        cookie: who.person.cookie,
        body: { blocked: true },
      });
      expect(patched.status).to.equal(200);
      const messageId = await sendAccepted(
        server,
        app,
        { openid: who.openid, body: 'blocked' },
        'suppressed',
      );
      expectProblem(await remove(messageId), 422, 'illegal_state');
    });
  });
});

import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { errorPaths, expectProblem, fromNow, type CreatedApp } from '../support/httpFixtures.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  inboxOf,
  messageEventTypes,
  send,
  sendAccepted,
  waitForBark,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
} from '../support/pipeline.js';
import type { TestServer } from '../support/testServer.js';

/**
 * The seed's three situations (docs/architecture.md "The problem it solves"), end to end over HTTP against
 * a real server and the Bark stand-in.
 */
describe('pipeline: the seed scenarios', function () {
  this.timeout(30_000);

  let server: TestServer;
  let bark: BarkStandIn;
  let platformB: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer();
    platformB = await createPipelineApp(server, 'Platform B');
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('passive receipt: staff member C is told at once, on the device and in the inbox', async () => {
    // A filed a work order with platform B; B assigned it to C, who is bound strong with Bark.
    const c: BoundPerson = await bindPerson(server, bark, platformB, { level: 'strong' });

    const messageId = await sendAccepted(server, platformB, {
      openid: c.openid,
      title: 'New work order #1001',
      body: 'A reported a leaking pipe at 5 Elm Street; you are assigned.',
      level: 'timeSensitive',
    });

    const view = await waitForBark(server, platformB, messageId, 'delivered');
    expect(view.status).to.equal('delivered');
    expect(deliveryOn(view, 'inbox')?.status).to.equal('delivered');
    expect(deliveryOn(view, 'bark')?.attempts).to.equal(1);

    const pushes = barkPushesFor(bark, c.deviceKey);
    expect(pushes).to.have.length(1);
    expect(pushes[0]).to.deep.include({
      device_key: c.deviceKey,
      title: 'New work order #1001',
      body: 'A reported a leaking pipe at 5 Elm Street; you are assigned.',
      level: 'timeSensitive',
      // No thread: the group is the app's name and the id the message id (docs/bark.md).
      group: 'Platform B',
      id: messageId,
    });
    const shown = bark.notificationsOf(c.deviceKey);
    expect(shown.map((n) => n.body)).to.deep.equal([
      'A reported a leaking pipe at 5 Elm Street; you are assigned.',
    ]);

    const unread = await inboxOf(server, c.person, '?unread=true');
    expect(unread.map((item) => item.messageId)).to.deep.equal([messageId]);
    expect(unread[0]).to.deep.include({
      appId: platformB.appId,
      appName: 'Platform B',
      title: 'New work order #1001',
      readAt: null,
      thread: null,
    });
  });

  it('repeated updates: six steps of one order replace each other on the device and all stay in the inbox', async () => {
    const a = await bindPerson(server, bark, platformB, { level: 'strong' });
    const thread = 'order-4711';
    const steps = ['dispatched', 'departed', 'arrived', 'handled', 'awaiting review', 'closed'];

    // Something unrelated first, so the thread filter has something to leave out.
    const unrelated = await sendAccepted(server, platformB, {
      openid: a.openid,
      title: 'Welcome',
      body: 'Your account with platform B is ready.',
    });
    await waitForBark(server, platformB, unrelated, 'delivered');

    const ids: string[] = [];
    for (const step of steps) {
      const id = await sendAccepted(server, platformB, {
        openid: a.openid,
        title: 'Work order #4711',
        body: `Your order is ${step}.`,
        thread,
      });
      // One step after the other, as the order progresses.
      await waitForBark(server, platformB, id, 'delivered');
      ids.push(id);
    }

    const threadPushes = barkPushesFor(bark, a.deviceKey).filter((p) => p['group'] === thread);
    expect(threadPushes.map((p) => p['body'])).to.deep.equal(
      steps.map((step) => `Your order is ${step}.`),
    );
    // No level hint: Bark's default, `active`.
    expect(threadPushes.every((p) => p['level'] === 'active')).to.equal(true);
    const notificationIds = new Set(threadPushes.map((p) => p['id']));
    expect(notificationIds.size, 'every step carries the same Bark id').to.equal(1);

    // The device shows one notification for the order: the last step, having replaced the others.
    const shown = bark.notificationsOf(a.deviceKey);
    const forThread = shown.filter((n) => n.ext['group'] === thread);
    expect(forThread).to.have.length(1);
    expect(forThread[0]?.body).to.equal('Your order is closed.');
    expect(shown).to.have.length(2);

    const inThread = await inboxOf(server, a.person, `?thread=${encodeURIComponent(thread)}`);
    expect(inThread.map((item) => item.messageId)).to.deep.equal([...ids].reverse());
    expect(inThread.map((item) => item.body)).to.deep.equal(
      [...steps].reverse().map((step) => `Your order is ${step}.`),
    );
    expect(inThread.every((item) => item.thread === thread)).to.equal(true);
    const everything = await inboxOf(server, a.person);
    expect(everything).to.have.length(7);
    expect(everything.at(-1)?.messageId).to.equal(unrelated);
  });

  it('long horizon: a scheduled reminder waits until its time, then is delivered', async () => {
    const c = await bindPerson(server, bark, platformB, { level: 'strong' });
    const messageId = await sendAccepted(
      server,
      platformB,
      {
        openid: c.openid,
        title: 'On-site work tomorrow',
        body: 'Reminder: special order #88 is scheduled for on-site work.',
        // Two seconds stand in for a week.
        delaySeconds: 2,
      },
      'scheduled',
    );

    const first = await getMessage(server, platformB, messageId);
    expect(first.status).to.equal('scheduled');
    expect(first.deliverAt).to.be.a('string');
    const deliverAt = first.deliverAt ?? '';
    expect(Date.parse(deliverAt) - Date.parse(first.createdAt)).to.be.within(1_900, 2_100);

    // Observe the state: whenever the message still reads scheduled, nothing may have reached
    // the device or the inbox. (Device and inbox are read before the status, so a release in
    // between cannot be mistaken for an early delivery.)
    let scheduledSightings = 0;
    const final = await waitUntil(
      async () => {
        const pushesSoFar = barkPushesFor(bark, c.deviceKey).length;
        const inInbox = (await inboxOf(server, c.person)).some((i) => i.messageId === messageId);
        const view = await getMessage(server, platformB, messageId);
        if (view.status === 'scheduled') {
          scheduledSightings += 1;
          expect(pushesSoFar, 'Bark pushes while scheduled').to.equal(0);
          expect(inInbox, 'in the inbox while scheduled').to.equal(false);
          expect(view.deliveries).to.deep.equal([]);
        }
        return view;
      },
      (view) => view.status === 'delivered' && deliveryOn(view, 'bark')?.status === 'delivered',
      'the scheduled message to be delivered',
    );
    expect(scheduledSightings).to.be.greaterThan(0);

    const barkDelivery = deliveryOn(final, 'bark');
    expect(Date.parse(barkDelivery?.deliveredAt ?? '')).to.be.at.least(Date.parse(deliverAt));
    expect(Date.parse(deliveryOn(final, 'inbox')?.deliveredAt ?? '')).to.be.at.least(
      Date.parse(deliverAt),
    );
    expect(barkPushesFor(bark, c.deviceKey)).to.have.length(1);
    expect(barkPushesFor(bark, c.deviceKey)[0]?.['body']).to.equal(
      'Reminder: special order #88 is scheduled for on-site work.',
    );
    const inbox = await inboxOf(server, c.person);
    expect(inbox.map((item) => item.messageId)).to.deep.equal([messageId]);
    const types = await messageEventTypes(server, messageId);
    expect(types).to.include.members(['MessageScheduled', 'MessageReleased', 'MessageRouted']);
    expect(types.indexOf('MessageReleased')).to.be.greaterThan(types.indexOf('MessageScheduled'));
  });

  it('refuses a deliverAt in the past or more than 30 days ahead', async () => {
    const c = await bindPerson(server, bark, platformB, { level: 'strong' });
    const past = await send(server, platformB, {
      openid: c.openid,
      body: 'too late',
      deliverAt: fromNow(-60_000),
    });
    expect(errorPaths(expectProblem(past, 400, 'validation_failed'))).to.include('/deliverAt');

    const tooFar = await send(server, platformB, {
      openid: c.openid,
      body: 'too early',
      deliverAt: fromNow(31 * 24 * 3_600_000),
    });
    expect(errorPaths(expectProblem(tooFar, 400, 'validation_failed'))).to.include('/deliverAt');

    const tooFarDelay = await send(server, platformB, {
      openid: c.openid,
      body: 'too early',
      delaySeconds: 31 * 24 * 3_600,
    });
    expect(errorPaths(expectProblem(tooFarDelay, 400, 'validation_failed'))).to.include(
      '/delaySeconds',
    );

    // Within the window is fine.
    const inWindow = await send(server, platformB, {
      openid: c.openid,
      body: 'in a month',
      deliverAt: fromNow(29 * 24 * 3_600_000),
    });
    expect(inWindow.status, JSON.stringify(inWindow.body)).to.equal(202);
    expect(inWindow.body.status).to.equal('scheduled');
    expect(await inboxOf(server, c.person)).to.deep.equal([]);
  });
});

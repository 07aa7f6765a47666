import { expect } from 'chai';
import type { PersistentSubscriptionToAllResolvedEvent } from '@eventstore/db-client';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { startGroupServer, type GroupServerStandIn } from '../support/groupServer.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitForMessage,
  waitUntil,
  type BoundPerson,
} from '../support/pipeline.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import { call, type TestServer } from '../support/testServer.js';

// Delivery from persistent subscription groups (TIDINGS_ESDB_DELIVERY_GROUP) needs EventStoreDB,
// which cannot run on this machine: the server here keeps its log in SQLite and takes its
// deliveries from a stand-in of the groups (test/support/groupServer.ts), fed from that log. The
// wiring, the worker that does not scan, the hand-over of a dropped consumer's events and the
// retries group are the project's code and run for real; the server's own behaviour is the
// stand-in's assumption (see its comment).

const GROUP = 'tidings-delivery';

describe('delivery from persistent subscription groups (stand-in server)', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let groups: GroupServerStandIn;
  let server: TestServer;
  let app: CreatedApp;
  let to: BoundPerson;
  let started = false;

  before(async () => {
    bark = await startBarkServer();
    groups = startGroupServer();
    server = await startPipelineServer({
      deliveryGroups: { client: groups.client, name: GROUP },
      // A retry waits long enough to be held (and dropped) while it waits.
      retryPolicy: { maxAttempts: 4, baseDelayMs: 1_000, factor: 1, maxDelayMs: 2_000, jitter: 0 },
    });
    groups.attach(server.tidings.store);
    started = true;
    app = await createPipelineApp(server);
    to = await bindPerson(server, bark, app);
  });

  after(async () => {
    if (!started) return;
    await server.dispose();
    await groups.close();
    await bark.close();
  });

  it('creates both groups at start, filtered to the events that plan attempts, and /readyz checks them', async () => {
    expect([...groups.groups.keys()].sort()).to.deep.equal([GROUP, `${GROUP}-retries`]);
    const first = groups.groups.get(GROUP);
    const retries = groups.groups.get(`${GROUP}-retries`);
    expect(first?.types.test('MessageRouted')).to.equal(true);
    expect(first?.types.test('MessageDeliveryFailed')).to.equal(false);
    expect(retries?.types.test('MessageDeliveryFailed')).to.equal(true);
    expect(first?.settings.startFrom).to.equal('start');
    // A retry is held until its time: the retries group waits longer before handing it again.
    expect(retries?.settings.messageTimeout).to.be.greaterThan(first?.settings.messageTimeout ?? 0);
    const ready = await call<{ checks: Record<string, string> }>(server.base, 'GET', '/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.checks['delivery-groups']).to.equal('ok');
  });

  it("delivers only what the group hands this node; a dropped consumer's events go to the node", async () => {
    // Another node's consumer that takes three events and dies before answering any.
    const ghost = groups.client.subscribeToPersistentSubscriptionToAll(GROUP, { bufferSize: 3 });
    const held: string[] = [];
    ghost.on('data', (resolved: PersistentSubscriptionToAllResolvedEvent) => {
      held.push(resolved.event?.id ?? '');
    });
    const before = barkPushesFor(bark, to.deviceKey).length;
    const sent: string[] = [];
    for (let n = 0; n < 8; n += 1) {
      sent.push(
        await sendAccepted(server, app, { key: to.key, title: 'Order', body: `step ${n}` }),
      );
    }
    const pushed = () => barkPushesFor(bark, to.deviceKey).length - before;
    await waitUntil(
      () => ({ held: held.length, pushed: pushed() }),
      (seen) => seen.held === 3 && seen.pushed === 5,
      'three events held elsewhere, five pushed here',
    );
    // The node's worker does not scan its own queue: the held three stay unsent.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pushed()).to.equal(5);

    await ghost.unsubscribe();
    await waitUntil(pushed, (count) => count === 8, 'all eight pushed');
    // Settle: a second push of any of them would come now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = barkPushesFor(bark, to.deviceKey)
      .slice(before)
      .map((body) => body['id']);
    expect(ids, 'one push per message').to.have.length(8);
    expect(new Set(ids).size).to.equal(8);
    const first = groups.groups.get(GROUP);
    // Handed out again, to the node, with the retry count up.
    for (const id of held) {
      expect(first?.handedOut.filter((entry) => entry.id === id)).to.deep.equal([
        { id, retryCount: 0 },
        { id, retryCount: 1 },
      ]);
    }
    // Acknowledged only once recorded: every routing event is acked, and each message records
    // its Bark delivery.
    const routedIds = await Promise.all(
      sent.map(async (messageId) => {
        const events = await messageEvents(server, messageId);
        expect(events.map((event) => event.type)).to.include('MessageDelivered');
        return events.find((event) => event.type === 'MessageRouted')?.id ?? '';
      }),
    );
    await waitUntil(
      () => routedIds.filter((id) => first?.acked.includes(id) === true).length,
      (count) => count === 8,
      'eight routings acknowledged',
    );
    expect(first?.parked).to.deep.equal([]);
  });

  /** A person of their own with a Bark device, so every request for it is of one message. */
  const sendFailingOnce = async (): Promise<{ messageId: string; deviceKey: string }> => {
    const own = await bindPerson(server, bark, app);
    bark.failTimes(own.deviceKey, 1, 500);
    const messageId = await sendAccepted(server, app, {
      key: own.key,
      title: 'Order',
      body: 'arrived',
    });
    return { messageId, deviceKey: own.deviceKey };
  };

  const failureOf = async (messageId: string) =>
    waitUntil(
      async () =>
        (await messageEvents(server, messageId)).find((e) => e.type === 'MessageDeliveryFailed'),
      (found) => found !== undefined,
      'the first attempt failed',
    );

  it('makes a retry through the retries group at its time, once', async () => {
    const { messageId, deviceKey } = await sendFailingOnce();
    const view = await waitForMessage(
      server,
      app,
      messageId,
      (message) => deliveryOn(message, 'bark')?.status === 'delivered',
      'bark delivered on its second attempt',
    );
    expect(deliveryOn(view, 'bark')?.attempts).to.equal(2);
    const failed = await failureOf(messageId);
    const retryAt = Date.parse((failed?.data as { retryAt: string }).retryAt);
    const deliveredAt = Date.parse(deliveryOn(view, 'bark')?.deliveredAt ?? '');
    expect(deliveredAt, 'not before its retry time').to.be.at.least(retryAt);
    const retries = groups.groups.get(`${GROUP}-retries`);
    await waitUntil(
      () => retries?.acked.includes(failed?.id ?? '') === true,
      (acked) => acked,
      'the failure acknowledged by the retries group',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(barkPushesFor(bark, deviceKey), 'the failed try and the retry').to.have.length(2);
  });

  it('a retry held when its subscription drops is made once, by whoever holds it at its time', async () => {
    const { messageId, deviceKey } = await sendFailingOnce();
    const failed = await failureOf(messageId);
    const retries = groups.groups.get(`${GROUP}-retries`);
    await waitUntil(
      () => retries?.handedOut.some((entry) => entry.id === failed?.id) === true,
      (held) => held,
      'the retry held by the node',
    );
    // A leader change while the retry waits for its time.
    groups.drop(`${GROUP}-retries`);
    await waitForMessage(
      server,
      app,
      messageId,
      (message) => deliveryOn(message, 'bark')?.status === 'delivered',
      'delivered after the drop',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(retries?.handedOut.filter((entry) => entry.id === failed?.id)).to.deep.equal([
      { id: failed?.id, retryCount: 0 },
      { id: failed?.id, retryCount: 1 },
    ]);
    expect(barkPushesFor(bark, deviceKey), 'the failed try and one retry').to.have.length(2);
    const ready = await call<{ checks: Record<string, string> }>(server.base, 'GET', '/readyz');
    expect(ready.body.checks['delivery-groups'], 'resubscribed').to.equal('ok');
  });
});

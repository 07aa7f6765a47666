import { kindOfTarget } from '../../../domain/delivery/deliveryTarget.js';
import { failAppends } from '../../support/faults.js';
import { expect } from 'chai';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import type { CreatedApp } from '../../support/httpFixtures.js';
import {
  barkPushesFor,
  barkRequestCount,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  inboxOf,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForMessage,
  waitUntil,
} from '../../support/pipeline.js';
import { call, type TestServer } from '../../support/testServer.js';

interface FailureData {
  readonly channel: string;
  readonly attempt: number;
  readonly error: string;
  readonly retryAt?: string;
}

/** The Bark events of one kind in a message's stream. */
const barkEvents = async (
  server: TestServer,
  messageId: string,
  type: string,
): Promise<RecordedEvent[]> =>
  (await messageEvents(server, messageId)).filter(
    (event) =>
      event.type === type &&
      kindOfTarget((event.data as { channel?: string }).channel ?? '') === 'bark',
  );

/**
 * Device delivery through the Bark stand-in: retries of transient failures, permanent refusals,
 * Retry-After, and isolation between people (docs/bark.md "Responses").
 */
describe('pipeline: Bark delivery', function () {
  this.timeout(30_000);

  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({
      retryPolicy: { maxAttempts: 6, baseDelayMs: 50, factor: 2, maxDelayMs: 1_000, jitter: 0 },
    });
    app = await createPipelineApp(server, 'Bark app');
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('retries 500 twice, then delivers on the third attempt', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    bark.failTimes(who.deviceKey, 2, 500, 'push failed: ServiceUnavailable');
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'third time' });

    const view = await waitForBark(server, app, messageId, 'delivered');
    expect(deliveryOn(view, 'bark')?.attempts).to.equal(3);
    expect(barkRequestCount(bark, who.deviceKey)).to.equal(3);

    const failures = await barkEvents(server, messageId, 'MessageDeliveryFailed');
    expect(failures).to.have.length(2);
    const data = failures.map((event) => event.data as FailureData);
    expect(data.map((d) => d.attempt)).to.deep.equal([1, 2]);
    for (const failure of data) {
      expect(failure.error).to.include('500');
      expect(failure.retryAt, 'a retry was planned').to.be.a('string');
    }
    const delivered = await barkEvents(server, messageId, 'MessageDelivered');
    expect(delivered.map((event) => (event.data as { attempt: number }).attempt)).to.deep.equal([
      3,
    ]);
    expect(await barkEvents(server, messageId, 'MessageDeliveryAbandoned')).to.deep.equal([]);
    expect(bark.notificationsOf(who.deviceKey).map((n) => n.body)).to.deep.equal(['third time']);
  });

  it('gives up at once on 400 (unknown device key); the message stays in the inbox', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong', knownDevice: false });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'no device' });

    const view = await waitForBark(server, app, messageId, 'abandoned');
    const delivery = deliveryOn(view, 'bark');
    expect(delivery?.attempts).to.equal(1);
    expect(delivery?.lastError).to.include('failed to get device token');
    expect(delivery?.lastError, 'the device key is masked').to.not.include(who.deviceKey);
    expect(view.status).to.equal('delivered');
    expect(deliveryOn(view, 'inbox')?.status).to.equal('delivered');

    expect(barkRequestCount(bark, who.deviceKey)).to.equal(1);
    const failures = await barkEvents(server, messageId, 'MessageDeliveryFailed');
    expect(failures.map((event) => (event.data as FailureData).retryAt)).to.deep.equal([undefined]);
    expect(await barkEvents(server, messageId, 'MessageDeliveryAbandoned')).to.have.length(1);
    expect((await inboxOf(server, who.person)).map((i) => i.messageId)).to.deep.equal([messageId]);
  });

  it('does not record a kept outcome again as a later attempt once its first record did land', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    bark.failTimes(who.deviceKey, 1, 503, 'Service Unavailable');
    let thrown = 0;
    // The first failure record is stored, and then the call fails anyway (as when waiting for
    // the read models fails after the append).
    const restore = failAppends(
      server.tidings.store,
      (events) => {
        if (thrown > 0 || !events.some((event) => event.type === 'MessageDeliveryFailed')) {
          return false;
        }
        thrown += 1;
        return true;
      },
      { afterAppend: true },
    );
    try {
      const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'twice' });
      const view = await waitForBark(server, app, messageId, 'delivered');
      expect(thrown).to.equal(1);
      // Attempt 1 failed (503), attempt 2 was really sent and delivered: no phantom attempt.
      expect(deliveryOn(view, 'bark')?.attempts).to.equal(2);
      expect(barkRequestCount(bark, who.deviceKey)).to.equal(2);
    } finally {
      restore();
    }
  });

  it('marks a device Bark does not know as broken: the inbox only until the person sets it again', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong', knownDevice: false });
    const first = await sendAccepted(server, app, { openid: who.openid, body: 'unknown key' });
    await waitForBark(server, app, first, 'abandoned');

    const me = () =>
      call<{ devices: { bark?: { serverUrl: string; broken?: string } } }>(
        server.base,
        'GET',
        '/v1/me',
        { cookie: who.person.cookie },
      );
    const broken = await waitUntil(
      async () => (await me()).body.devices.bark?.broken,
      (reason) => reason !== undefined,
      'the device to be marked broken',
    );
    expect(broken).to.include('failed to get device token');
    expect(broken, 'the device key is masked').to.not.include(who.deviceKey);

    const second = await sendAccepted(server, app, { openid: who.openid, body: 'inbox only' });
    await waitForMessage(server, app, second, (view) => view.status === 'delivered', 'the inbox');
    const routed = (await messageEvents(server, second)).find((e) => e.type === 'MessageRouted');
    expect(routed?.data).to.deep.include({ channels: ['inbox'], inboxOnly: 'no_device' });
    expect(barkRequestCount(bark, who.deviceKey), 'no push to a broken device').to.equal(1);

    // The person registers the key with Bark and saves the same device again.
    bark.addDevice(who.deviceKey);
    const saved = await call(server.base, 'PUT', '/v1/me/devices/bark', {
      cookie: who.person.cookie,
      body: { serverUrl: bark.url, deviceKey: who.deviceKey },
    });
    expect(saved.status).to.equal(200);
    expect((await me()).body.devices.bark).to.deep.equal({ serverUrl: bark.url });
    const third = await sendAccepted(server, app, { openid: who.openid, body: 'pushed again' });
    await waitForBark(server, app, third, 'delivered');
    // The refused first push, nothing for the second, then the third.
    expect(barkPushesFor(bark, who.deviceKey).map((p) => p['body'])).to.deep.equal([
      'unknown key',
      'pushed again',
    ]);
    expect(bark.notificationsOf(who.deviceKey).map((n) => n.body)).to.deep.equal(['pushed again']);
  });

  it('honours Retry-After on 503: the retry is planned no earlier than asked, and happens then', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    bark.failTimes(who.deviceKey, 1, 503, undefined, { headers: { 'Retry-After': '1' } });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'patience' });

    const view = await waitForBark(server, app, messageId, 'delivered');
    expect(deliveryOn(view, 'bark')?.attempts).to.equal(2);

    const [failure] = await barkEvents(server, messageId, 'MessageDeliveryFailed');
    if (failure === undefined) throw new Error('no recorded failure');
    const { retryAt, error } = failure.data as FailureData;
    expect(error).to.include('503');
    const failedAt = Date.parse(failure.metadata.occurredAt);
    // The policy alone would wait 50 ms; the server asked for a second.
    expect(Date.parse(retryAt ?? '') - failedAt).to.be.at.least(1_000);

    const [delivered] = await barkEvents(server, messageId, 'MessageDelivered');
    expect(Date.parse(delivered?.metadata.occurredAt ?? '')).to.be.at.least(
      Date.parse(retryAt ?? ''),
    );
    expect(barkRequestCount(bark, who.deviceKey)).to.equal(2);
  });

  it("one failing device does not hold up another person's delivery", async () => {
    const failing = await bindPerson(server, bark, app, { level: 'strong' });
    const healthy = await bindPerson(server, bark, app, { level: 'strong' });
    // Fails every time, asking for a second between tries: six tries take at least five seconds.
    bark.respond(failing.deviceKey, 500, 'push failed: ServiceUnavailable', {
      headers: { 'Retry-After': '1' },
    });

    const stuck = await sendAccepted(server, app, { openid: failing.openid, body: 'stuck' });
    await waitForMessage(
      server,
      app,
      stuck,
      (view) => (deliveryOn(view, 'bark')?.attempts ?? 0) >= 1,
      'a first failed attempt',
    );
    const fine = await sendAccepted(server, app, { openid: healthy.openid, body: 'fine' });
    await waitForBark(server, app, fine, 'delivered');

    const stuckNow = await getMessage(server, app, stuck);
    expect(deliveryOn(stuckNow, 'bark')?.status, 'the failing delivery is still retrying').to.equal(
      'pending',
    );
    expect(barkPushesFor(bark, healthy.deviceKey).map((p) => p['body'])).to.deep.equal(['fine']);
    // The stuck one still reached its person's inbox.
    expect((await inboxOf(server, failing.person)).map((i) => i.messageId)).to.deep.equal([stuck]);
  });

  it('records a push the store first refused to record, without sending it again', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    let refused = 0;
    // The store fails the first three records of the delivered Bark push.
    const restore = failAppends(server.tidings.store, (events) => {
      const isBarkRecord = events.some(
        (event) =>
          event.type === 'MessageDelivered' &&
          kindOfTarget(String((event.data as { channel?: unknown }).channel)) === 'bark',
      );
      if (!isBarkRecord || refused >= 3) return false;
      refused += 1;
      return true;
    });
    try {
      const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'once' });
      const view = await waitForBark(server, app, messageId, 'delivered');
      expect(refused).to.equal(3);
      expect(deliveryOn(view, 'bark')?.attempts).to.equal(1);
      expect(
        barkRequestCount(bark, who.deviceKey),
        'one push, however often the record failed',
      ).to.equal(1);
    } finally {
      restore();
    }
  });

  describe('with a policy of three attempts', () => {
    let short: TestServer;
    let shortApp: CreatedApp;

    before(async () => {
      short = await startPipelineServer({
        retryPolicy: { maxAttempts: 3, baseDelayMs: 50, factor: 2, maxDelayMs: 1_000, jitter: 0 },
      });
      shortApp = await createPipelineApp(short, 'Short app');
    });

    after(async () => {
      await short.dispose();
    });

    it('abandons a device that fails every time after the third attempt', async () => {
      const who = await bindPerson(short, bark, shortApp, { level: 'strong' });
      bark.respond(who.deviceKey, 500, 'push failed: ServiceUnavailable');
      const messageId = await sendAccepted(short, shortApp, { openid: who.openid, body: 'gone' });

      const view = await waitForBark(short, shortApp, messageId, 'abandoned');
      expect(deliveryOn(view, 'bark')?.attempts).to.equal(3);
      expect(barkRequestCount(bark, who.deviceKey)).to.equal(3);
      const failures = await barkEvents(short, messageId, 'MessageDeliveryFailed');
      expect(
        failures.map((event) => (event.data as FailureData).retryAt === undefined),
      ).to.deep.equal([false, false, true]);
      expect((await inboxOf(short, who.person)).map((i) => i.messageId)).to.deep.equal([messageId]);
    });
  });
});

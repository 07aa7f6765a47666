import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { expectNoNewEvents, expectProblem, registerPerson } from '../../support/httpFixtures.js';
import {
  barkBodiesFor,
  barkRequestsNaming,
  bindPerson,
  bindWithoutDevice,
  createPipelineApp,
  deliver,
  getMessage,
  inboxIds,
  send,
  startPipelineServer,
  waitForStatus,
} from '../../support/pipeline.js';
import {
  adminApp,
  complain,
  dataOf,
  schedulerAt,
  upheld,
  waitForApp,
  type Severity,
} from '../../support/reputation.js';
import { waitUntil } from '../../support/waitUntil.js';
import { call, type TestServer } from '../../support/testServer.js';

describe('reputation: enforcement on push and at delivery time', function () {
  this.timeout(60_000);
  let server: TestServer;
  let bark: BarkStandIn;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '0' } });
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const cases: {
    readonly standing: 'suspended' | 'banned';
    readonly severities: readonly Severity[];
    readonly code: 'app_suspended' | 'app_banned';
  }[] = [
    { standing: 'suspended', severities: ['severe', 'major'], code: 'app_suspended' },
    { standing: 'banned', severities: ['severe', 'severe', 'severe'], code: 'app_banned' },
  ];

  for (const { standing, severities, code } of cases) {
    it(`a ${standing} app: pushes get 403 ${code}, a message scheduled before is suppressed at delivery, and after reinstatement a new push is delivered`, async () => {
      const app = await createPipelineApp(server, `Reminders (${standing})`);
      // The person who gets the scheduled message has a Bark device and nothing else from this app.
      const reader = await bindPerson(server, bark, app);
      const readerDevice = reader.deviceKey;
      const scheduled = await send(server, app, {
        key: reader.key,
        title: 'Reminder',
        body: 'Your appointment is tomorrow',
        delaySeconds: 3_600,
      });
      expect(scheduled.status, JSON.stringify(scheduled.body)).to.equal(202);
      expect(scheduled.body.status).to.equal('scheduled');
      const scheduledId = scheduled.body.messageId;
      const deliverAt = (await getMessage(server, app, scheduledId)).deliverAt ?? '';
      expect(Date.parse(deliverAt)).to.be.greaterThan(Date.now());

      // Someone else complains, and the operator upholds until the app is suspended or banned.
      const complainer = await bindWithoutDevice(server, app, {
        person: await registerPerson(server),
      });
      const messages: string[] = [];
      for (const _ of severities) messages.push(await deliver(server, app, complainer));
      const complaintIds = await Promise.all(
        messages.map((messageId) => complain(server, complainer.person, messageId)),
      );
      for (const [index, severity] of severities.entries())
        await upheld(server, complaintIds[index] ?? '', severity);
      const view = await waitForApp(server, app.appId, (v) => v.status === standing, standing);

      // Pushes are refused with the standing's code (and, when suspended, until when).
      const refused = await expectNoNewEvents(server.tidings, () =>
        send(server, app, { key: reader.key, body: 'Another reminder' }),
      );
      const problem = expectProblem(refused, 403, code);
      if (standing === 'suspended') {
        expect(view.suspendedUntil).to.be.a('string');
        expect(problem['suspendedUntil']).to.equal(view.suspendedUntil);
      } else {
        expect(problem).to.not.have.property('suspendedUntil');
      }
      const batch = await call<{ results: { index: number; error?: { code?: string } }[] }>(
        server.base,
        'POST',
        '/v1/messages/batch',
        { token: app.appSecret, body: { messages: [{ key: reader.key, body: 'Batch' }] } },
      );
      expect(batch.status, JSON.stringify(batch.body)).to.equal(200);
      expect(batch.body.results[0]?.error?.code).to.equal(code);

      // The scheduled message falls due (a scheduler whose clock is past deliverAt releases it):
      // it is suppressed, never reaches the inbox, and Bark gets nothing.
      await schedulerAt(server, () => new Date(Date.parse(deliverAt) + 60_000)).tick();
      const suppressed = await waitForStatus(server, app, scheduledId, 'suppressed');
      expect(suppressed.deliveries).to.deep.equal([]);
      const events = await server.tidings.store.readStream(`message-${scheduledId}`);
      expect(events.map((event) => event.type)).to.include.members([
        'MessageReleased',
        'MessageSuppressed',
      ]);
      expect(events.map((event) => event.type)).to.not.include('MessageRouted');
      expect(dataOf(events.find((event) => event.type === 'MessageSuppressed'))['reason']).to.equal(
        code,
      );
      expect(await inboxIds(server, reader.person)).to.not.include(scheduledId);
      expect(barkRequestsNaming(bark, readerDevice)).to.deep.equal([]);

      // Reinstated, the app sends again: a new push reaches the inbox and the device.
      const reinstated = await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
        token: server.adminToken,
        body: { note: 'Reviewed' },
      });
      expect(reinstated.status, JSON.stringify(reinstated.body)).to.equal(200);
      expect((await adminApp(server, app.appId)).status).to.equal('active');
      const fresh = await send(server, app, {
        key: reader.key,
        title: 'Reminder',
        body: 'We are back',
      });
      expect(fresh.status, JSON.stringify(fresh.body)).to.equal(202);
      expect(fresh.body.status).to.equal('accepted');
      const delivered = await waitUntil(
        () => getMessage(server, app, fresh.body.messageId),
        (m) => m.deliveries.some((d) => d.channel === 'bark' && d.status === 'delivered'),
        'bark delivery of the new push',
      );
      expect(delivered.status).to.equal('delivered');
      expect(await inboxIds(server, reader.person)).to.include(fresh.body.messageId);
      const pushes = barkBodiesFor(bark, readerDevice);
      expect(pushes.map((body) => body['body'])).to.deep.equal(['We are back']);
      expect(
        barkRequestsNaming(bark, readerDevice),
        'nothing else reached the device',
      ).to.have.length(1);
      // The suppressed message stays suppressed.
      expect((await getMessage(server, app, scheduledId)).status).to.equal('suppressed');
    });
  }
});

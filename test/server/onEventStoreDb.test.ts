import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  deliveryOn,
  sendAccepted,
  startPipelineServer,
  waitForMessage,
} from '../support/pipeline.js';
import { call, type TestServer } from '../support/testServer.js';

// The server on a real EventStoreDB: delivery from persistent subscription groups and the sealed
// audit chain. It needs a server, which this machine cannot run (no Docker engine); point
// EVENTSTORE_CONNECTION_STRING at one (an admin user: the test creates groups) to run it. The
// same code runs here against stand-ins (test/server/deliveryGroups.test.ts,
// test/adapters/sqlite/sealedCopy.test.ts, test/composition/audit.test.ts).
const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

if (connectionString !== undefined && connectionString !== '') {
  describe('the server on EventStoreDB: delivery groups and the sealed audit chain', function () {
    // A new group and a new folder go through the server's whole log once.
    this.timeout(300_000);
    let bark: BarkStandIn;
    let server: TestServer;

    before(async () => {
      bark = await startBarkServer();
      server = await startPipelineServer({
        env: {
          EVENTSTORE_CONNECTION_STRING: connectionString,
          TIDINGS_ESDB_DELIVERY_GROUP: `tidings-test-${randomUUID().slice(0, 8)}`,
        },
      });
    });

    after(async () => {
      await server.dispose();
      await bark.close();
    });

    it('pushes a message once through the groups, and the sealed chain verifies', async () => {
      const app = await createPipelineApp(server);
      const to = await bindPerson(server, bark, app);
      const messageId = await sendAccepted(server, app, {
        key: to.key,
        title: 'Order',
        body: 'dispatched',
      });
      await waitForMessage(
        server,
        app,
        messageId,
        (view) => deliveryOn(view, 'bark')?.status === 'delivered',
        'delivered to Bark',
        120_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(barkPushesFor(bark, to.deviceKey)).to.have.length(1);
      const ready = await call<{ checks: Record<string, string> }>(server.base, 'GET', '/readyz');
      expect(ready.body.checks['delivery-groups']).to.equal('ok');
      const verified = await call<{ ok: boolean; unsealed: number }>(
        server.base,
        'GET',
        '/v1/audit/verify',
        { token: server.tidings.auditToken },
      );
      expect(verified.status).to.equal(200);
      expect(verified.body.ok, JSON.stringify(verified.body)).to.equal(true);
      expect(verified.body.unsealed).to.be.a('number');
    });
  });
} else {
  describe('the server on EventStoreDB: delivery groups and the sealed audit chain', () => {
    it('runs against a server named by EVENTSTORE_CONNECTION_STRING', function () {
      console.log(
        '  EventStoreDB server test skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server on this machine)',
      );
      this.skip();
    });
  });
}

import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  send,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
} from '../support/pipeline.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import { call, type TestServer } from '../support/testServer.js';

// Admission on the delivery lag: a Bark that answers each push after 2 s holds the worker's 64
// places, so messages sent faster than 32 a second make a backlog; past the 1 s limit the server
// refuses new ones, and accepts again once the backlog is delivered.

describe('admission: new messages are refused while delivery is behind (composition/admission.ts)', function () {
  this.timeout(90_000);
  let bark: BarkStandIn;
  let server: TestServer;
  let app: CreatedApp;
  let to: BoundPerson;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({
      env: {
        TIDINGS_ADMISSION_MAX_LAG_SECONDS: '1',
        // Out of the way: every message is a push, and the app may send as fast as it likes.
        TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
        TIDINGS_APP_RATE_BURST: '100000',
        TIDINGS_APP_RATE_PER_SECOND: '100000',
      },
    });
    app = await createPipelineApp(server);
    to = await bindPerson(server, bark, app);
  });

  after(async () => {
    await server.dispose();
    await bark.close();
  });

  it('answers 503 overloaded with Retry-After past the limit, reports the lag, loses nothing, and accepts again once caught up', async () => {
    bark.delay(to.deviceKey, 2_000);
    const accepted: string[] = [];
    let refused: Awaited<ReturnType<typeof send>> | undefined;
    // Messages as fast as the server takes them, until the first refusal.
    for (let n = 0; n < 400 && refused === undefined; n += 1) {
      const reply = await send(server, app, { key: to.key, title: 'Order', body: `step ${n}` });
      if (reply.status === 202) accepted.push(reply.body.messageId);
      else refused = reply;
      if (accepted.length >= 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refused, 'a refusal once delivery fell behind').to.not.equal(undefined);
    expect(refused?.status).to.equal(503);
    expect(refused?.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(refused?.body['code']).to.equal('overloaded');
    expect(Number(refused?.headers.get('retry-after'))).to.be.within(1, 30);
    expect(accepted.length).to.be.greaterThan(64);

    const metrics = await fetch(`${server.base}/metrics`).then((response) => response.text());
    const lag = Number(/^tidings_delivery_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(lag).to.be.greaterThan(1);
    expect(metrics).to.match(/^tidings_admission_refusing 1$/m);
    // Shown, but the node stays ready: a balancer must not take every node out (reads go on).
    const ready = await call<{ node: { delivery: { refusing: boolean; lagSeconds: number } } }>(
      server.base,
      'GET',
      '/readyz',
    );
    expect(ready.status).to.equal(200);
    expect(ready.body.node.delivery.refusing).to.equal(true);
    // Rounded to a tenth: refusing began as the lag passed the 1 s limit.
    expect(ready.body.node.delivery.lagSeconds).to.be.at.least(1);
    // Every way in for a new message is refused: Bark's GET form of the compatible ingress,
    // and the API's path written otherwise.
    const compat = await fetch(`${server.base}/${to.key}/hello`);
    expect(compat.status).to.equal(503);
    await compat.arrayBuffer();
    const slashed = await call(server.base, 'POST', '/v1/messages/', {
      token: app.appSecret,
      body: { key: to.key, body: 'slashed' },
    });
    expect(slashed.status).to.equal(503);
    // Reads go on meanwhile.
    const inbox = await call(server.base, 'GET', '/v1/me/inbox?limit=1', {
      cookie: to.person.cookie,
    });
    expect(inbox.status).to.equal(200);

    bark.delay(to.deviceKey, 0);
    await waitUntil(
      () => new Set(barkPushesFor(bark, to.deviceKey).map((body) => body['id'])).size,
      (pushed) => pushed >= accepted.length,
      'every accepted message pushed',
      60_000,
    );
    const again = await waitUntil(
      () => send(server, app, { key: to.key, title: 'Order', body: 'after' }),
      (reply) => reply.status === 202,
      'accepted again once caught up',
    );
    expect(again.status).to.equal(202);
  });

  it('does not count an attempt in flight as behind: one slow push keeps nobody out', async () => {
    const slow = await bindPerson(server, bark, app);
    bark.delay(slow.deviceKey, 3_000);
    const waiting = await send(server, app, { key: slow.key, body: 'to a slow Bark' });
    expect(waiting.status).to.equal(202);
    // Well past the 1 s limit while that one attempt is still on its way.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(barkPushesFor(bark, slow.deviceKey), 'the slow push still unanswered').to.have.length(1);
    const metrics = await fetch(`${server.base}/metrics`).then((response) => response.text());
    expect(Number(/^tidings_delivery_lag_seconds (\S+)$/m.exec(metrics)?.[1])).to.be.below(1);
    expect(metrics).to.match(/^tidings_admission_refusing 0$/m);
    const other = await send(server, app, { key: to.key, body: 'meanwhile' });
    expect(other.status, JSON.stringify(other.body)).to.equal(202);
    bark.delay(slow.deviceKey, 0);
  });
});

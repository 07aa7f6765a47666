import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  createTestSchema,
  PgRelay,
  requirePostgres,
  type TestSchema,
} from '../support/postgres.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  allInboxIds,
  send,
  SHORT_RETRY,
  waitUntil,
} from '../support/pipeline.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';

describe('several nodes while PostgreSQL is unreachable for 5 s', function () {
  this.timeout(180_000);
  let schema: TestSchema;
  let bark: BarkStandIn;
  let relay: PgRelay;
  const nodes: TestServer[] = [];

  let started = false;
  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
    bark = await startBarkServer();
    relay = new PgRelay();
    const url = relay.urlOf(await relay.listen(), schema.schema);
    for (const name of ['outage-a', 'outage-b']) {
      nodes.push(
        await startTestServer({
          env: {
            TIDINGS_DATABASE_URL: url,
            TIDINGS_NODE_ID: name,
            TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
            TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
          },
          retryPolicy: SHORT_RETRY,
        }),
      );
    }
  });
  after(async () => {
    // Nothing to undo when the suite was skipped (no PostgreSQL).
    if (!started) return;
    relay.restore();
    await Promise.all(nodes.map((node) => node.dispose()));
    await relay.close();
    await bark.close();
    await schema.drop();
  });

  it('answers writes 503 meanwhile, loses nothing that got a 202, and resumes without a restart', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const app = await createPipelineApp(a);
    const bound = await bindPerson(b, bark, app);
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let retryAfterSeen = false;
    let readyDuringCut: number | undefined;
    const started = Date.now();
    let index = 0;
    while (Date.now() - started < 11_000) {
      const elapsed = Date.now() - started;
      if (elapsed > 2_000 && elapsed < 7_000) relay.cut();
      else relay.restore();
      if (elapsed > 4_000 && readyDuringCut === undefined) {
        readyDuringCut = (await call(a.base, 'GET', '/readyz')).status;
      }
      const reply = await send(index % 2 === 0 ? a : b, app, {
        openid: bound.openid,
        title: `o${index}`,
        body: 'during an outage',
      });
      index += 1;
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status === 202) accepted.push(reply.body.messageId);
      if (reply.status === 503 && reply.headers.get('retry-after') !== null) retryAfterSeen = true;
      expect([202, 503], `answer ${index}: ${JSON.stringify(reply.body)}`).to.include(reply.status);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    relay.restore();
    expect(statuses.get(503) ?? 0, 'writes refused while the database was away').to.be.greaterThan(
      0,
    );
    expect(retryAfterSeen, 'a 503 carries Retry-After').to.equal(true);
    expect(readyDuringCut, '/readyz while the database was away').to.equal(503);

    // Back: new writes are taken on both nodes, with no restart.
    for (const node of nodes) {
      const reply = await waitUntil(
        () => send(node, app, { openid: bound.openid, title: 'after', body: 'back' }),
        (answer) => answer.status === 202,
        'a write accepted after the outage',
        20_000,
        200,
      );
      accepted.push(reply.body.messageId);
    }
    await waitUntil(
      () => call(b.base, 'GET', '/readyz'),
      (reply) => reply.status === 200,
      'node b ready again',
      20_000,
      200,
    );
    // Nothing that got a 202 is lost: in the inbox and pushed to Bark.
    await waitUntil(
      () => allInboxIds(a, bound.person),
      (ids) => accepted.every((id) => ids.includes(id)),
      'every accepted message in the inbox',
      60_000,
      250,
    );
    const accepts = accepted.length;
    await waitUntil(
      () => new Set(barkPushesFor(bark, bound.deviceKey).map((push) => String(push['id']))).size,
      (count) => count >= accepts,
      'a push for every accepted message',
      60_000,
      250,
    );
  });
});

import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  createTestSchema,
  databaseUrlOf,
  requirePostgres,
  type TestSchema,
} from '../support/postgres.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  inboxIds,
  send,
  SHORT_RETRY,
  waitUntil,
} from '../support/pipeline.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';

interface NodeReadiness {
  readonly status: string;
  readonly node?: {
    readonly id: string;
    readonly leases: readonly { name: string; holder: string | null; heldHere: boolean }[];
    readonly lag: Record<string, number>;
  };
}

const readinessOf = async (node: TestServer): Promise<NodeReadiness> =>
  (await call<NodeReadiness>(node.base, 'GET', '/readyz')).body;

/** Which node holds each lease, from every node's own `/readyz`. */
const holders = async (nodes: readonly TestServer[]): Promise<Map<string, string[]>> => {
  const held = new Map<string, string[]>();
  for (const node of nodes) {
    const readiness = await readinessOf(node);
    for (const lease of readiness.node?.leases ?? []) {
      if (!held.has(lease.name)) held.set(lease.name, []);
      if (lease.heldHere) held.get(lease.name)?.push(readiness.node?.id ?? '');
    }
  }
  return held;
};

describe('several nodes on one PostgreSQL database (in one process)', function () {
  this.timeout(120_000);
  let schema: TestSchema;
  let bark: BarkStandIn;
  const nodes: TestServer[] = [];

  const startNode = (name: string): Promise<TestServer> =>
    startTestServer({
      env: {
        TIDINGS_DATABASE_URL: databaseUrlOf(schema.schema),
        TIDINGS_NODE_ID: name,
        TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      },
      retryPolicy: SHORT_RETRY,
    });

  let started = false;
  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
    bark = await startBarkServer();
    nodes.push(...(await Promise.all(['node-a', 'node-b', 'node-c'].map(startNode))));
  });
  after(async () => {
    // Nothing to undo when the suite was skipped (no PostgreSQL).
    if (!started) return;
    await Promise.all(nodes.map((node) => node.dispose()));
    await bark.close();
    await schema.drop();
  });

  it('start together on an empty database; every lease is held by exactly one node', async () => {
    const held = await waitUntil(
      () => holders(nodes),
      (map) =>
        [...map.values()].every((ids) => ids.length === 1) &&
        new Set([...map.values()].flat()).size > 1,
      // The first node up takes every free lease; the others' shares come to them a round later.
      'every lease held once, spread over the nodes',
    );
    expect([...held.keys()].sort()).to.include.members([
      'processor:moderation',
      'processor:router',
      'processor:reputation',
      'processor:recall',
      'processor:callbacks',
      'scheduler',
    ]);
    for (const [name, ids] of held) expect(ids, name).to.have.length(1);
    // Spread: no node holds them all.
    const perNode = new Map<string, number>();
    for (const ids of held.values())
      for (const id of ids) perNode.set(id, (perNode.get(id) ?? 0) + 1);
    expect(perNode.size, 'nodes holding leases').to.be.greaterThan(1);
    for (const node of nodes) {
      await waitUntil(
        () => readinessOf(node),
        (readiness) => readiness.status === 'ready',
        'every node ready',
      );
    }
  });

  it('a caller reads its own write from any node, and a strong message reaches Bark once', async () => {
    const [a, b, c] = nodes as [TestServer, TestServer, TestServer];
    const app = await createPipelineApp(a);
    const bound = await bindPerson(b, bark, app);
    const messages: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const reply = await send(index % 2 === 0 ? c : a, app, {
        openid: bound.openid,
        title: `step ${index}`,
        body: 'work order',
      });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
      messages.push(reply.body.messageId);
      // At once, on another node than the one that accepted it.
      const got = await call(b.base, 'GET', `/v1/messages/${reply.body.messageId}`, {
        token: app.appSecret,
      });
      expect(got.status, `message ${index} read on node b`).to.equal(200);
    }
    // Moderation and routing follow the 202 on whichever nodes hold their leases.
    await waitUntil(
      () => inboxIds(c, bound.person),
      (ids) => messages.every((id) => ids.includes(id)),
      'all ten in the inbox, read on node c',
    );
    const pushes = await waitUntil(
      () => barkPushesFor(bark, bound.deviceKey),
      (found) => found.length >= 10,
      'ten pushes',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(barkPushesFor(bark, bound.deviceKey)).to.have.length(pushes.length);
    expect(pushes).to.have.length(10);
  });

  it('the same Idempotency-Key sent to two nodes at once is one message', async () => {
    const [a, b, c] = nodes as [TestServer, TestServer, TestServer];
    const app = await createPipelineApp(a);
    const bound = await bindPerson(c, bark, app);
    for (let round = 0; round < 10; round += 1) {
      const key = `same-key-${round}`;
      const body = { openid: bound.openid, title: `twice ${round}`, body: 'once' };
      const replies = await Promise.all(
        [a, b, a, b].map((node) => send(node, app, body, { 'idempotency-key': key })),
      );
      const ids = new Set(
        replies.filter((reply) => reply.status === 202).map((reply) => reply.body.messageId),
      );
      expect(ids.size, `round ${round}: ${JSON.stringify(replies.map((r) => r.status))}`).to.equal(
        1,
      );
      // The others were told to retry while it ran; a retry now replays the first answer.
      for (const reply of replies) expect([202, 409]).to.include(reply.status);
      const again = await send(c, app, body, { 'idempotency-key': key });
      expect(again.status).to.equal(202);
      expect(again.body.messageId).to.equal([...ids][0]);
    }
    await waitUntil(
      () => inboxIds(b, bound.person),
      (found) => found.length === 10,
      'ten messages, one per key',
    );
  });

  it('a node that stops hands its leases over to the others at once', async () => {
    const before = await holders(nodes);
    const leaving = nodes[0] as TestServer;
    const leavingId = 'node-a';
    const had = [...before].filter(([, ids]) => ids.includes(leavingId)).map(([name]) => name);
    await leaving.stop();
    const rest = nodes.slice(1);
    const started = Date.now();
    const after = await waitUntil(
      () => holders(rest),
      (map) => [...map.values()].every((ids) => ids.length === 1),
      'every lease held by the two nodes left',
      15_000,
    );
    const tookMs = Date.now() - started;
    expect(tookMs, 'takeover time').to.be.below(10_000);
    for (const name of had) expect(after.get(name), name).to.have.length(1);
  });
});

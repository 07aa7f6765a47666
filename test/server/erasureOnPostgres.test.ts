import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { verifyExport } from '../../application/audit/exportVerification.js';
import type { PgPool } from '../../adapters/postgres/pool.js';
import {
  createTestSchema,
  databaseUrlOf,
  requirePostgres,
  type TestSchema,
} from '../support/postgres.js';
import {
  createPipelineApp,
  getMessage,
  inboxIds,
  startPipelineServer,
  waitUntil,
} from '../support/pipeline.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import { personWithHistory as historyOf } from '../support/erasureHistory.js';
import { call, type TestServer } from '../support/testServer.js';

const AUDIT_TOKEN = 'test-audit-token-0123456789abcdef';
const ERASURE_LEASE = 'processor:erasure';

interface AuditItem {
  readonly position: string;
  readonly stream: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

interface Readiness {
  readonly node?: {
    readonly id: string;
    readonly leases: readonly { name: string; heldHere: boolean }[];
  };
}

/** Every file of a node's data folder (its read models, their write-ahead log, keys), byte-wise. */
const folderHolds = (dir: string, text: string): string[] => {
  const needle = Buffer.from(text, 'utf8');
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(needle));
};

/** Positions of the shared log whose stored data holds `text`. */
const rowsHolding = async (pool: PgPool, text: string): Promise<number[]> =>
  (
    await pool.query<{ position: number }>(
      `SELECT position::float8 AS position FROM tidings_events WHERE data::text LIKE '%' || $1 || '%'`,
      [text],
    )
  ).rows.map(({ position }) => position);

describe('erasure on a PostgreSQL log: two nodes, the deletion on the one without the erasure lease', function () {
  this.timeout(120_000);
  let schema: TestSchema;
  let pool: PgPool;
  let bark: BarkStandIn;
  const nodes: TestServer[] = [];
  let started = false;

  const startNode = (name: string): Promise<TestServer> =>
    startPipelineServer({
      env: {
        TIDINGS_DATABASE_URL: databaseUrlOf(schema.schema),
        TIDINGS_NODE_ID: name,
        TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN,
      },
    });

  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
    pool = schema.pool(2);
    bark = await startBarkServer();
    nodes.push(await startNode('node-a'), await startNode('node-b'));
  });
  after(async () => {
    if (!started) return;
    await Promise.all(nodes.map((node) => node.dispose()));
    await bark.close();
    await schema.drop();
  });

  const audit = <T>(node: TestServer, path: string) =>
    call<T>(node.base, 'GET', path, { token: AUDIT_TOKEN });

  /** The node that runs the erasure processor, once the leases are spread, and the other one. */
  const byErasureLease = async (): Promise<{ holder: TestServer; other: TestServer }> => {
    const holders = await waitUntil(
      async () => {
        const held: { node: TestServer; names: string[] }[] = [];
        for (const node of nodes) {
          const readiness = (await call<Readiness>(node.base, 'GET', '/readyz')).body;
          const names = (readiness.node?.leases ?? [])
            .filter((lease) => lease.heldHere)
            .map((lease) => lease.name);
          held.push({ node, names });
        }
        return held;
      },
      (held) =>
        held.every(({ names }) => names.length > 0) &&
        held.filter(({ names }) => names.includes(ERASURE_LEASE)).length === 1,
      'the leases spread over both nodes, the erasure one held once',
      30_000,
    );
    const holder = holders.find(({ names }) => names.includes(ERASURE_LEASE))?.node;
    const other = holders.find(({ names }) => !names.includes(ERASURE_LEASE))?.node;
    if (holder === undefined || other === undefined) throw new Error('no erasure lease holder');
    return { holder, other };
  };

  /** A person bound on one node, sent a delivered message through the other, who complained. */
  const personWithHistory = (app: CreatedApp, [first, second]: readonly TestServer[]) =>
    historyOf(bark, app, [first as TestServer, second as TestServer]);

  it('erases the person from the shared log and both nodes’ read models; both chains verify', async () => {
    const { holder, other } = await byErasureLease();
    const app = await createPipelineApp(holder);
    const alice = await personWithHistory(app, [holder, other]);
    const bob = await personWithHistory(app, [other, holder]);
    const { person } = alice.bound;
    const bobsInbox = await inboxIds(holder, bob.bound.person);

    // On the node whose erasure processor does not run: it waits for the one that does.
    const deleted = await call(other.base, 'DELETE', '/v1/me', {
      cookie: person.cookie,
      body: { password: person.password },
    });
    expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
    // When it answers, the deleting node's own folder holds nothing of Alice any more.
    const aliceTexts = [person.username, ...Object.values(alice.traces)];
    for (const text of aliceTexts) {
      expect(folderHolds(other.dir, text), `${text} in the deleting node's folder`).to.deep.equal(
        [],
      );
    }
    // Nor the log: every erasure record is written and every rewrite committed.
    for (const text of aliceTexts) {
      expect(await rowsHolding(pool, text), `${text} in tidings_events`).to.deep.equal([]);
    }
    expect(await rowsHolding(pool, bob.traces.body), 'the search works').to.have.length(1);

    for (const node of [other, holder]) {
      const which = node === other ? 'the deleting node' : 'the erasing node';
      const push = await call<{ code: string }>(node.base, 'POST', '/v1/messages', {
        token: app.appSecret,
        body: { key: alice.bound.key, body: 'still there?' },
      });
      expect(push.status, which).to.equal(410);
      expect(push.body.code).to.equal('binding_revoked');
      expect(
        (await call(node.base, 'GET', '/v1/me', { cookie: person.cookie })).status,
        which,
      ).to.equal(401);
      expect(
        (await call(node.base, 'GET', '/v1/me/inbox', { cookie: person.cookie })).status,
        which,
      ).to.equal(401);
      // The inbox is gone from this node's read model, and what is left of it reads [erased].
      const rows = node.tidings.db
        .prepare<[string], { body: string; title: string | null; inbox_at: string | null }>(
          'SELECT body, title, inbox_at FROM messages WHERE recipient_id = ?',
        )
        .all(person.recipientId);
      expect(rows, which).to.have.length(2);
      for (const row of rows) {
        expect(row.inbox_at, which).to.equal(null);
        expect(row.body, which).to.equal('[erased]');
      }
      const status = await getMessage(node, app, alice.messageId);
      expect(JSON.stringify(status)).to.not.include(alice.traces.body);

      const report = await audit<{ ok: boolean; checked: number }>(node, '/v1/audit/verify');
      expect(report.status).to.equal(200);
      expect(report.body.ok, `${which}: ${JSON.stringify(report.body)}`).to.equal(true);
      const account = await audit<{ items: AuditItem[] }>(
        node,
        `/v1/audit/streams/recipient-${person.recipientId}`,
      );
      const byType = (type: string) => account.body.items.find((item) => item.type === type);
      expect(byType('RecipientRegistered')?.data, which).to.deep.include({
        username: '[erased]',
        passwordHash: '[erased]',
      });
      expect(byType('RecipientErased')?.data).to.deep.equal({
        recipientId: person.recipientId,
        by: 'self',
      });
      expect(account.body.items.filter((item) => item.type === 'RecipientDataErased')).to.not.be
        .empty;
      const trail = await audit<{ items: AuditItem[] }>(node, `/v1/audit/trail/${alice.messageId}`);
      expect(
        trail.body.items.find((item) => item.type === 'MessageSubmitted')?.data,
        which,
      ).to.deep.include({ title: '[erased]', body: '[erased]', url: '[erased]' });
      expect(
        trail.body.items.find((item) => item.type === 'ComplaintFiled')?.data,
        which,
      ).to.deep.include({ reason: '[erased]', category: 'spam' });
      expect(await inboxIds(node, bob.bound.person), which).to.deep.equal(bobsInbox);
    }

    // The other node's folder follows as its read models reach the records.
    for (const text of aliceTexts) {
      await waitUntil(
        () => folderHolds(holder.dir, text),
        (files) => files.length === 0,
        `${text} gone from the erasing node's folder`,
      );
    }
    for (const node of [other, holder]) {
      for (const text of [bob.bound.person.username, bob.traces.title, bob.traces.complaint]) {
        expect(folderHolds(node.dir, text), `${text} (the search works)`).to.not.deep.equal([]);
      }
    }

    const exported = await fetch(`${holder.base}/v1/audit/export`, {
      headers: { authorization: `Bearer ${AUDIT_TOKEN}` },
    });
    const offline = await verifyExport((await exported.text()).split('\n'));
    expect(offline.ok, JSON.stringify(offline)).to.equal(true);

    // Nothing of Alice comes back when the nodes stop (their databases are closed).
    for (const node of nodes) await node.stop();
    for (const node of nodes) {
      for (const text of aliceTexts) {
        expect(folderHolds(node.dir, text), `${text} after the stop`).to.deep.equal([]);
      }
    }
    nodes.splice(0, nodes.length, ...(await Promise.all(nodes.map((node) => node.restart()))));
  });

  it('an operator deletes an account on either node; again is 204 on the other', async () => {
    const { holder, other } = await byErasureLease();
    const app = await createPipelineApp(other, 'Second app');
    const carol = await personWithHistory(app, [other, holder]);
    const path = `/v1/admin/recipients/${carol.bound.person.recipientId}`;
    const deleted = await call(other.base, 'DELETE', path, {
      token: other.adminToken,
      body: { reason: 'court order 17' },
    });
    expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
    // A repeat waits for the first erasure, wherever it ran.
    const again = await call(holder.base, 'DELETE', path, {
      token: holder.adminToken,
      body: { reason: 'court order 17' },
    });
    expect(again.status).to.equal(204);
    for (const text of [carol.bound.person.username, carol.traces.body, carol.traces.complaint]) {
      expect(await rowsHolding(pool, text), text).to.deep.equal([]);
    }
    for (const node of [holder, other]) {
      const push = await call(node.base, 'POST', '/v1/messages', {
        token: app.appSecret,
        body: { key: carol.bound.key, body: 'still there?' },
      });
      expect(push.status).to.equal(410);
      const report = await audit<{ ok: boolean }>(node, '/v1/audit/verify');
      expect(report.body.ok, JSON.stringify(report.body)).to.equal(true);
    }
  });
});

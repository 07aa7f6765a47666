import { expect } from 'chai';
import {
  createTestSchema,
  databaseUrlOf,
  requirePostgres,
  type TestSchema,
} from '../support/postgres.js';
import { call, type TestServer, startTestServer } from '../support/testServer.js';

const AUDIT_TOKEN = 'test-audit-token-0123456789abcdef';

interface Page {
  readonly items: readonly { position: string; type: string }[];
  readonly next: string | null;
}
interface Head {
  readonly position: string;
  readonly hash: string;
  readonly keyId: string;
}

describe('audit routes on a PostgreSQL log (two nodes, in one process)', function () {
  this.timeout(120_000);
  let schema: TestSchema;
  const nodes: TestServer[] = [];
  let started = false;

  before(async function () {
    await requirePostgres(this);
    started = true;
    schema = await createTestSchema();
    for (const name of ['node-a', 'node-b']) {
      nodes.push(
        await startTestServer({
          env: {
            TIDINGS_DATABASE_URL: databaseUrlOf(schema.schema),
            TIDINGS_NODE_ID: name,
            TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN,
          },
        }),
      );
    }
  });
  after(async () => {
    if (!started) return;
    await Promise.all(nodes.map((node) => node.dispose()));
    await schema.drop();
  });

  const get = <T>(node: TestServer | undefined, path: string) =>
    call<T>(node?.base ?? '', 'GET', path, { token: AUDIT_TOKEN });

  it('list events, sign the head on either node once, verify and export the shared log', async () => {
    const [a, b] = nodes;
    const app = await call(a?.base ?? '', 'POST', '/v1/admin/apps', {
      token: a?.adminToken ?? '',
      body: { name: 'Audited', redirectUris: ['https://app.example/cb'] },
    });
    expect(app.status, JSON.stringify(app.body)).to.equal(201);

    const events = await get<Page>(a, '/v1/audit/events?limit=1000');
    expect(events.status, JSON.stringify(events.body)).to.equal(200);
    const types = events.body.items.map((item) => item.type);
    // The shared key was introduced once, by the first node to start.
    expect(types.filter((type) => type === 'AuditKeyIntroduced')).to.have.length(1);
    expect(types.length).to.be.greaterThan(1);

    const head = await get<Head>(a, '/v1/audit/head');
    expect(head.status, JSON.stringify(head.body)).to.equal(200);
    const again = await get<Head>(b, '/v1/audit/head');
    expect(again.status).to.equal(200);
    expect(
      again.body,
      'the other node signs the same key, so it gives the head signed',
    ).to.deep.equal(head.body);

    const verified = await get<{ ok: boolean; checked: number; headsChecked: number }>(
      b,
      '/v1/audit/verify',
    );
    expect(verified.status, JSON.stringify(verified.body)).to.equal(200);
    expect(verified.body.ok).to.equal(true);
    expect(verified.body.headsChecked).to.equal(1);

    const exported = await fetch(`${b?.base ?? ''}/v1/audit/export`, {
      headers: { authorization: `Bearer ${AUDIT_TOKEN}` },
    });
    expect(exported.status).to.equal(200);
    const lines = (await exported.text()).split('\n').filter((line) => line !== '');
    expect(lines).to.have.length(verified.body.checked);
  });
});

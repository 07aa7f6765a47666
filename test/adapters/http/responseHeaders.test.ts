import { expect } from 'chai';
import { documentedRoutes } from '../../support/docs.js';
import { withoutForeignProtocols } from '../../support/foreignProtocols.js';
import { registerPerson } from '../../support/httpFixtures.js';
import { call, startTestServer, type Reply, type TestServer } from '../../support/testServer.js';

interface Document {
  readonly paths: Record<string, Record<string, unknown>>;
}

const expectNoStore = (reply: Reply<unknown>, what: string): void => {
  expect(reply.headers.get('cache-control'), what).to.equal('no-store');
  expect(reply.headers.get('x-content-type-options'), what).to.equal('nosniff');
};

describe('HTTP response headers: no-store and nosniff', () => {
  let server: TestServer;
  let operations: { method: string; path: string }[];

  before(async () => {
    server = await startTestServer();
    const document = withoutForeignProtocols(
      (await call<Document>(server.base, 'GET', '/openapi.json')).body,
    );
    operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({ method, path })),
    );
  });
  after(async () => {
    await server.dispose();
  });

  it('every operation of /openapi.json answers with Cache-Control: no-store and nosniff, its problems too', async () => {
    expect(operations.length).to.be.greaterThan(30);
    for (const { method, path } of operations) {
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      const reply = await call(server.base, method.toUpperCase(), concrete);
      expectNoStore(reply, `${method.toUpperCase()} ${concrete} (${reply.status})`);
    }
  });

  it('the answers that carry secrets are no-store: a new app, a rotated secret, a login, the inbox', async () => {
    const created = await call<{ appId: string }>(server.base, 'POST', '/v1/admin/apps', {
      token: server.adminToken,
      body: { name: 'Cache probe', redirectUris: ['https://cache.example/cb'] },
    });
    expect(created.status).to.equal(201);
    expectNoStore(created, 'POST /v1/admin/apps');
    const rotated = await call(server.base, 'POST', `/v1/admin/apps/${created.body.appId}/secret`, {
      token: server.adminToken,
    });
    expect(rotated.status).to.equal(200);
    expectNoStore(rotated, 'POST /v1/admin/apps/:appId/secret');
    const person = await registerPerson(server);
    const login = await call(server.base, 'POST', '/v1/auth/login', {
      body: { username: person.username, password: person.password },
    });
    expect(login.status).to.equal(200);
    expectNoStore(login, 'POST /v1/auth/login');
    const inbox = await call(server.base, 'GET', '/v1/me/inbox', { cookie: person.cookie });
    expect(inbox.status).to.equal(200);
    expectNoStore(inbox, 'GET /v1/me/inbox');
  });

  it('health, metrics, unknown routes and problems are no-store too', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/no-such-route', '/nowhere']) {
      expectNoStore(await call(server.base, 'GET', path), path);
    }
    const badJson = await call(server.base, 'POST', '/v1/auth/login', { rawBody: '{' });
    expect(badJson.status).to.equal(400);
    expectNoStore(badJson, 'invalid JSON');
  });

  it('every page is no-store (they show personal data), its redirects too', async () => {
    const person = await registerPerson(server);
    const pages = documentedRoutes().filter(({ state }) => state.kind === 'page');
    expect(pages.length).to.be.greaterThan(5);
    for (const { path } of pages) {
      for (const cookie of [undefined, person.cookie]) {
        const reply = await fetch(`${server.base}${path}`, {
          redirect: 'manual',
          headers: cookie === undefined ? {} : { cookie },
        });
        const what = `GET ${path} (${reply.status}, ${cookie === undefined ? 'anonymous' : 'logged in'})`;
        expect(reply.headers.get('cache-control'), what).to.equal('no-store');
        expect(reply.headers.get('x-content-type-options'), what).to.equal('nosniff');
      }
    }
  });

  it('static assets stay cacheable (revalidated) and carry nosniff', async () => {
    for (const file of ['common.js', 'tidings.css', 'icon.svg']) {
      const reply = await fetch(`${server.base}/static/${file}`);
      expect(reply.status, file).to.equal(200);
      expect(reply.headers.get('cache-control'), file).to.equal('no-cache');
      expect(reply.headers.get('x-content-type-options'), file).to.equal('nosniff');
    }
  });
});

import { expect } from 'chai';
import { expectProblem, registerPerson, type Person } from '../../support/httpFixtures.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';

/**
 * The CSRF rule over plain HTTP (adapters/web/security.ts): browsers are recognised by `Origin`
 * or `Sec-Fetch-Site`; API clients that send neither are not affected.
 */
describe('HTTP CSRF guard for state-changing requests', () => {
  let server: TestServer;
  let who: Person;
  let token: string;
  let csrfCookie: string;

  before(async () => {
    server = await startTestServer();
    who = await registerPerson(server);
    const page = await fetch(`${server.base}/login`);
    const setCookie = page.headers.get('set-cookie') ?? '';
    const match = /tidings_csrf=([A-Za-z0-9_-]{43})/.exec(setCookie);
    expect(match, setCookie).to.not.equal(null);
    token = match?.[1] ?? '';
    csrfCookie = `tidings_csrf=${token}`;
  });
  after(async () => {
    await server.dispose();
  });

  const deleteDevice = (headers: Record<string, string>, cookie = who.cookie) =>
    call(server.base, 'DELETE', '/v1/me/devices/bark', { cookie, headers });

  it('lets API clients without browser headers through, with or without a token', async () => {
    expect((await deleteDevice({})).status).to.equal(204);
    const app = await call(server.base, 'POST', '/v1/admin/apps', {
      token: server.adminToken,
      body: { name: 'No CSRF needed', redirectUris: ['https://x.example/cb'] },
    });
    expect(app.status).to.equal(201);
  });

  it('always refuses Sec-Fetch-Site: cross-site, even with a valid token', async () => {
    const reply = await deleteDevice(
      { 'sec-fetch-site': 'cross-site', 'x-csrf-token': token },
      `${who.cookie}; ${csrfCookie}`,
    );
    expectProblem(reply, 403, 'forbidden');
    const login = await call(server.base, 'POST', '/v1/auth/login', {
      body: { username: who.username, password: who.password },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expectProblem(login, 403, 'forbidden');
  });

  it('refuses another Origin (another port, another host, null)', async () => {
    const port = Number(new URL(server.base).port);
    for (const origin of [`http://127.0.0.1:${port + 1}`, 'https://evil.example', 'null']) {
      const reply = await deleteDevice(
        { origin, 'x-csrf-token': token },
        `${who.cookie}; ${csrfCookie}`,
      );
      expectProblem(reply, 403, 'forbidden');
    }
  });

  it('from a browser with a session: needs X-CSRF-Token equal to the tidings_csrf cookie', async () => {
    const origin = server.base;
    expectProblem(await deleteDevice({ origin }, `${who.cookie}; ${csrfCookie}`), 403, 'forbidden');
    expectProblem(
      await deleteDevice(
        { origin, 'x-csrf-token': `${token.slice(1)}A` },
        `${who.cookie}; ${csrfCookie}`,
      ),
      403,
      'forbidden',
    );
    expectProblem(
      await deleteDevice({ 'sec-fetch-site': 'same-origin', 'x-csrf-token': token }, who.cookie),
      403,
      'forbidden',
    );
    const ok = await deleteDevice(
      { origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': token },
      `${who.cookie}; ${csrfCookie}`,
    );
    expect(ok.status).to.equal(204);
  });

  it('lets a same-origin browser log in without a session yet', async () => {
    const login = await call(server.base, 'POST', '/v1/auth/login', {
      body: { username: who.username, password: who.password },
      headers: { origin: server.base, 'sec-fetch-site': 'same-origin' },
    });
    expect(login.status).to.equal(200);
  });

  it('never guards reads', async () => {
    const me = await call(server.base, 'GET', '/v1/me', {
      cookie: who.cookie,
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(me.status).to.equal(200);
  });

  it('ignores X-Forwarded-Proto unless TIDINGS_TRUST_PROXY is set: the cookie is not Secure over plain HTTP', async () => {
    const page = await fetch(`${server.base}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(page.headers.get('set-cookie')).to.match(/tidings_csrf=/);
    expect(page.headers.get('set-cookie')).to.not.match(/Secure/);
  });
});

describe('HTTP CSRF cookie behind a trusted proxy (TIDINGS_TRUST_PROXY=loopback)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { TIDINGS_TRUST_PROXY: 'loopback' } });
  });
  after(async () => {
    await server.dispose();
  });

  it('sets the CSRF cookie Secure when the proxy says the request came over https', async () => {
    const page = await fetch(`${server.base}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(page.headers.get('set-cookie')).to.match(
      /tidings_csrf=[^;]+;.*SameSite=Strict.*; Secure/,
    );
    const plain = await fetch(`${server.base}/login`);
    expect(plain.headers.get('set-cookie')).to.not.match(/Secure/);
  });
});

import { expect } from 'chai';
import { createApp, type CreatedApp } from '../../support/httpFixtures.js';
import { startTestServer, type TestServer } from '../../support/testServer.js';

/**
 * Issue 12, item 4, for the pages: a parameter whose percent-escapes are not UTF-8 would reach the
 * consent (and from there the binding) as U+FFFD; the pages refuse it instead.
 */
describe('web app: query parameters that are not UTF-8', function () {
  this.timeout(30_000);
  const callback = 'https://orders.example/callback';
  let server: TestServer;
  let app: CreatedApp;

  before(async () => {
    server = await startTestServer();
    app = await createApp(server, { name: 'Work orders', redirectUris: [callback] });
  });
  after(async () => {
    await server.dispose();
  });

  const get = (path: string): Promise<Response> =>
    fetch(`${server.base}${path}`, { redirect: 'manual' });

  it('shows /authorize with such an openid as a malformed link, never on to login and consent', async () => {
    const link = (openid: string): string =>
      `/authorize?app_id=${app.appId}&openid=${openid}&redirect_uri=${encodeURIComponent(callback)}`;
    for (const openid of ['customer%ff', '%ED%A0%80']) {
      const page = await get(link(openid));
      expect(page.status, openid).to.equal(400);
      expect(await page.text()).to.include('openid is missing or not valid');
    }
    // The well-formed link goes on to log in first.
    const fine = await get(link('customer%E2%9C%93'));
    expect(fine.status).to.equal(303);
  });

  it('does not send the browser on to a `next` whose escapes are not UTF-8', async () => {
    const page = await (await get('/login?next=%2Fapps%ff')).text();
    expect(page).to.include('data-next="/inbox"');
    const fine = await (await get('/login?next=%2Fapps')).text();
    expect(fine).to.include('data-next="/apps"');
  });
});

import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import {
  allow,
  createApp,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  openPage,
  push,
  startSite,
  startWebServer,
  useSession,
  waitUntil,
  type LocalSite,
  type WatchedPage,
} from './support.js';
import { inlineFacts, postThreeWays, readableCookies, type InlineFacts } from './pageScripts.js';

const XSS_TITLE = '<script>alert(1)</script>';
const XSS_BODY = '<img src=x onerror=alert(2)> & "quotes" \'too\'';
const XSS_APP = '<script>alert(3)</script><img src=x onerror=alert(4)>';

describe('web app: escaping, CSP and CSRF in a browser (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let site: LocalSite | undefined;
  let app: CreatedApp;
  let who: Person;
  let key: string;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    browser = await launchBrowser();
    site = await startSite();
    app = await createApp(server, { name: XSS_APP, redirectUris: ['https://evil.example/cb'] });
    who = await registerPerson(server);
    ({ key } = await allow(server, who.cookie, {
      appId: app.appId,
      openid: 'victim',
      redirectUri: 'https://evil.example/cb',
      level: 'weak',
    }));
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await server?.dispose();
  });

  const loggedIn = async (): Promise<WatchedPage> => {
    const watched = await openPage(browser!);
    open.push(watched);
    await useSession(watched.context, server!.base, who.cookie);
    return watched;
  };

  const unreadIds = async (): Promise<string[]> =>
    (
      await call<{ items: { messageId: string }[] }>(
        server!.base,
        'GET',
        '/v1/me/inbox?unread=true',
        {
          cookie: who.cookie,
        },
      )
    ).body.items.map((item) => item.messageId);

  const delivered = async (title: string): Promise<string> => {
    const sent = await push(server!, app.appSecret, { key, title, body: XSS_BODY });
    expect(sent.status).to.equal(202);
    await waitUntil(unreadIds, (ids) => ids.includes(sent.body.messageId), 'delivery');
    return sent.body.messageId;
  };

  it('renders a <script> title, an HTML body and an HTML app name as text, in the inbox and on the consent page', async () => {
    await delivered(XSS_TITLE);
    const watched = await loggedIn();
    const { page } = watched;
    await page.goto(`${server!.base}/inbox`);
    const heading = page.getByRole('heading', { name: XSS_TITLE });
    await heading.waitFor();
    expect(await heading.innerText()).to.equal(XSS_TITLE);
    expect(await page.locator('#inbox-list .from').first().innerText()).to.equal(XSS_APP);
    await heading.click();
    expect(await page.locator('#inbox-list .body').first().innerText()).to.contain(XSS_BODY);
    expect(await page.locator('#inbox-list script, #inbox-list img').count()).to.equal(0);

    const consent = await page.goto(
      `${server!.base}/authorize?${new URLSearchParams({ app_id: app.appId, openid: '<b>x</b>', redirect_uri: 'https://evil.example/cb' }).toString()}`,
    );
    const source = (await consent?.text()) ?? '';
    expect(source).to.contain('&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(source).to.not.contain(XSS_APP);
    expect(source).to.not.contain('<b>x</b>');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).to.contain(XSS_APP);
    expect(await page.locator('main script, main img, main b').count()).to.equal(0);
    expect(watched.dialogs, 'no script ran').to.deep.equal([]);
  });

  it('serves every page with a CSP that allows no inline script or style, and the pages need none', async () => {
    const watched = await loggedIn();
    const { page } = watched;
    const pages = [
      '/login',
      '/register',
      '/inbox',
      '/apps',
      '/devices',
      '/operator',
      `/authorize?app_id=${app.appId}&openid=x&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      '/authorize?app_id=nope&openid=x&redirect_uri=https%3A%2F%2Fx.example%2F',
    ];
    for (const path of pages) {
      const response = await page.goto(`${server!.base}${path}`);
      const csp = (await response?.allHeaders())?.['content-security-policy'] ?? '';
      expect(csp, path).to.contain("script-src 'self'");
      expect(csp, path).to.contain("style-src 'self'");
      expect(csp, path).to.contain("frame-ancestors 'none'");
      expect(csp, path).to.not.contain('unsafe-inline');
      expect(csp, path).to.not.contain('unsafe-eval');
      await page.waitForLoadState('load');
      const inline = await page.evaluate<InlineFacts>(inlineFacts);
      expect(inline, path).to.deep.equal({ scripts: 0, styles: 0, handlers: [], external: [] });
    }
    const refusals = watched.errors.filter((text) => /Content Security Policy/i.test(text));
    expect(refusals).to.deep.equal([]);
  });

  it('refuses a cross-site and a same-site (other port) form post without the CSRF token; the message stays unread', async () => {
    const messageId = await delivered('Do not mark me read');
    const target = `${server!.base}/v1/me/inbox/${messageId}/read`;
    site!.setPage(
      '/attack',
      `<!doctype html><title>win a prize</title><form method="post" action="${target}"><input type="hidden" name="x" value="1"><button>Claim</button></form>`,
    );
    const watched = await loggedIn();
    const { page } = watched;
    // localhost is another site than 127.0.0.1; 127.0.0.1 on another port is the same site
    // (SameSite=Lax cookies go along), but another origin.
    for (const attacker of [`http://localhost:${site!.port}/attack`, `${site!.url}/attack`]) {
      await page.goto(attacker);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === target),
        page.getByRole('button', { name: 'Claim' }).click(),
      ]);
      expect(response.status(), attacker).to.equal(403);
      expect(JSON.parse(await response.text())).to.include({ code: 'forbidden' });
    }
    expect(await unreadIds()).to.include(messageId);
    const me = await call(server!.base, 'GET', '/v1/me', { cookie: who.cookie });
    expect(me.status, 'still logged in').to.equal(200);
  });

  it('a script on a Tidings page needs the token too: without it 403, with it 204', async () => {
    const messageId = await delivered('Mark me read properly');
    const watched = await loggedIn();
    const { page } = watched;
    await page.goto(`${server!.base}/inbox`);
    const statuses = await page.evaluate<number[]>(postThreeWays(`/v1/me/inbox/${messageId}/read`));
    expect(statuses).to.deep.equal([403, 403, 204]);
    expect(await unreadIds()).to.not.include(messageId);
  });

  it('keeps the session cookie HttpOnly and SameSite=Lax; the CSRF cookie is readable by the pages, SameSite=Strict', async () => {
    const watched = await openPage(browser!);
    open.push(watched);
    const { page, context } = watched;
    await page.goto(`${server!.base}/login`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server!.base}/inbox`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'tidings_session');
    const csrf = cookies.find((c) => c.name === 'tidings_csrf');
    expect(session).to.include({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(csrf).to.include({ httpOnly: false, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate<string>(readableCookies)).to.not.contain('tidings_session');
  });
});

import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { createApp, type CreatedApp } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  logInHere,
  openPage,
  push,
  registerInBrowser,
  sessionCookie,
  startSite,
  startWebServer,
  unexpectedErrors,
  type LocalSite,
} from './support.js';
import { focusedText } from './pageScripts.js';

describe('web app: consent at /authorize (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let site: LocalSite | undefined;
  let app: CreatedApp;
  let callback: string;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    site = await startSite();
    browser = await launchBrowser();
    callback = `${site.url}/callback`;
    app = await createApp(server, { name: 'Work orders 工单', redirectUris: [callback] });
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await server?.dispose();
  });

  const authorizeUrl = (params: Record<string, string>): string =>
    `${server!.base}/authorize?${new URLSearchParams(params).toString()}`;

  it('a new person registers, is sent to /authorize by an app, logs in, allows with level weak, and the redirect URL receives key and bind=true', async () => {
    const watched = await openPage(browser!);
    const { page } = watched;
    const { username, password } = await registerInBrowser(page, server!.base);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${server!.base}/login`);

    const consent = authorizeUrl({
      app_id: app.appId,
      openid: 'customer-a',
      redirect_uri: callback,
      state: 'st-42 状态',
    });
    await page.goto(consent);
    // Not logged in: the login page first, remembering exactly this consent.
    expect(new URL(page.url()).pathname).to.equal('/login');
    expect(new URL(page.url()).searchParams.get('next')).to.equal(
      consent.slice(server!.base.length),
    );
    await logInHere(page, username, password);
    await page.waitForURL(consent);

    expect(await page.getByRole('heading', { level: 1 }).innerText()).to.contain(
      'Work orders 工单',
    );
    expect(await page.locator('#app-standing').innerText()).to.match(/Active.*100/);
    const weak = page.getByRole('radio', { name: /Weak/ });
    await weak.check();
    expect(await weak.isChecked()).to.equal(true);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(callback));

    const arrived = new URL(page.url());
    expect(arrived.searchParams.get('bind')).to.equal('true');
    expect(arrived.searchParams.get('state')).to.equal('st-42 状态');
    const key = arrived.searchParams.get('key') ?? '';
    expect(key).to.match(/^tbk_/);
    expect(
      site!.requests.some(
        (r) => r.url.pathname === '/callback' && r.url.searchParams.get('key') === key,
      ),
    ).to.equal(true);

    // The key is live and the binding is weak.
    const pushed = await push(server!, app.appSecret, { key, title: 'Hello', body: 'first' });
    expect(pushed.status).to.equal(202);
    expect(pushed.body.status).to.equal('accepted');
    const apps = await call<{ items: { appId: string; level: string; openid: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/apps',
      { cookie: await sessionCookie(watched.context) },
    );
    expect(apps.body.items.map((a) => [a.appId, a.level, a.openid])).to.deep.equal([
      [app.appId, 'weak', 'customer-a'],
    ]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
    await watched.context.close();
  });

  it('Deny (chosen with the keyboard alone) sends the browser back with bind=false and binds nothing', async () => {
    const watched = await openPage(browser!);
    const { page } = watched;
    await registerInBrowser(page, server!.base);
    await page.goto(
      authorizeUrl({
        app_id: app.appId,
        openid: 'customer-b',
        redirect_uri: callback,
        state: 's1',
      }),
    );
    let focused = '';
    for (let presses = 0; presses < 30 && focused !== 'Deny'; presses += 1) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>(focusedText);
    }
    expect(focused, 'Deny is reachable with Tab').to.equal('Deny');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.href.startsWith(callback));
    const arrived = new URL(page.url());
    expect(arrived.searchParams.get('bind')).to.equal('false');
    expect(arrived.searchParams.get('errMsg')).to.be.a('string').and.not.equal('');
    expect(arrived.searchParams.get('key')).to.equal(null);
    const apps = await call<{ items: unknown[] }>(server!.base, 'GET', '/v1/me/apps', {
      cookie: await sessionCookie(watched.context),
    });
    expect(apps.body.items).to.deep.equal([]);
    await watched.context.close();
  });

  it('an invalid request shows an error page and never redirects', async () => {
    const watched = await openPage(browser!);
    const { page } = watched;
    await registerInBrowser(page, server!.base);
    const cases: { params: Record<string, string>; status: number; says: RegExp }[] = [
      {
        params: { app_id: 'app_nope', openid: 'x', redirect_uri: callback },
        status: 404,
        says: /no app app_nope/,
      },
      {
        params: { app_id: app.appId, openid: 'x', redirect_uri: `${site!.url}/steal` },
        status: 400,
        says: /not an address Work orders 工单 registered/,
      },
      {
        params: { app_id: app.appId, redirect_uri: callback },
        status: 400,
        says: /openid is missing/,
      },
    ];
    for (const { params, status, says } of cases) {
      const before = site!.requests.length;
      const url = authorizeUrl(params);
      const response = await page.goto(url);
      expect(response?.status(), url).to.equal(status);
      expect(page.url()).to.equal(url);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).to.equal(
        'This permission request cannot be used',
      );
      expect(await page.locator('.error-detail').innerText()).to.match(says);
      expect(await page.getByRole('button', { name: 'Allow' }).count()).to.equal(0);
      expect(site!.requests.length, 'the app site was never contacted').to.equal(before);
    }
    await watched.context.close();
  });

  it('after logging in, `next` only ever leads to a page of this site', async () => {
    const watched = await openPage(browser!);
    const { page } = watched;
    const { username, password } = await registerInBrowser(page, server!.base);
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/apps']) {
      await page.getByRole('button', { name: 'Log out' }).first().click();
      await page.waitForURL(`${server!.base}/login`);
      await page.goto(`${server!.base}/login?next=${encodeURIComponent(next)}`);
      await logInHere(page, username, password);
      await page.waitForURL((url) => url.pathname !== '/login');
      const arrived = new URL(page.url());
      expect(arrived.origin, next).to.equal(server!.base);
      expect(arrived.pathname, next).to.equal(next === '/apps' ? '/apps' : '/inbox');
    }
    await watched.context.close();
  });
});

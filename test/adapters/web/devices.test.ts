import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';
import { expectProblem, registerPerson } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  openPage,
  startWebServer,
  unexpectedErrors,
  useSession,
  type WatchedPage,
} from './support.js';

describe('web app: my devices and the test push (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let bark: BarkStandIn | undefined;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    browser = await launchBrowser();
    bark = await startBarkServer();
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await bark?.close();
    await server?.dispose();
  });

  /** A new person, logged in, on their devices page. */
  const devicesPageOfNewPerson = async () => {
    const who = await registerPerson(server!);
    const watched = await openPage(browser!);
    open.push(watched);
    await useSession(watched.context, server!.base, who.cookie);
    const { page } = watched;
    await page.goto(`${server!.base}/devices`);
    return { who, watched, page };
  };

  it('saves a Bark device and sends a test push through the real pipeline to it', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    await page.locator('#bark-current', { hasText: 'No device yet' }).waitFor();
    expect(await page.getByRole('button', { name: 'Send me a test push' }).isDisabled()).to.equal(
      true,
    );

    const deviceKey = `web${Date.now()}`;
    bark!.addDevice(deviceKey);
    await page.getByLabel('Bark server URL').fill(bark!.url);
    await page.getByLabel('Device key').fill(deviceKey);
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('#bark-current', { hasText: `Pushing to ${bark!.url}` }).waitFor();
    const me = await call<{ devices: { bark?: { serverUrl: string } } }>(
      server!.base,
      'GET',
      '/v1/me',
      {
        cookie: who.cookie,
      },
    );
    expect(me.body.devices.bark?.serverUrl).to.equal(bark!.url);

    await page.getByRole('button', { name: 'Send me a test push' }).click();
    await page.locator('#test-result[data-outcome]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#test-result').getAttribute('data-outcome')).to.equal('delivered');
    const shown = bark!.notificationsOf(deviceKey);
    expect(shown.map((n) => n.title)).to.deep.equal(['Tidings test push']);
    expect(shown[0]?.body).to.contain('推送测试成功');

    // It came from the built-in Tidings app, which the person now controls like any other.
    const apps = await call<{ items: { appName: string; level: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/apps',
      {
        cookie: who.cookie,
      },
    );
    expect(apps.body.items.map((a) => [a.appName, a.level])).to.deep.equal([['Tidings', 'strong']]);
    const inbox = await call<{ items: { title: string; appName: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/inbox',
      {
        cookie: who.cookie,
      },
    );
    expect(inbox.body.items.map((i) => [i.appName, i.title])).to.deep.equal([
      ['Tidings', 'Tidings test push'],
    ]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('says when Bark no longer accepts the device key, until the person saves it again', async () => {
    const { watched, page } = await devicesPageOfNewPerson();
    // A key this Bark server does not know: the test push is refused for good.
    const deviceKey = `gone${Date.now()}`;
    await page.getByLabel('Bark server URL').fill(bark!.url);
    await page.getByLabel('Device key').fill(deviceKey);
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('#bark-current', { hasText: `Pushing to ${bark!.url}` }).waitFor();
    await page.getByRole('button', { name: 'Send me a test push' }).click();
    await page.locator('#test-result[data-outcome]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#test-result').getAttribute('data-outcome')).to.not.equal(
      'delivered',
    );

    await page.reload();
    await page
      .locator('#bark-current', { hasText: 'Bark no longer accepts this device key' })
      .waitFor();
    expect(await page.locator('#bark-current').innerText()).to.include('reach only your inbox');

    bark!.addDevice(deviceKey);
    await page.getByLabel('Device key').fill(deviceKey);
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('#bark-current', { hasText: `Pushing to ${bark!.url}` }).waitFor();
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('refuses a private Bark server outside the allowlist, saying why', async () => {
    const { who, page } = await devicesPageOfNewPerson();
    await page.getByLabel('Bark server URL').fill('http://10.1.2.3:8080');
    await page.getByLabel('Device key').fill('abc');
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('#bark-error').waitFor();
    expect(await page.locator('#bark-error').innerText()).to.match(
      /private|not allowed|refused|10\.1\.2\.3/i,
    );
    const me = await call<{ devices: Record<string, unknown> }>(server!.base, 'GET', '/v1/me', {
      cookie: who.cookie,
    });
    expect(me.body.devices).to.deep.equal({});
  });
});

describe('HTTP /v1/me/test-push', function () {
  let server: TestServer;
  before(async () => {
    server = await startWebServer();
  });
  after(async () => {
    await server.dispose();
  });

  it('needs a login, a device first, and only shows a person their own test pushes', async () => {
    expect((await call(server.base, 'POST', '/v1/me/test-push')).status).to.equal(401);
    const who = await registerPerson(server);
    const none = await call<{ code: string }>(server.base, 'POST', '/v1/me/test-push', {
      cookie: who.cookie,
    });
    expect([none.status, none.body.code]).to.deep.equal([422, 'illegal_state']);
    expect(
      (await call(server.base, 'GET', '/v1/me/apps', { cookie: who.cookie })).body,
    ).to.deep.equal({ items: [] });

    // An unreachable (but allowlisted) device is fine for this: the status route is what is checked.
    const put = await call(server.base, 'PUT', '/v1/me/devices/bark', {
      cookie: who.cookie,
      body: { serverUrl: 'http://127.0.0.1:9', deviceKey: 'k' },
    });
    expect(put.status).to.equal(200);
    const sent = await call<{ messageId: string; status: string; level: string }>(
      server.base,
      'POST',
      '/v1/me/test-push',
      {
        cookie: who.cookie,
      },
    );
    expect(sent.status).to.equal(202);
    expect(sent.body).to.include({ status: 'accepted', level: 'strong' });
    const mine = await call<{ messageId: string }>(
      server.base,
      'GET',
      `/v1/me/test-push/${sent.body.messageId}`,
      {
        cookie: who.cookie,
      },
    );
    expect([mine.status, mine.body.messageId]).to.deep.equal([200, sent.body.messageId]);
    const other = await registerPerson(server);
    const theirs = await call(server.base, 'GET', `/v1/me/test-push/${sent.body.messageId}`, {
      cookie: other.cookie,
    });
    expect(theirs.status).to.equal(404);

    // Nobody can bind the built-in app in another person's name (its openid is their recipient
    // id, which can be worked out from a username) to turn their test pushes off.
    const victim = await registerPerson(server);
    const hijack = await call(server.base, 'POST', '/v1/me/authorizations', {
      cookie: other.cookie,
      body: {
        appId: SYSTEM_APP_ID,
        openid: victim.recipientId,
        redirectUri: `${server.tidings.settings.publicUrl}/`,
        decision: 'allow',
      },
    });
    expectProblem(hijack, 404, 'not_found');
    expect(
      (await call(server.base, 'GET', '/v1/me/apps', { cookie: other.cookie })).body,
    ).to.deep.equal({ items: [] });
  });
});

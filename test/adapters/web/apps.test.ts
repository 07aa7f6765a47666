import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import {
  allow,
  createApp,
  expectProblem,
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
  startWebServer,
  unexpectedErrors,
  useSession,
  waitUntil,
  type WatchedPage,
} from './support.js';

interface Binding {
  bindingId: string;
  appId: string;
  level: string;
  mutedUntil: string | null;
  blocked: boolean;
}

describe('web app: my apps (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let bark: BarkStandIn | undefined;
  let app: CreatedApp;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    browser = await launchBrowser();
    bark = await startBarkServer();
    app = await createApp(server, {
      name: 'Work orders',
      redirectUris: ['https://orders.example/cb'],
    });
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await bark?.close();
    await server?.dispose();
  });

  const bound = async (
    level: 'strong' | 'weak',
  ): Promise<{ who: Person; key: string; watched: WatchedPage }> => {
    const who = await registerPerson(server!);
    const { key } = await allow(server!, who.cookie, {
      appId: app.appId,
      openid: `o-${who.username}`,
      redirectUri: 'https://orders.example/cb',
      level,
    });
    const watched = await openPage(browser!);
    open.push(watched);
    await useSession(watched.context, server!.base, who.cookie);
    await watched.page.goto(`${server!.base}/apps`);
    await watched.page.getByRole('heading', { name: 'Work orders' }).waitFor();
    return { who, key, watched };
  };

  const bindingOf = async (who: Person): Promise<Binding | undefined> =>
    (
      await call<{ items: Binding[] }>(server!.base, 'GET', '/v1/me/apps', { cookie: who.cookie })
    ).body.items.find((b) => b.appId === app.appId);

  it('setting the app to none makes its next push suppressed; unbinding makes it 410', async () => {
    const { who, key, watched } = await bound('weak');
    const { page } = watched;
    const card = page.locator(`li[data-app="${app.appId}"]`);
    expect(await card.getByRole('radio', { name: /Weak/ }).isChecked()).to.equal(true);

    await card.getByRole('radio', { name: /None/ }).check();
    await waitUntil(
      () => bindingOf(who),
      (b) => b?.level === 'none',
      'level none',
    );
    const suppressed = await push(server!, app.appSecret, { key, body: 'after none' });
    expect(suppressed.status).to.equal(202);
    expect(suppressed.body.status).to.equal('suppressed');
    // The page shows what was saved (it redraws the card from the answer).
    await page.locator(`li[data-app="${app.appId}"] input[value="none"]:checked`).waitFor();

    await page.getByRole('button', { name: 'Unbind Work orders' }).click();
    const dialog = page.getByRole('dialog', { name: 'Unbind Work orders?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Unbind' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await bindingOf(who)).to.equal(undefined);
    expectProblem(
      await push(server!, app.appSecret, { key, body: 'after unbind' }),
      410,
      'binding_revoked',
    );
    expect(await page.locator('#apps-empty').isVisible()).to.equal(true);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('mute for 1 hour keeps the next push off the device (inbox only); unmute brings it back; block suppresses', async () => {
    const { who, key, watched } = await bound('strong');
    const { page } = watched;
    const deviceKey = `dev${Date.now()}`;
    bark!.addDevice(deviceKey);
    const device = await call(server!.base, 'PUT', '/v1/me/devices/bark', {
      cookie: who.cookie,
      body: { serverUrl: bark!.url, deviceKey },
    });
    expect(device.status).to.equal(200);
    const card = page.locator(`li[data-app="${app.appId}"]`);
    const pushesTo = (): number => bark!.notificationsOf(deviceKey).length;

    await card.getByLabel('Mute pushes').selectOption({ label: 'For 1 hour' });
    const muted = await waitUntil(
      () => bindingOf(who),
      (b) => b?.mutedUntil != null,
      'a mute',
    );
    const minutes = (Date.parse(muted!.mutedUntil!) - Date.now()) / 60_000;
    expect(minutes).to.be.within(58, 61);
    await card.locator('.mute-state', { hasText: 'muted until' }).waitFor();

    const quiet = await push(server!, app.appSecret, { key, title: 'While muted', body: 'm' });
    expect(quiet.body.status).to.equal('accepted');
    await waitUntil(
      async () =>
        (
          await call<{ items: { title: string }[] }>(server!.base, 'GET', '/v1/me/inbox', {
            cookie: who.cookie,
          })
        ).body.items,
      (items) => items.some((item) => item.title === 'While muted'),
      'the muted message in the inbox',
    );
    const routed = await call<{ deliveries: { channel: string }[] }>(
      server!.base,
      'GET',
      `/v1/messages/${quiet.body.messageId}`,
      { token: app.appSecret },
    );
    expect(
      routed.body.deliveries.map((d) => d.channel),
      'routed to the inbox only',
    ).to.deep.equal(['inbox']);
    expect(pushesTo(), 'no device push while muted').to.equal(0);

    await card.getByLabel('Mute pushes').selectOption({ label: 'Until I unmute' });
    await waitUntil(
      () => bindingOf(who),
      (b) => b?.mutedUntil?.startsWith('9999') === true,
      'muted for good',
    );
    await card.locator('.mute-state', { hasText: 'until you unmute' }).waitFor();

    await card.getByLabel('Mute pushes').selectOption({ label: 'Not muted' });
    await waitUntil(
      () => bindingOf(who),
      (b) => b?.mutedUntil === null,
      'unmuted',
    );
    await push(server!, app.appSecret, { key, title: 'Loud again', body: 'l' });
    await waitUntil(pushesTo, (n) => n === 1, 'one device push after unmuting');
    expect(bark!.notificationsOf(deviceKey)[0]?.title).to.equal('Loud again');

    await card.getByRole('checkbox', { name: /Block/ }).check();
    await waitUntil(
      () => bindingOf(who),
      (b) => b?.blocked === true,
      'blocked',
    );
    const blocked = await push(server!, app.appSecret, { key, body: 'while blocked' });
    expect(blocked.body.status).to.equal('suppressed');
    await page.locator(`li[data-app="${app.appId}"] .pill`, { hasText: 'Blocked' }).waitFor();
    await page
      .locator(`li[data-app="${app.appId}"]`)
      .getByRole('checkbox', { name: /Block/ })
      .uncheck();
    await waitUntil(
      () => bindingOf(who),
      (b) => b?.blocked === false,
      'unblocked',
    );
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });
});

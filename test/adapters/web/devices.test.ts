import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, Locator, Page } from 'playwright-core';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';
import { expectProblem, registerPerson, type Person } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import { beeperSent } from './beeperPlugin.js';
import { kindsOf, startDevicesServer } from './devicesServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  openPage,
  startWebServer,
  unexpectedErrors,
  useSession,
  type WatchedPage,
} from './support.js';

/** A device as `GET /v1/me/devices` lists it. */
interface ListedDevice {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly broken: string | null;
}

const devicesOf = async (server: TestServer, who: Person): Promise<ListedDevice[]> =>
  (
    await call<{ items: ListedDevice[] }>(server.base, 'GET', '/v1/me/devices', {
      cookie: who.cookie,
    })
  ).body.items;

/** The card of the device called `name` in the list. */
const cardOf = (page: Page, name: string): Locator =>
  page.locator('#devices-list > li', { has: page.getByRole('heading', { name, exact: true }) });

/** Chooses a kind in the add form and waits for its fields. */
const chooseKind = async (page: Page, channelName: string): Promise<void> => {
  await page.getByLabel('Kind').selectOption({ label: channelName });
};

/** The help text a field is described by (its hint, and its error once there is one). */
const descriptionOf = async (page: Page, input: Locator): Promise<string> => {
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
  const texts: string[] = [];
  for (const id of ids) texts.push(await page.locator(`[id="${id}"]`).innerText());
  return texts.join(' | ');
};

/** The page's own files: none of them may name a channel kind. */
const PAGE_FILES = [
  'adapters/web/pages/devices.ts',
  'adapters/web/static/devices.js',
  'adapters/web/static/deviceCard.js',
  'adapters/web/static/settingsForm.js',
  'adapters/web/static/testFollow.js',
];

describe('web app: my devices, of any channel kind (headless Chromium)', function () {
  this.timeout(90_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let bark: BarkStandIn | undefined;
  /** Whether the server loaded the test plugin (TIDINGS_CHANNEL_PLUGINS needs the loader). */
  let beeperLoaded = false;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startDevicesServer();
    browser = await launchBrowser();
    bark = await startBarkServer();
    beeperLoaded = (await kindsOf(server)).includes('beeper');
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await bark?.close();
    await server?.dispose();
  });

  /** Skips a case that needs the test plugin kind, saying why, when this server lacks it. */
  const needBeeper = (context: Mocha.Context): void => {
    if (beeperLoaded) return;
    console.log(
      '      skipped: the server did not load the beeper test plugin named in TIDINGS_CHANNEL_PLUGINS (see its start log)',
    );
    context.skip();
  };

  /** A new person, logged in, on their devices page once it has loaded. */
  const devicesPageOfNewPerson = async () => {
    const who = await registerPerson(server!);
    const watched = await openPage(browser!);
    open.push(watched);
    await useSession(watched.context, server!.base, who.cookie);
    const { page } = watched;
    await page.goto(`${server!.base}/devices`);
    await page.locator('#devices-status', { hasText: 'No device yet' }).waitFor();
    return { who, watched, page };
  };

  /** Adds a Bark device through the generic form. */
  const addBark = async (page: Page, name: string, deviceKey: string): Promise<void> => {
    await chooseKind(page, 'Bark (iOS)');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Server URL').fill(bark!.url);
    await page.getByLabel('Device key').fill(deviceKey);
    await page.getByRole('button', { name: 'Add device' }).click();
    await cardOf(page, name).waitFor();
  };

  /** Presses a device's Test button and waits until the page says where the push went. */
  const testDevice = async (page: Page, name: string): Promise<string> => {
    const card = cardOf(page, name);
    await card.getByRole('button', { name: `Test ${name}` }).click();
    await cardOf(page, name).locator('.result[data-outcome]').waitFor({ timeout: 30_000 });
    return (await cardOf(page, name).locator('.result').getAttribute('data-outcome')) ?? '';
  };

  it('names no channel kind in its own files: every form comes from GET /v1/channels', () => {
    for (const file of PAGE_FILES) {
      const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
      expect(text, file).to.not.match(/\b(bark|ntfy|sms|webhook|beeper|pager)\b/i);
    }
  });

  it('draws the form of a kind only a test plugin registers, from its declared settings', async function () {
    needBeeper(this);
    const { who, watched, page } = await devicesPageOfNewPerson();
    await chooseKind(page, 'Beeper (test plugin)');

    const number = page.getByLabel('Number');
    expect(await number.getAttribute('type')).to.equal('tel');
    expect(await number.getAttribute('pattern')).to.equal('\\+[1-9][0-9]{7,14}');
    expect(await number.getAttribute('required')).to.equal('');
    expect(await descriptionOf(page, number)).to.include('The pager number to call');
    const gateway = page.getByLabel('Gateway URL');
    expect(await gateway.getAttribute('type')).to.equal('url');
    expect(await gateway.getAttribute('required')).to.equal(null);
    expect(await gateway.getAttribute('placeholder')).to.equal('https://beeper.example');
    expect(await descriptionOf(page, gateway)).to.include('Leave blank for https://beeper.example');
    const pin = page.getByLabel('PIN');
    expect([await pin.getAttribute('type'), await pin.getAttribute('required')]).to.deep.equal([
      'password',
      '',
    ]);
    // The declared pattern is the browser's check too: a PIN of letters does not submit.
    expect(await pin.getAttribute('pattern')).to.equal('[0-9]{4,8}');
    await pin.fill('abcd');
    expect(
      await pin.evaluate(
        (input) =>
          (input as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch,
      ),
    ).to.equal(true);
    const priority = page.getByLabel('Priority');
    expect([
      await priority.getAttribute('type'),
      await priority.getAttribute('placeholder'),
    ]).to.deep.equal(['number', '3']);
    const loud = page.getByLabel('Loud');
    expect([await loud.getAttribute('type'), await loud.isChecked()]).to.deep.equal([
      'checkbox',
      false,
    ]);
    expect(await page.getByLabel('Copy to').getAttribute('type')).to.equal('email');

    await page.getByLabel('Name').fill('Night pager');
    await number.fill('+447700900123');
    await pin.fill('4711');
    await loud.check();
    await page.getByRole('button', { name: 'Add device' }).click();
    const card = cardOf(page, 'Night pager');
    await card.waitFor();
    expect(await card.innerText())
      .to.include('Beeper (test plugin)')
      .and.include('Healthy');
    const [saved] = await devicesOf(server!, who);
    expect(saved).to.deep.include({ kind: 'beeper', name: 'Night pager', broken: null });
    expect(saved?.settings).to.deep.equal({
      number: '+447700900123',
      gatewayUrl: 'https://beeper.example',
      pin: '********',
      priority: 3,
      loud: true,
    });

    const before = beeperSent.length;
    expect(await testDevice(page, 'Night pager')).to.equal('delivered');
    const paged = beeperSent.slice(before);
    expect(paged.map((p) => p.title)).to.deep.equal(['Tidings test push']);
    expect(paged[0]?.settings).to.include({ number: '+447700900123', pin: '4711', loud: true });
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('adds a Bark device and a plugin device, lists both, and tests each on its own', async function () {
    needBeeper(this);
    const { who, watched, page } = await devicesPageOfNewPerson();
    const deviceKey = `web${Date.now()}`;
    bark!.addDevice(deviceKey);
    await addBark(page, 'My iPhone', deviceKey);
    await chooseKind(page, 'Beeper (test plugin)');
    await page.getByLabel('Name').fill('Desk pager');
    await page.getByLabel('Number').fill('+12025550123');
    await page.getByLabel('PIN').fill('0000');
    await page.getByRole('button', { name: 'Add device' }).click();
    await cardOf(page, 'Desk pager').waitFor();

    await page.reload();
    await page.locator('#devices-status', { hasText: '2 devices, all healthy' }).waitFor();
    expect(await page.locator('#devices-list > li h3').allInnerTexts()).to.deep.equal([
      'My iPhone',
      'Desk pager',
    ]);
    expect(await cardOf(page, 'My iPhone').innerText()).to.include('Bark (iOS)');
    expect(await cardOf(page, 'Desk pager').innerText()).to.include('Beeper (test plugin)');

    const paged = beeperSent.length;
    expect(await testDevice(page, 'My iPhone')).to.equal('delivered');
    expect(bark!.notificationsOf(deviceKey).map((n) => n.title)).to.deep.equal([
      'Tidings test push',
    ]);
    expect(beeperSent.length, 'the Bark test went to Bark alone').to.equal(paged);
    expect(await testDevice(page, 'Desk pager')).to.equal('delivered');
    expect(beeperSent.slice(paged).map((p) => p.settings['number'])).to.deep.equal([
      '+12025550123',
    ]);
    expect(bark!.notificationsOf(deviceKey)).to.have.length(1);
    expect((await devicesOf(server!, who)).map((d) => d.kind)).to.deep.equal(['bark', 'beeper']);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('sends a Bark test push through the real pipeline, from the built-in Tidings app', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    const deviceKey = `tp${Date.now()}`;
    bark!.addDevice(deviceKey);
    await addBark(page, 'Phone', deviceKey);
    expect(await testDevice(page, 'Phone')).to.equal('delivered');
    expect(await cardOf(page, 'Phone').locator('.result').innerText()).to.include('Test push sent');
    const shown = bark!.notificationsOf(deviceKey);
    expect(shown.map((n) => n.title)).to.deep.equal(['Tidings test push']);
    // In the browser's language (en-GB here), its time in UTC: the person chose no time zone.
    expect(shown[0]?.body).to.match(/^It works: this came through Tidings at .+ \(UTC\)\.$/);
    const apps = await call<{ items: { appName: string; level: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/apps',
      { cookie: who.cookie },
    );
    expect(apps.body.items.map((a) => [a.appName, a.level])).to.deep.equal([['Tidings', 'strong']]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('shows a device the channel no longer knows as broken, and saving it again (secret left blank) resumes it', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    // A key this Bark server does not know: the test push is refused for good.
    const deviceKey = `gone${Date.now()}`;
    await addBark(page, 'Old iPhone', deviceKey);
    expect(await testDevice(page, 'Old iPhone')).to.equal('failed');
    const card = cardOf(page, 'Old iPhone');
    await card.locator('.pill', { hasText: 'Broken' }).waitFor();

    await page.reload();
    await page.locator('#devices-status', { hasText: '1 broken' }).waitFor();
    expect(await card.getAttribute('data-state')).to.equal('broken');
    const [stored] = await devicesOf(server!, who);
    expect(stored?.broken).to.be.a('string').and.not.equal('');
    const text = await card.locator('.broken-reason').innerText();
    expect(text).to.include(stored!.broken!).and.include('save it again to resume');

    // The person registers the key with Bark again and saves the device without retyping it.
    bark!.addDevice(deviceKey);
    await card.getByRole('button', { name: 'Edit Old iPhone' }).click();
    const key = card.getByLabel('Device key');
    expect(await key.inputValue()).to.equal('');
    expect(await key.getAttribute('placeholder')).to.equal('Leave blank to keep');
    expect(await key.getAttribute('required')).to.equal(null);
    expect(await card.getByLabel('Server URL').inputValue()).to.equal(bark!.url);
    await card.getByRole('button', { name: 'Save' }).click();
    await card.locator('.pill', { hasText: 'Healthy' }).waitFor();
    expect((await devicesOf(server!, who))[0]?.broken).to.equal(null);

    // The kept key is the one pushed to.
    expect(await testDevice(page, 'Old iPhone')).to.equal('delivered');
    expect(bark!.notificationsOf(deviceKey).map((n) => n.title)).to.deep.equal([
      'Tidings test push',
    ]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('renames a device and changes a setting, keeping its secret', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    const deviceKey = `ed${Date.now()}`;
    bark!.addDevice(deviceKey);
    await addBark(page, 'Tablet', deviceKey);
    const card = cardOf(page, 'Tablet');
    await card.getByRole('button', { name: 'Edit Tablet' }).click();
    await card.getByLabel('Name').fill('Kitchen iPad');
    await card.getByLabel('Server URL').fill(`${bark!.url}/`);
    await card.getByRole('button', { name: 'Save' }).click();
    await cardOf(page, 'Kitchen iPad').waitFor();
    const [stored] = await devicesOf(server!, who);
    expect(stored).to.deep.include({ name: 'Kitchen iPad' });
    expect(stored?.settings).to.deep.equal({ serverUrl: `${bark!.url}/`, deviceKey: '********' });
    expect(await testDevice(page, 'Kitchen iPad')).to.equal('delivered');
    expect(bark!.notificationsOf(deviceKey)).to.have.length(1);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('removes a device after asking', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    await addBark(page, 'Spare phone', `rm${Date.now()}`);
    const card = cardOf(page, 'Spare phone');
    await card.getByRole('button', { name: 'Remove Spare phone' }).click();
    await page.getByRole('dialog', { name: 'Remove Spare phone?' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await devicesOf(server!, who)).to.have.length(1);
    await card.getByRole('button', { name: 'Remove Spare phone' }).click();
    await page.locator('#confirm-yes').click();
    await card.waitFor({ state: 'detached' });
    await page.locator('#devices-status', { hasText: 'No device yet' }).waitFor();
    expect(await devicesOf(server!, who)).to.deep.equal([]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('shows a validation error beside the field its path names, and a refused destination', async () => {
    const { who, watched, page } = await devicesPageOfNewPerson();
    await chooseKind(page, 'Bark (iOS)');
    // The browser takes any URL; the server takes only http(s): its verdict is the one shown.
    await page.getByLabel('Server URL').fill('ftp://bark.example');
    await page.getByLabel('Device key').fill('abc');
    await page.getByRole('button', { name: 'Add device' }).click();
    const field = page.locator('#add-fields .field[data-setting="serverUrl"]');
    await field.locator('.field-error:not([hidden])').waitFor();
    expect(await field.locator('.field-error').innerText()).to.match(/http/);
    const input = page.getByLabel('Server URL');
    expect(await input.getAttribute('aria-invalid')).to.equal('true');
    expect(await descriptionOf(page, input)).to.match(/http\(s\)/);
    expect(
      await page.locator('#add-fields .field[data-setting="deviceKey"] .field-error').isHidden(),
    ).to.equal(true);
    expect(await page.locator('#add-error').innerText()).to.include('Check the marked fields');

    // A private address outside the allowlist: the outbound guard's refusal names the field too.
    await input.fill('http://10.1.2.3:8080');
    await page.getByRole('button', { name: 'Add device' }).click();
    await field
      .locator('.field-error', { hasText: /private|not allowed|refused|10\.1\.2\.3/i })
      .waitFor();
    expect(await field.locator('.field-error').innerText()).to.not.match(/http\(s\)/);
    expect(await input.getAttribute('aria-invalid')).to.equal('true');
    expect(await devicesOf(server!, who)).to.deep.equal([]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('shows a generated secret once, after adding a device of a kind that has one', async function () {
    const channels = (
      await call<{
        items: { kind: string; name: string; settings: { name: string; generated?: boolean }[] }[];
      }>(server!.base, 'GET', '/v1/channels')
    ).body.items;
    const webhook = channels.find((channel) => channel.kind === 'webhook');
    if (webhook === undefined) {
      console.log('      skipped: this server lists no webhook channel in GET /v1/channels');
      this.skip();
    }
    const { who, watched, page } = await devicesPageOfNewPerson();
    await chooseKind(page, webhook.name);
    const generated = webhook.settings.filter((s) => s.generated === true).map((s) => s.name);
    expect(generated).to.have.length(1);
    expect(await page.locator(`#add-fields [name="${generated[0]!}"]`).count()).to.equal(0);
    await page.getByLabel('Name').fill('Automations');
    await page.getByLabel('URL', { exact: true }).fill('https://hooks.example/in');
    await page.getByRole('button', { name: 'Add device' }).click();
    const box = page.getByRole('region', { name: 'Copy this secret now' });
    await box.waitFor();
    const secret = await page.locator('#add-secret-value').innerText();
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(await box.innerText()).to.include('only this once');
    const [stored] = await devicesOf(server!, who);
    expect(JSON.stringify(stored)).to.not.include(secret);
    await page.reload();
    await cardOf(page, 'Automations').waitFor();
    expect(await page.locator('#add-secret').isHidden()).to.equal(true);
    expect(await page.content()).to.not.include(secret);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
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

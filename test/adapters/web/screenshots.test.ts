import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { allow, createApp, registerPerson, type Person } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { kindsOf, startDevicesServer } from './devicesServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  openPage,
  push,
  unexpectedErrors,
  useSession,
  waitUntil,
} from './support.js';
import { bodyBackground, fontsReady, pageFacts, type PageFacts } from './pageScripts.js';

/** Where the screenshots go; printed so a reviewer can look at them. */
const SCREENSHOTS = join(tmpdir(), 'tidings-screenshots');

const SIZES = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;
const SCHEMES = ['light', 'dark'] as const;

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (file: string): { width: number; height: number } => {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
};

/**
 * What a person or a screen reader needs on every page: no sideways scrolling, one h1, headings
 * that do not skip a level, a label on every control and a name on every button.
 */
const checkPage = async (page: Page): Promise<void> => {
  const facts = await page.evaluate<PageFacts>(pageFacts);
  expect(facts.overflow, 'no sideways scrolling').to.be.at.most(0);
  expect(facts.h1, 'one h1').to.equal(1);
  expect(facts.skips, 'heading levels do not skip').to.deep.equal([]);
  expect(facts.unlabelled, 'controls without a label').to.deep.equal([]);
  expect(facts.nameless, 'buttons without a name').to.deep.equal([]);
};

describe('web app: screenshots at phone and desktop size, light and dark (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let who: Person;
  /** The person of the devices shots, with a healthy, a broken and (with plugins) a beeper device. */
  let deviceOwner: Person;
  let bark: BarkStandIn | undefined;
  let consentUrl: string;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    // The devices page's server: the beeper test plugin is a kind the page has no code for.
    server = await startDevicesServer();
    bark = await startBarkServer();
    browser = await launchBrowser();
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    console.log(`    screenshots: ${SCREENSHOTS}`);

    const repairs = await createApp(server, {
      name: '社区维修 Neighbourhood repairs',
      redirectUris: ['https://repairs.example/cb'],
    });
    const clinic = await createApp(server, {
      name: 'Clinic reminders 诊所提醒',
      redirectUris: ['https://clinic.example/cb'],
    });
    const shop = await createApp(server, {
      name: 'Corner shop',
      redirectUris: ['https://shop.example/cb'],
    });
    who = await registerPerson(server, `阿明_${Date.now().toString(36)}`);
    const bind = async (app: typeof repairs, level: 'strong' | 'weak'): Promise<string> =>
      (
        await allow(server!, who.cookie, {
          appId: app.appId,
          openid: `u-${level}`,
          redirectUri: app.redirectUris[0]!,
          level,
        })
      ).key;
    const shopKey = await bind(shop, 'weak');
    const clinicKey = await bind(clinic, 'weak');
    const repairsKey = await bind(repairs, 'strong');
    const clinicBinding = (
      await call<{ items: { bindingId: string; appId: string }[] }>(
        server.base,
        'GET',
        '/v1/me/apps',
        { cookie: who.cookie },
      )
    ).body.items.find((b) => b.appId === clinic.appId)!;
    await call(server.base, 'PATCH', `/v1/me/apps/${clinicBinding.bindingId}`, {
      cookie: who.cookie,
      body: { mutedUntil: new Date(Date.now() + 8 * 3600_000).toISOString() },
    });

    let count = 0;
    const send = async (secret: string, body: Record<string, unknown>): Promise<void> => {
      expect((await push(server!, secret, body)).status).to.equal(202);
      count += 1;
      await waitUntil(
        async () =>
          (
            await call<{ items: unknown[] }>(server!.base, 'GET', '/v1/me/inbox', {
              cookie: who.cookie,
            })
          ).body.items.length,
        (n) => n === count,
        'delivery',
      );
    };
    await send(shop.appSecret, {
      key: shopKey,
      title: 'Your order is ready for pickup',
      body: 'Two loaves and a jar of honey are waiting at the counter until 18:00.',
    });
    const steps = [
      '已派单 Dispatched',
      '师傅已出发 Technician on the way',
      '已到达 Arrived',
      '维修完成 Repaired',
      '待评价 Please rate us',
      '工单已关闭 Closed',
    ];
    for (const [index, title] of steps.entries()) {
      await send(repairs.appSecret, {
        key: repairsKey,
        thread: 'order-1024',
        title,
        body: `工单 #1024 厨房水龙头漏水 — kitchen tap leaking (step ${index + 1}/6)`,
        url: 'https://repairs.example/orders/1024',
      });
    }
    await send(clinic.appSecret, {
      key: clinicKey,
      title: '明天上午 10:00 复诊 Check-up tomorrow 10:00',
      body: '请带上医保卡。Please bring your insurance card.',
    });
    // One read, so both looks show.
    const inbox = (
      await call<{ items: { messageId: string; title: string }[] }>(
        server.base,
        'GET',
        '/v1/me/inbox',
        { cookie: who.cookie },
      )
    ).body.items;
    const shopMessage = inbox.find((item) => item.title.startsWith('Your order'))!;
    await call(server.base, 'POST', `/v1/me/inbox/${shopMessage.messageId}/read`, {
      cookie: who.cookie,
    });

    // Something for the operator to look at: a complaint by someone else.
    const other = await registerPerson(server);
    const { key: otherKey } = await allow(server, other.cookie, {
      appId: shop.appId,
      openid: 'other',
      redirectUri: 'https://shop.example/cb',
      level: 'weak',
    });
    const spam = await push(server, shop.appSecret, {
      key: otherKey,
      title: '限时抢购 Flash sale',
      body: 'Buy now!!!',
    });
    await waitUntil(
      async () =>
        (
          await call<{ items: unknown[] }>(server!.base, 'GET', '/v1/me/inbox', {
            cookie: other.cookie,
          })
        ).body.items.length,
      (n) => n === 1,
      'the flash sale',
    );
    const filed = await call(
      server.base,
      'POST',
      `/v1/me/inbox/${spam.body.messageId}/complaints`,
      {
        cookie: other.cookie,
        body: { category: 'spam', reason: '每天发三次广告 — three ads a day' },
      },
    );
    expect(filed.status).to.equal(201);

    const consentApp = await createApp(server, {
      name: '物业通知 Estate notices',
      redirectUris: ['https://estate.example/return'],
    });
    deviceOwner = await registerPerson(server, `devices_${Date.now().toString(36)}`);
    await seedDevices(server, bark, deviceOwner);

    consentUrl = `/authorize?${new URLSearchParams({ app_id: consentApp.appId, openid: 'resident-0815', redirect_uri: 'https://estate.example/return', state: 'abc' }).toString()}`;
  });
  after(async () => {
    await browser?.close();
    await bark?.close();
    await server?.dispose();
  });

  const shots: {
    name: string;
    path: string;
    ready: (page: Page) => Promise<void>;
    anonymous?: boolean;
    /** Whose session the shot uses; the inbox person's unless said. */
    person?: () => Person;
  }[] = [
    {
      name: 'login',
      path: '/login',
      anonymous: true,
      ready: async (page) => {
        await page.getByRole('button', { name: 'Log in' }).waitFor();
      },
    },
    {
      name: 'inbox',
      path: '/inbox',
      ready: async (page) => {
        await page.locator('#inbox-list > li').nth(2).waitFor();
      },
    },
    {
      name: 'inbox-thread',
      path: '/inbox',
      ready: async (page) => {
        await page.locator('#inbox-list > li[data-thread="order-1024"] summary').click();
        await page.locator('#inbox-list > li[data-thread="order-1024"] .timeline').waitFor();
      },
    },
    {
      name: 'consent',
      path: '',
      ready: async (page) => {
        await page.getByRole('button', { name: 'Allow' }).waitFor();
      },
    },
    {
      name: 'apps',
      path: '/apps',
      ready: async (page) => {
        await page.locator('#apps-list > li').nth(2).waitFor();
      },
    },
    {
      name: 'devices',
      path: '/devices',
      person: () => deviceOwner,
      ready: async (page) => {
        await page.locator('#devices-list > li[data-state="broken"]').waitFor();
        await page.locator('#add-fields input').first().waitFor();
      },
    },
    {
      name: 'devices-edit',
      path: '/devices',
      person: () => deviceOwner,
      ready: async (page) => {
        // The broken device's edit form, and the add form refusing a setting beside its field.
        const broken = page.locator('#devices-list > li[data-state="broken"]');
        await broken.getByRole('button', { name: /^Edit / }).click();
        await broken.locator('form').waitFor();
        await page.getByLabel('Server URL', { exact: true }).last().fill('ftp://bark.example');
        await page.locator('#add-fields').getByLabel('Device key').fill('abc');
        await page.getByRole('button', { name: 'Add device' }).click();
        await page.locator('#add-fields .field-error:not([hidden])').waitFor();
        await page.mouse.move(0, 0);
      },
    },
    {
      name: 'login-deleted',
      path: '/login?notice=account-deleted',
      anonymous: true,
      ready: async (page) => {
        await page.locator('#page-notice').waitFor();
      },
    },
    {
      name: 'account',
      path: '/account',
      ready: async (page) => {
        await page.getByRole('button', { name: 'Delete my account' }).waitFor();
      },
    },
    {
      name: 'operator',
      path: '/operator',
      ready: async (page) => {
        await page.getByLabel('Admin token').fill(server!.adminToken);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#complaint-list > li').first().waitFor();
      },
    },
  ];

  for (const shot of shots) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of SCHEMES) {
        it(`${shot.name} at ${size} size (${viewport.width}×${viewport.height}), ${scheme}`, async () => {
          const watched = await openPage(browser!, { viewport, colorScheme: scheme });
          try {
            if (shot.anonymous !== true)
              await useSession(watched.context, server!.base, (shot.person?.() ?? who).cookie);
            const { page } = watched;
            await page.goto(`${server!.base}${shot.path === '' ? consentUrl : shot.path}`);
            await shot.ready(page);
            await page.evaluate(fontsReady);
            await checkPage(page);
            const background = await page.evaluate<string>(bodyBackground);
            expect(background).to.equal(
              scheme === 'dark' ? 'rgb(15, 19, 24)' : 'rgb(245, 246, 248)',
            );
            const file = join(SCREENSHOTS, `${shot.name}-${size}-${scheme}.png`);
            await page.screenshot({ path: file, fullPage: true });
            const png = pngSize(file);
            expect(png.width).to.equal(viewport.width);
            expect(png.height).to.be.at.least(viewport.height);
            expect(unexpectedErrors(watched)).to.deep.equal([]);
          } finally {
            await watched.context.close();
          }
        });
      }
    }
  }
});

/** A device as the API lists it. */
interface SeededDevice {
  readonly deviceId: string;
  readonly broken: string | null;
}

/**
 * Gives `person` the devices the devices shots show: a working Bark device, one whose key the
 * Bark stand-in does not know (a test push marks it broken), and, when the server loaded the
 * test plugin, a beeper device.
 */
const seedDevices = async (
  server: TestServer,
  bark: BarkStandIn,
  person: Person,
): Promise<void> => {
  const add = async (body: Record<string, unknown>): Promise<SeededDevice> => {
    const added = await call<SeededDevice>(server.base, 'POST', '/v1/me/devices', {
      cookie: person.cookie,
      body,
    });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    return added.body;
  };
  bark.addDevice('shotkey1');
  await add({
    kind: 'bark',
    name: '阿明的 iPhone',
    settings: { serverUrl: bark.url, deviceKey: 'shotkey1' },
  });
  const gone = await add({
    kind: 'bark',
    name: 'Old iPad',
    settings: { serverUrl: bark.url, deviceKey: 'no-such-key' },
  });
  if ((await kindsOf(server)).includes('beeper')) {
    await add({
      kind: 'beeper',
      name: 'Night pager',
      settings: { number: '+447700900123', pin: '4711', loud: true },
    });
  }
  const tested = await call(server.base, 'POST', `/v1/me/devices/${gone.deviceId}/test`, {
    cookie: person.cookie,
  });
  expect(tested.status).to.equal(202);
  await waitUntil(
    async () =>
      (
        await call<{ items: SeededDevice[] }>(server.base, 'GET', '/v1/me/devices', {
          cookie: person.cookie,
        })
      ).body.items.find((device) => device.deviceId === gone.deviceId)?.broken ?? null,
    (broken) => broken !== null,
    'the device Bark does not know to be marked broken',
    20_000,
  );
};

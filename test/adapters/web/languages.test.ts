import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import { allow, createApp, registerPerson, type Person } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  push,
  startWebServer,
  unexpectedErrors,
  useSession,
  waitUntil,
  type WatchedPage,
  SHOWN_TEXT,
  untranslated,
} from './support.js';
import { fontsReady } from './pageScripts.js';

/** Where the zh-CN screenshots go (a reviewer looks at them). */
const SHOTS = '/tmp/shots';

const SIZES = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;

type Lang = 'zh-CN' | 'en';

describe('web app: both languages, the switch and settings (headless Chromium)', function () {
  this.timeout(120_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let bark: BarkStandIn | undefined;
  let who: Person;
  let consentPath: string;
  const opened: BrowserContext[] = [];

  /** A page in a browser whose language is `lang` (its Accept-Language), signed in as `person`. */
  const open = async (
    lang: Lang,
    person: Person | undefined,
    options: { viewport?: { width: number; height: number }; dark?: boolean } = {},
  ): Promise<WatchedPage> => {
    const context = await browser!.newContext({
      viewport: options.viewport ?? SIZES.desktop,
      colorScheme: options.dark === true ? 'dark' : 'light',
      locale: lang === 'zh-CN' ? 'zh-CN' : 'en-GB',
      timezoneId: 'UTC',
    });
    opened.push(context);
    context.setDefaultTimeout(15_000);
    if (person !== undefined) await useSession(context, server!.base, person.cookie);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    return { context, page, errors, dialogs: [] };
  };

  /** Each page, with what shows once its script has drawn it. */
  const pages: readonly {
    name: string;
    path: () => string;
    signedIn: boolean;
    ready: (page: Page) => Promise<void>;
  }[] = [
    { name: 'login', path: () => '/login', signedIn: false, ready: async () => {} },
    { name: 'register', path: () => '/register', signedIn: false, ready: async () => {} },
    {
      name: 'inbox',
      path: () => '/inbox',
      signedIn: true,
      ready: (page) => page.locator('#inbox-list li.entry').first().waitFor(),
    },
    {
      name: 'apps',
      path: () => '/apps',
      signedIn: true,
      ready: (page) => page.locator('#apps-list li').first().waitFor(),
    },
    {
      name: 'devices',
      path: () => '/devices',
      signedIn: true,
      ready: (page) => page.locator('#devices-list li.device').first().waitFor(),
    },
    {
      name: 'settings',
      path: () => '/settings',
      signedIn: true,
      ready: (page) => page.locator('#settings-form').waitFor(),
    },
    {
      name: 'account',
      path: () => '/account',
      signedIn: true,
      ready: (page) => page.locator('#delete-form').waitFor(),
    },
    {
      name: 'operator',
      path: () => '/operator',
      signedIn: true,
      ready: async (page) => {
        await page.locator('#admin-token').fill(server!.adminToken);
        await page.locator('#token-form button[type="submit"]').click();
        await page.locator('#operator-panels').waitFor();
        await page.locator('#rep-list li').first().waitFor();
      },
    },
    {
      name: 'consent',
      path: () => consentPath,
      signedIn: true,
      ready: (page) => page.locator('#consent-form').waitFor(),
    },
    {
      name: 'error',
      path: () => '/authorize?app_id=app_nope&openid=x&redirect_uri=https://x.example/cb',
      signedIn: true,
      ready: async () => {},
    },
  ];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    bark = await startBarkServer();
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
    console.log(`    screenshots: ${SHOTS}`);

    who = await registerPerson(server, `小林_${Date.now().toString(36)}`);
    const repairs = await createApp(server, {
      name: '社区维修',
      redirectUris: ['https://repairs.example/cb'],
    });
    const shop = await createApp(server, {
      name: 'Corner shop',
      redirectUris: ['https://shop.example/cb'],
    });
    const { key } = await allow(server, who.cookie, {
      appId: repairs.appId,
      openid: 'resident-1024',
      redirectUri: 'https://repairs.example/cb',
      level: 'strong',
    });
    consentPath = `/authorize?app_id=${shop.appId}&openid=u-7&redirect_uri=${encodeURIComponent('https://shop.example/cb')}&state=s1`;
    bark.addDevice('zhKey0123');
    const device = await call(server.base, 'POST', '/v1/me/devices', {
      cookie: who.cookie,
      body: {
        kind: 'bark',
        name: '我的 iPhone',
        settings: { serverUrl: bark.url, deviceKey: 'zhKey0123' },
      },
    });
    expect(device.status, JSON.stringify(device.body)).to.equal(201);
    for (const [index, title] of ['已派单', '师傅已出发', '维修完成'].entries()) {
      const sent = await push(server, repairs.appSecret, {
        key,
        thread: 'order-1024',
        title,
        body: `工单 #1024 厨房水龙头漏水（第 ${index + 1} 步）`,
      });
      expect(sent.status).to.equal(202);
    }
    await waitUntil(
      async () =>
        (
          await call<{ items: unknown[] }>(server!.base, 'GET', '/v1/me/inbox', {
            cookie: who.cookie,
          })
        ).body.items.length,
      (n) => n === 3,
      'the inbox',
    );
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((context) => context.close()));
  });

  after(async () => {
    await browser?.close();
    await bark?.close();
    await server?.dispose();
  });

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`shows every page in ${lang}, with <html lang> set and no untranslated key`, async () => {
      for (const entry of pages) {
        const watched = await open(lang, entry.signedIn ? who : undefined);
        await watched.page.goto(`${server!.base}${entry.path()}`);
        await entry.ready(watched.page);
        expect(await watched.page.getAttribute('html', 'lang'), entry.name).to.equal(lang);
        const text = await watched.page.evaluate<string>(SHOWN_TEXT);
        expect(untranslated(text), `${entry.name} in ${lang}`).to.deep.equal([]);
        const heading = await watched.page.locator('h1').innerText();
        if (lang === 'zh-CN') {
          expect(heading, `${entry.name}: a Chinese heading`).to.match(/\p{Script=Han}/u);
        } else {
          expect(heading, `${entry.name}: an English heading`).to.match(/[A-Za-z]/);
        }
        expect(unexpectedErrors(watched), entry.name).to.deep.equal([]);
        await watched.context.close();
      }
    });
  }

  it('takes screenshots of every page in zh-CN: phone and desktop, light and dark', async () => {
    for (const entry of pages) {
      for (const [size, viewport] of Object.entries(SIZES)) {
        for (const dark of [false, true]) {
          const watched = await open('zh-CN', entry.signedIn ? who : undefined, { viewport, dark });
          await watched.page.goto(`${server!.base}${entry.path()}`);
          await entry.ready(watched.page);
          await watched.page.evaluate(fontsReady);
          const overflow = await watched.page.evaluate(
            '(document.documentElement.scrollWidth - document.documentElement.clientWidth)',
          );
          expect(overflow, `${entry.name} ${size}: no sideways scrolling`).to.be.at.most(0);
          await watched.page.screenshot({
            path: join(SHOTS, `${entry.name}-${size}-${dark ? 'dark' : 'light'}.png`),
            fullPage: true,
          });
          await watched.context.close();
        }
      }
    }
  });

  it('the switch turns a visitor’s pages into the other language, and a cookie keeps it', async () => {
    const { page, context } = await open('en', undefined);
    await page.goto(`${server!.base}/login?next=%2Fapps`);
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    await page.getByRole('link', { name: '中文' }).click();
    await page.waitForURL(`${server!.base}/login?next=%2Fapps`);
    expect(await page.getAttribute('html', 'lang')).to.equal('zh-CN');
    await page.getByRole('heading', { name: '登录' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'tidings_locale');
    expect(cookie?.value).to.equal('zh-CN');
    await page.goto(`${server!.base}/register`);
    expect(await page.getAttribute('html', 'lang')).to.equal('zh-CN');
    expect(await page.getByRole('link', { name: '中文' }).getAttribute('aria-current')).to.equal(
      'true',
    );
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  });

  it('the switch saves a signed-in person’s locale preference, which wins over the browser', async () => {
    const person = await registerPerson(server!);
    const { page } = await open('zh-CN', person);
    await page.goto(`${server!.base}/apps`);
    expect(await page.getAttribute('html', 'lang')).to.equal('zh-CN');
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'My apps' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    const saved = await call<{ locale: string | null }>(server!.base, 'GET', '/v1/me/preferences', {
      cookie: person.cookie,
    });
    expect(saved.body.locale).to.equal('en');
    // Another browser, asking for Chinese and without the cookie: the preference still decides.
    const elsewhere = await open('zh-CN', person);
    await elsewhere.page.goto(`${server!.base}/inbox`);
    expect(await elsewhere.page.getAttribute('html', 'lang')).to.equal('en');
  });

  it('the settings page saves language, time zone, quiet hours and digest, and shows them again', async () => {
    const person = await registerPerson(server!);
    bark!.addDevice('settingsKey1');
    const device = await call<{ deviceId: string }>(server!.base, 'POST', '/v1/me/devices', {
      cookie: person.cookie,
      body: {
        kind: 'bark',
        name: 'Desk phone',
        settings: { serverUrl: bark!.url, deviceKey: 'settingsKey1' },
      },
    });
    const watched = await open('en', person);
    const { page } = watched;
    await page.goto(`${server!.base}/settings`);
    await page.locator('#settings-form').waitFor();
    expect(await page.getByRole('combobox', { name: 'Language' }).inputValue()).to.equal('');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
    await page.getByLabel('Time zone').selectOption('Asia/Shanghai');
    await page.getByLabel('Keep my devices quiet at night').check();
    await page.getByLabel('From').fill('22:30');
    await page.getByLabel('Until').fill('07:15');
    await page.getByLabel('Let time-sensitive messages through').check();
    await page.getByLabel('Send me one summary a day').check();
    await page.getByLabel('At', { exact: true }).fill('08:45');
    await page.getByLabel('To', { exact: true }).selectOption(device.body.deviceId);
    await page.getByRole('button', { name: 'Save settings' }).click();
    // A new language draws the page again, in it.
    await page.getByRole('heading', { name: '设置' }).waitFor();
    await page.locator('#settings-form').waitFor();
    expect(await page.getAttribute('html', 'lang')).to.equal('zh-CN');
    expect(await page.getAttribute('html', 'data-time-zone')).to.equal('Asia/Shanghai');
    expect(await page.getByRole('combobox', { name: '语言' }).inputValue()).to.equal('zh-CN');
    expect(await page.getByLabel('时区').inputValue()).to.equal('Asia/Shanghai');
    expect(await page.getByLabel('夜间不要推送到我的设备').isChecked()).to.equal(true);
    expect(await page.getByLabel('开始').inputValue()).to.equal('22:30');
    expect(await page.getByLabel('结束').inputValue()).to.equal('07:15');
    expect(await page.getByLabel('紧急消息照常推送').isChecked()).to.equal(true);
    expect(await page.getByLabel('时间', { exact: true }).inputValue()).to.equal('08:45');
    expect(await page.getByLabel('发送到').inputValue()).to.equal(device.body.deviceId);
    const saved = await call(server!.base, 'GET', '/v1/me/preferences', { cookie: person.cookie });
    expect(saved.body).to.deep.equal({
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      quietHours: { start: '22:30', end: '07:15', allowTimeSensitive: true },
      digest: { at: '08:45', deviceId: device.body.deviceId },
    });
    // Turning both off saves nulls; the same page shows them off.
    await page.getByLabel('夜间不要推送到我的设备').uncheck();
    await page.getByLabel('每天给我发一份摘要').uncheck();
    await page.getByRole('button', { name: '保存设置' }).click();
    await page.locator('#settings-result').filter({ hasText: '已保存' }).waitFor();
    const off = await call(server!.base, 'GET', '/v1/me/preferences', { cookie: person.cookie });
    expect(off.body).to.deep.include({ quietHours: null, digest: null });
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('the settings page keeps a zone alias saved through the API, and names a refused field in the page’s language', async () => {
    const person = await registerPerson(server!);
    const put = await call(server!.base, 'PUT', '/v1/me/preferences', {
      cookie: person.cookie,
      body: { locale: 'zh-CN', timeZone: 'US/Eastern', quietHours: null, digest: null },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    const watched = await open('zh-CN', person);
    const { page } = watched;
    await page.goto(`${server!.base}/settings`);
    await page.locator('#settings-form').waitFor();
    expect(await page.getByLabel('时区').inputValue()).to.equal('US/Eastern');
    // Quiet hours that end when they start cannot be saved: the page says which field, in Chinese.
    await page.getByLabel('夜间不要推送到我的设备').check();
    await page.getByLabel('开始').fill('22:00');
    await page.getByLabel('结束').fill('22:00');
    await page.getByRole('button', { name: '保存设置' }).click();
    const shown = page.locator('#settings-error');
    await shown.waitFor();
    expect(await shown.textContent()).to.equal('结束：无法保存，请检查后再试。');
    const kept = await call(server!.base, 'GET', '/v1/me/preferences', { cookie: person.cookie });
    expect(kept.body).to.deep.include({ timeZone: 'US/Eastern', quietHours: null });
  });
});

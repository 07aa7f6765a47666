import { mkdirSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';
import {
  allow,
  createApp,
  fromNow,
  registerPerson,
  type Person,
} from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import { fontsReady } from './pageScripts.js';
import {
  chromiumAvailable,
  launchBrowser,
  push,
  startWebServer,
  unexpectedErrors,
  useSession,
  waitUntil,
  SHOWN_TEXT,
  untranslated,
} from './support.js';

const SHOT = '/tmp/shots/why-no-push-zh.png';
const ZONE = 'Asia/Shanghai';
const PHONE = { width: 390, height: 844 } as const;

type Lang = 'zh-CN' | 'en';

interface InboxItem {
  readonly messageId: string;
  readonly title: string | null;
  readonly delivery: { readonly reason?: string; readonly devices: { status: string }[] };
}

/**
 * How the page writes a time (common.js formatTime, in the person's zone): the hour alone today,
 * with the date otherwise. Evaluated in the page, so the browser's own Intl data decides.
 */
const pageTime = (iso: string): string => `(() => {
  const zone = { timeZone: ${JSON.stringify(ZONE)} };
  const date = new Date(${JSON.stringify(iso)});
  const day = new Intl.DateTimeFormat('en-CA', { dateStyle: 'short', ...zone });
  const today = day.format(date) === day.format(new Date());
  return new Intl.DateTimeFormat(document.documentElement.lang,
    today ? { timeStyle: 'short', ...zone } : { dateStyle: 'medium', timeStyle: 'short', ...zone },
  ).format(date);
})()`;

/**
 * The inbox page says why a message was not pushed, in both languages (issue 18 "Why no push"):
 * one person whose only iPhone has a Bark key the stand-in does not know (so it breaks), a weak
 * app, a muted app, and a working iPad added afterwards for one pushed message.
 */
describe('web app: inbox, why no push (headless Chromium)', function () {
  this.timeout(120_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let bark: BarkStandIn | undefined;
  let who: Person;
  let mutedUntil: string;
  const opened: BrowserContext[] = [];

  const inbox = async (): Promise<InboxItem[]> =>
    (
      await call<{ items: InboxItem[] }>(server!.base, 'GET', '/v1/me/inbox', {
        cookie: who.cookie,
      })
    ).body.items;

  /** Binds `who` to a new app at `level`; returns the app's secret and the binding key. */
  const bound = async (
    name: string,
    level: 'strong' | 'weak',
  ): Promise<{ secret: string; key: string; bindingId: string }> => {
    const app = await createApp(server!, { name, redirectUris: ['https://apps.example/cb'] });
    const { key } = await allow(server!, who.cookie, {
      appId: app.appId,
      openid: `o-${name}`,
      redirectUri: 'https://apps.example/cb',
      level,
    });
    const apps = await call<{ items: { bindingId: string; appId: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/apps',
      { cookie: who.cookie },
    );
    const bindingId = apps.body.items.find((item) => item.appId === app.appId)?.bindingId ?? '';
    return { secret: app.appSecret, key, bindingId };
  };

  const addDevice = async (name: string, deviceKey: string): Promise<void> => {
    const reply = await call(server!.base, 'POST', '/v1/me/devices', {
      cookie: who.cookie,
      body: { kind: 'bark', name, settings: { serverUrl: bark!.url, deviceKey } },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  };

  /** Sends one message and waits until its inbox item satisfies `done`. */
  const sendAndWait = async (
    app: { secret: string; key: string },
    title: string,
    done: (item: InboxItem) => boolean,
  ): Promise<void> => {
    const sent = await push(server!, app.secret, { key: app.key, title, body: `${title}.` });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    await waitUntil(
      inbox,
      (items) => items.some((item) => item.messageId === sent.body.messageId && done(item)),
      `${title} settled`,
    );
  };

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    bark = await startBarkServer();
    browser = await launchBrowser();
    mkdirSync('/tmp/shots', { recursive: true });

    who = await registerPerson(server);
    const prefs = await call(server.base, 'PUT', '/v1/me/preferences', {
      cookie: who.cookie,
      body: { locale: null, timeZone: ZONE, quietHours: null, digest: null },
    });
    expect(prefs.status, JSON.stringify(prefs.body)).to.equal(200);
    // Bark does not know this key: the first push is refused for good and the device marked broken.
    await addDevice('iPhone', 'lostKey0123');
    const repairs = await bound('社区维修 Repairs', 'strong');
    await sendAndWait(repairs, '师傅已出发 On the way', (item) =>
      item.delivery.devices.some((device) => device.status === 'abandoned'),
    );
    await waitUntil(
      inbox,
      (items) => items[0]?.delivery.reason === 'device_broken',
      'the iPhone marked broken',
    );
    const shop = await bound('Corner shop 小店', 'weak');
    await sendAndWait(shop, '订单已发货 Shipped', (item) => item.delivery.reason === 'weak');
    const clinic = await bound('诊所 Clinic', 'strong');
    mutedUntil = fromNow(3 * 3_600_000);
    const muted = await call<{ mutedUntil: string }>(
      server.base,
      'PATCH',
      `/v1/me/apps/${clinic.bindingId}`,
      { cookie: who.cookie, body: { mutedUntil } },
    );
    expect(muted.status, JSON.stringify(muted.body)).to.equal(200);
    mutedUntil = muted.body.mutedUntil;
    await sendAndWait(clinic, '预约提醒 Visit booked', (item) => item.delivery.reason === 'muted');
    bark.addDevice('iPadKey0123');
    await addDevice('iPad', 'iPadKey0123');
    const parcels = await bound('快递 Parcels', 'strong');
    await sendAndWait(parcels, '包裹已送达 Delivered', (item) =>
      item.delivery.devices.some((device) => device.status === 'delivered'),
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

  /** The inbox in a browser asking for `lang`, signed in as the person, drawn. */
  const openInbox = async (
    lang: Lang,
    viewport: { width: number; height: number } = { width: 1280, height: 800 },
  ): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser!.newContext({
      viewport,
      locale: lang === 'zh-CN' ? 'zh-CN' : 'en-GB',
      timezoneId: 'UTC',
    });
    opened.push(context);
    context.setDefaultTimeout(15_000);
    await useSession(context, server!.base, who.cookie);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server!.base}/inbox`);
    await page.locator('#inbox-list li.entry').nth(3).waitFor();
    return { page, errors };
  };

  /** The delivery words under the entry headed `title`. */
  const noteOf = (page: Page, title: string): Locator =>
    page
      .locator('#inbox-list > li.entry', { has: page.getByRole('heading', { name: title }) })
      .locator('.delivery');

  const words = {
    en: {
      broken: 'Your iPhone’s Bark key is broken — fix it in Devices',
      link: 'Devices',
      weak: 'Weak: inbox only',
      muted: 'Muted until',
      pushed: 'Pushed to iPad',
    },
    'zh-CN': {
      broken: '你的 iPhone 的 Bark 密钥已失效 — 请到设备页修复',
      link: '设备',
      weak: '弱提醒：仅存入收件箱',
      muted: '静音至',
      pushed: '已推送到 iPad',
    },
  } as const;

  for (const lang of ['en', 'zh-CN'] as const) {
    it(`says in ${lang} why each message was not pushed, and where it was`, async () => {
      const { page, errors } = await openInbox(lang);
      const expected = words[lang];
      const broken = noteOf(page, '师傅已出发 On the way');
      expect(await broken.innerText()).to.equal(expected.broken);
      expect(await broken.getAttribute('data-reason')).to.equal('device_broken');
      expect(await broken.getByRole('link', { name: expected.link }).getAttribute('href')).to.equal(
        '/devices',
      );
      expect(await noteOf(page, '订单已发货 Shipped').innerText()).to.equal(expected.weak);
      // The end of the mute, in the person's zone (Asia/Shanghai, not the browser's UTC).
      const muted = noteOf(page, '预约提醒 Visit booked');
      const time = await page.evaluate<string>(pageTime(mutedUntil));
      expect(await muted.innerText()).to.equal(`${expected.muted} ${time}`);
      expect(await muted.locator('time').getAttribute('datetime')).to.equal(mutedUntil);
      const shanghai = new Intl.DateTimeFormat('en-GB', {
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZone: ZONE,
      }).format(new Date(mutedUntil));
      if (lang === 'zh-CN') expect(time).to.contain(shanghai);
      expect(await noteOf(page, '包裹已送达 Delivered').innerText()).to.equal(expected.pushed);
      const text = await page.evaluate<string>(SHOWN_TEXT);
      expect(untranslated(text)).to.deep.equal([]);
      expect(errors.filter((line) => !line.startsWith('Failed to load resource'))).to.deep.equal(
        [],
      );
    });
  }

  it('takes a phone-size screenshot of the zh-CN inbox with the delivery words', async () => {
    const { page, errors } = await openInbox('zh-CN', PHONE);
    await page.evaluate(fontsReady);
    const overflow = await page.evaluate<number>(
      '(document.documentElement.scrollWidth - document.documentElement.clientWidth)',
    );
    expect(overflow, 'no sideways scrolling').to.be.at.most(0);
    await page.screenshot({ path: SHOT, fullPage: true });
    expect(unexpectedErrors({ errors, dialogs: [], page, context: page.context() })).to.deep.equal(
      [],
    );
  });
});

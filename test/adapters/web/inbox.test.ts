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
  startWebServer,
  unexpectedErrors,
  useSession,
  waitUntil,
  type WatchedPage,
} from './support.js';

interface InboxItem {
  messageId: string;
  appId: string;
  title: string | null;
  readAt: string | null;
  thread: string | null;
}

const STEPS = [
  'Dispatched 已派单',
  'Departed 已出发',
  'Arrived 已到达',
  'Handled 已处理',
  'Awaiting review 待评价',
  'Closed 已关闭',
];

describe('web app: inbox (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let orders: CreatedApp;
  let clinic: CreatedApp;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    browser = await launchBrowser();
    orders = await createApp(server, {
      name: 'Work orders',
      redirectUris: ['https://orders.example/cb'],
    });
    clinic = await createApp(server, {
      name: 'Clinic 诊所',
      redirectUris: ['https://clinic.example/cb'],
    });
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  /** A new person bound to both apps, logged in in a fresh browser context. */
  const person = async (): Promise<{
    who: Person;
    ordersKey: string;
    clinicKey: string;
    watched: WatchedPage;
  }> => {
    const who = await registerPerson(server!);
    const { key: ordersKey } = await allow(server!, who.cookie, {
      appId: orders.appId,
      openid: `o-${who.username}`,
      redirectUri: 'https://orders.example/cb',
      level: 'weak',
    });
    const { key: clinicKey } = await allow(server!, who.cookie, {
      appId: clinic.appId,
      openid: `c-${who.username}`,
      redirectUri: 'https://clinic.example/cb',
      level: 'weak',
    });
    const watched = await openPage(browser!);
    open.push(watched);
    await useSession(watched.context, server!.base, who.cookie);
    return { who, ordersKey, clinicKey, watched };
  };

  const inbox = async (who: Person, query = ''): Promise<InboxItem[]> =>
    (
      await call<{ items: InboxItem[] }>(server!.base, 'GET', `/v1/me/inbox${query}`, {
        cookie: who.cookie,
      })
    ).body.items;

  const inboxHolds = (who: Person, count: number): Promise<InboxItem[]> =>
    waitUntil(
      () => inbox(who),
      (items) => items.length === count,
      `${count} messages in the inbox`,
    );

  it('six progress steps of one thread show as one unread thread with six steps; opening it marks it read', async () => {
    const { who, ordersKey, watched } = await person();
    const { page } = watched;
    for (const [index, title] of STEPS.entries()) {
      const reply = await push(server!, orders.appSecret, {
        key: ordersKey,
        thread: 'order-1024',
        title,
        body: `Work order #1024, step ${index + 1} of 6`,
      });
      expect(reply.status).to.equal(202);
      // Steps of a work order come minutes apart; each arrives before the next is sent.
      await inboxHolds(who, index + 1);
    }

    await page.goto(`${server!.base}/inbox`);
    const entries = page.locator('#inbox-list > li');
    await entries.first().waitFor();
    expect(await entries.count()).to.equal(1);
    const entry = entries.first();
    expect(await entry.getAttribute('class')).to.contain('unread');
    expect(await entry.locator('.unread-badge').innerText()).to.equal('6 unread');
    expect(await entry.locator('.step-count').innerText()).to.equal('6 steps');
    // The newest step heads the entry; the timeline lists all six, oldest first.
    expect(await entry.getByRole('heading').innerText()).to.equal(STEPS[5]);
    expect(await entry.locator('.timeline .step-title').allTextContents()).to.deep.equal(STEPS);
    expect(await entry.locator('.timeline').isVisible()).to.equal(false);

    await entry.locator('summary').click();
    expect(await entry.locator('.timeline').isVisible()).to.equal(true);
    await page.locator('#inbox-list > li.unread').first().waitFor({ state: 'detached' });
    const items = await inbox(who);
    expect(items).to.have.length(6);
    expect(items.filter((item) => item.readAt === null)).to.deep.equal([]);
    expect(await page.locator('#inbox-list .unread-badge').count()).to.equal(0);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('a step arriving in a thread the person has open stays unread until they look again', async () => {
    const { who, ordersKey, watched } = await person();
    const { page } = watched;
    await push(server!, orders.appSecret, {
      key: ordersKey,
      thread: 'order-7',
      title: 'Dispatched',
      body: 'step 1',
    });
    await inboxHolds(who, 1);
    await page.goto(`${server!.base}/inbox`);
    const entry = page.locator('#inbox-list > li').first();
    await entry.locator('summary').click();
    await page.locator('#inbox-list > li.unread').first().waitFor({ state: 'detached' });

    await push(server!, orders.appSecret, {
      key: ordersKey,
      thread: 'order-7',
      title: 'Departed',
      body: 'step 2',
    });
    await page
      .locator('#inbox-list .step-count', { hasText: '2 steps' })
      .waitFor({ timeout: 15_000 });
    // The list was drawn again with the entry still open: that is not the person opening it.
    await page.locator('#inbox-list > li.unread').first().waitFor();
    const items = await inbox(who);
    expect(items.map((item) => [item.title, item.readAt === null])).to.deep.equal([
      ['Departed', true],
      ['Dispatched', false],
    ]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('keeps every message after "Load older" when new ones push the first page down', async () => {
    const { who, ordersKey, watched } = await person();
    const { page } = watched;
    for (let n = 1; n <= 103; n += 1) {
      const reply = await push(server!, orders.appSecret, {
        key: ordersKey,
        title: `Note ${n}`,
        body: `note ${n}`,
      });
      expect(reply.status).to.equal(202);
    }
    // One binding's messages are routed in order: the last one in the inbox means all are.
    await waitUntil(
      () => inbox(who, '?limit=1'),
      (items) => items[0]?.title === 'Note 103',
      'the 103rd message in the inbox',
    );
    await page.goto(`${server!.base}/inbox`);
    const entries = page.locator('#inbox-list > li');
    await entries.first().waitFor();
    expect(await entries.count()).to.equal(100);
    await page.getByRole('button', { name: 'Load older' }).click();
    await page.getByRole('heading', { name: 'Note 1', exact: true }).waitFor();
    expect(await entries.count()).to.equal(103);

    for (const n of [1, 2, 3]) {
      await push(server!, orders.appSecret, { key: ordersKey, title: `Fresh ${n}`, body: 'new' });
    }
    await page.getByRole('heading', { name: 'Fresh 3' }).waitFor({ timeout: 15_000 });
    const titles = await page.locator('#inbox-list > li h2').allInnerTexts();
    expect(titles).to.have.length(106);
    expect(titles.slice(0, 3)).to.deep.equal(['Fresh 3', 'Fresh 2', 'Fresh 1']);
    expect(titles.slice(3)).to.deep.equal(
      Array.from({ length: 103 }, (_, index) => `Note ${103 - index}`),
    );
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('new messages appear without a reload, newest first', async () => {
    const { who, ordersKey, clinicKey, watched } = await person();
    const { page } = watched;
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    await push(server!, orders.appSecret, { key: ordersKey, title: 'Older news', body: 'one' });
    await inboxHolds(who, 1);
    await page.goto(`${server!.base}/inbox`);
    await page.getByRole('heading', { name: 'Older news' }).waitFor();
    const loaded = navigations;

    await push(server!, clinic.appSecret, {
      key: clinicKey,
      title: '预约提醒 Visit booked',
      body: '明天 10:00',
    });
    await page.getByRole('heading', { name: '预约提醒 Visit booked' }).waitFor({ timeout: 15_000 });
    expect(navigations, 'no reload happened').to.equal(loaded);
    expect(await page.locator('#inbox-list > li h2').allInnerTexts()).to.deep.equal([
      '预约提醒 Visit booked',
      'Older news',
    ]);
    expect(await page.locator('#inbox-list > li').first().locator('.from').innerText()).to.equal(
      'Clinic 诊所',
    );
  });

  it('filters by app', async () => {
    const { who, ordersKey, clinicKey, watched } = await person();
    const { page } = watched;
    await push(server!, orders.appSecret, { key: ordersKey, title: 'From orders', body: 'o' });
    await push(server!, clinic.appSecret, { key: clinicKey, title: 'From clinic', body: 'c' });
    await inboxHolds(who, 2);
    await page.goto(`${server!.base}/inbox`);
    await page.getByRole('heading', { name: 'From clinic' }).waitFor();
    expect(await page.locator('#inbox-list > li').count()).to.equal(2);

    await page.getByLabel('Show').selectOption({ label: 'Clinic 诊所' });
    const entries = page.locator('#inbox-list > li');
    await waitUntil(
      () => entries.count(),
      (n) => n === 1,
      'one entry',
    );
    expect(await page.locator('#inbox-list > li h2').allInnerTexts()).to.deep.equal([
      'From clinic',
    ]);

    await page.getByLabel('Show').selectOption({ label: 'All apps' });
    await waitUntil(
      () => entries.count(),
      (n) => n === 2,
      'both entries again',
    );
  });

  it('"Mark read" marks a message read and "Archive" takes it out of the inbox', async () => {
    const { who, ordersKey, watched } = await person();
    const { page } = watched;
    await push(server!, orders.appSecret, { key: ordersKey, title: 'Keep me', body: 'k' });
    await push(server!, orders.appSecret, { key: ordersKey, title: 'Archive me', body: 'a' });
    const [archived, kept] = await inboxHolds(who, 2);
    await page.goto(`${server!.base}/inbox`);
    await page.getByRole('heading', { name: 'Keep me' }).waitFor();

    await page.getByRole('button', { name: 'Mark read: “Keep me”' }).click();
    await page.getByRole('button', { name: 'Mark read: “Keep me”' }).waitFor({ state: 'detached' });
    const afterRead = await inbox(who);
    expect(afterRead.find((item) => item.messageId === kept!.messageId)?.readAt).to.be.a('string');
    expect(afterRead.find((item) => item.messageId === archived!.messageId)?.readAt).to.equal(null);

    await page.getByRole('button', { name: 'Archive “Archive me”' }).click();
    await page.getByRole('heading', { name: 'Archive me' }).waitFor({ state: 'detached' });
    expect((await inbox(who)).map((item) => item.title)).to.deep.equal(['Keep me']);
  });

  it("a test push (from the built-in app, which takes no complaints) has no Complain button; an app's message has", async () => {
    const { who, ordersKey, watched } = await person();
    const { page } = watched;
    const device = await call(server!.base, 'PUT', '/v1/me/devices/bark', {
      cookie: who.cookie,
      body: { serverUrl: 'http://127.0.0.1:9', deviceKey: 'k' },
    });
    expect(device.status).to.equal(200);
    const tested = await call(server!.base, 'POST', '/v1/me/test-push', { cookie: who.cookie });
    expect(tested.status).to.equal(202);
    await push(server!, orders.appSecret, { key: ordersKey, title: 'From orders', body: 'o' });
    await inboxHolds(who, 2);
    await page.goto(`${server!.base}/inbox`);
    await page.getByRole('heading', { name: 'Tidings test push' }).waitFor();
    await page.getByRole('heading', { name: 'From orders' }).waitFor();
    expect(
      await page.getByRole('button', { name: 'Complain about “From orders”' }).count(),
    ).to.equal(1);
    expect(
      await page.getByRole('button', { name: 'Complain about “Tidings test push”' }).count(),
    ).to.equal(0);
    expect(
      await page.getByRole('button', { name: 'Archive “Tidings test push”' }).count(),
    ).to.equal(1);
  });
});

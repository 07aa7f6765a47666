import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { APP_ID, APP_SECRET, closedPortBase } from '../../../devtools/wechatServer.js';
import {
  allow,
  createApp,
  expectProblem,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../../support/httpFixtures.js';
import { ADMIN_TOKEN, call, type TestServer } from '../../support/testServer.js';
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

interface AppView {
  status: string;
  score: number;
  complaints: { open: number; upheld: number; dismissed: number };
}

/**
 * The operator page, on a server whose WeChat checker is down, so every message is held for an
 * operator first (README: a checker that is down holds, never approves).
 */
describe('web app: operator page (headless Chromium)', function () {
  this.timeout(60_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const open: WatchedPage[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer({
      TIDINGS_WECHAT_APPID: APP_ID,
      TIDINGS_WECHAT_SECRET: APP_SECRET,
      TIDINGS_WECHAT_API_BASE: await closedPortBase(),
    });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const watched of open.splice(0)) await watched.context.close();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  const page = async (): Promise<WatchedPage> => {
    const watched = await openPage(browser!);
    open.push(watched);
    return watched;
  };

  const bound = async (app: CreatedApp): Promise<{ who: Person; key: string }> => {
    const who = await registerPerson(server!);
    const { key } = await allow(server!, who.cookie, {
      appId: app.appId,
      openid: `o-${who.username}`,
      redirectUri: app.redirectUris[0]!,
      level: 'weak',
    });
    return { who, key };
  };

  const status = async (app: CreatedApp, messageId: string): Promise<string> =>
    (
      await call<{ status: string }>(server!.base, 'GET', `/v1/messages/${messageId}`, {
        token: app.appSecret,
      })
    ).body.status;

  const standing = async (app: CreatedApp): Promise<AppView> =>
    (
      await call<AppView>(server!.base, 'GET', `/v1/admin/apps/${app.appId}`, {
        token: ADMIN_TOKEN,
      })
    ).body;

  /** Pushes a message, waits until it is held, approves it (API) and waits until it is delivered. */
  const delivered = async (app: CreatedApp, key: string, title: string): Promise<string> => {
    const sent = await push(server!, app.appSecret, { key, title, body: `${title}: 点击链接领奖` });
    const { messageId } = sent.body;
    await waitUntil(
      () => status(app, messageId),
      (s) => s === 'held',
      'held',
    );
    const approved = await call(server!.base, 'POST', `/v1/admin/moderation/${messageId}/approve`, {
      token: ADMIN_TOKEN,
    });
    expect(approved.status).to.equal(200);
    await waitUntil(
      () => status(app, messageId),
      (s) => s === 'delivered',
      'delivered',
    );
    return messageId;
  };

  const signIn = async (operator: Page): Promise<void> => {
    await operator.goto(`${server!.base}/operator`);
    await operator.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await operator.getByRole('button', { name: 'Sign in' }).click();
    await operator.locator('#operator-panels').waitFor();
  };

  it('refuses a wrong admin token and shows nothing', async () => {
    const { page: operator } = await page();
    await operator.goto(`${server!.base}/operator`);
    await operator.getByLabel('Admin token').fill('wrong-token-wrong-token');
    await operator.getByRole('button', { name: 'Sign in' }).click();
    await operator.locator('#token-error', { hasText: 'refused' }).waitFor();
    expect(await operator.locator('#operator-panels').isVisible()).to.equal(false);
  });

  it('lists held messages; approving one delivers it, rejecting another means it is never delivered', async () => {
    const app = await createApp(server!, {
      name: 'Held app',
      redirectUris: ['https://held.example/cb'],
    });
    const { who, key } = await bound(app);
    const first = (
      await push(server!, app.appSecret, { key, title: 'Please approve 请批准', body: 'a' })
    ).body.messageId;
    const second = (await push(server!, app.appSecret, { key, title: 'Please reject', body: 'b' }))
      .body.messageId;
    await waitUntil(
      () => status(app, second),
      (s) => s === 'held',
      'held',
    );
    await waitUntil(
      () => status(app, first),
      (s) => s === 'held',
      'held',
    );

    const watched = await page();
    const operator = watched.page;
    await signIn(operator);
    const approveCard = operator.locator(`#held-list li[data-message="${first}"]`);
    const rejectCard = operator.locator(`#held-list li[data-message="${second}"]`);
    expect(await approveCard.getByRole('heading').innerText()).to.equal('Please approve 请批准');
    expect(await approveCard.innerText()).to.contain('Held app');

    await approveCard.getByRole('button', { name: 'Approve “Please approve 请批准”' }).click();
    await approveCard.waitFor({ state: 'detached' });
    await waitUntil(
      () => status(app, first),
      (s) => s === 'delivered',
      'delivered after approval',
    );

    await rejectCard.getByLabel('Reason for rejecting (optional)').fill('looks like a scam');
    await rejectCard.getByRole('button', { name: 'Reject “Please reject”' }).click();
    await rejectCard.waitFor({ state: 'detached' });
    expect(await status(app, second)).to.equal('rejected');
    const inbox = await call<{ items: { messageId: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/inbox',
      {
        cookie: who.cookie,
      },
    );
    expect(inbox.body.items.map((item) => item.messageId)).to.deep.equal([first]);
    expect(unexpectedErrors(watched)).to.deep.equal([]);
  });

  it('a complaint made in the inbox is listed on the operator page; upholding it there lowers the app score', async () => {
    const app = await createApp(server!, {
      name: 'Prize club 抽奖',
      redirectUris: ['https://prize.example/cb'],
    });
    const { who, key } = await bound(app);
    const messageId = await delivered(app, key, 'You won 你中奖了');
    expect((await standing(app)).score).to.equal(100);

    // The person complains from the inbox.
    const person = await page();
    await useSession(person.context, server!.base, who.cookie);
    await person.page.goto(`${server!.base}/inbox`);
    await person.page.getByRole('button', { name: 'Complain about “You won 你中奖了”' }).click();
    const dialog = person.page.getByRole('dialog', { name: 'Complain about a message' });
    await dialog.getByRole('radio', { name: 'Fraud or phishing' }).check();
    await dialog.getByLabel('Reason').fill('asks for my bank card 要我的银行卡号');
    await dialog.getByRole('button', { name: 'Send complaint' }).click();
    await person.page
      .getByRole('heading', { name: 'You won 你中奖了' })
      .waitFor({ state: 'detached' });
    const mine = await call<{ items: { messageId: string; category: string; status: string }[] }>(
      server!.base,
      'GET',
      '/v1/me/complaints',
      { cookie: who.cookie },
    );
    expect(mine.body.items.map((c) => [c.messageId, c.category, c.status])).to.deep.equal([
      [messageId, 'fraud', 'open'],
    ]);

    // The operator finds it, upholds it as major: 100 − 15.
    const operator = await page();
    await signIn(operator.page);
    const card = operator.page.locator(`#complaint-list li[data-app="${app.appId}"]`);
    expect(await card.count()).to.equal(1);
    expect(await card.getByRole('heading').innerText()).to.equal(
      'Fraud — about a message from Prize club 抽奖',
    );
    expect(await card.innerText()).to.contain('asks for my bank card 要我的银行卡号');
    await card.getByLabel('Severity').selectOption('major');
    await card.getByRole('button', { name: 'Uphold the complaint about Prize club 抽奖' }).click();
    await card.waitFor({ state: 'detached' });
    const after = await waitUntil(
      () => standing(app),
      (s) => s.score < 100,
      'the penalty',
    );
    expect(after.score).to.equal(85);
    expect(after.complaints.upheld).to.equal(1);

    // The reputation list shows the new score once refreshed.
    const score = operator.page.locator(`#rep-list li[data-app="${app.appId}"] .score`);
    await waitUntil(
      async () => {
        await operator.page.getByRole('button', { name: 'Refresh' }).click();
        return score.innerText();
      },
      (text) => text === 'Score 85',
      'the new score on the page',
    );
    expect(unexpectedErrors(person)).to.deep.equal([]);
    expect(unexpectedErrors(operator)).to.deep.equal([]);
  });

  it('dismissing a complaint there costs nothing; a suspended app is reinstated from the apps list', async () => {
    const app = await createApp(server!, {
      name: 'Spammy',
      redirectUris: ['https://spammy.example/cb'],
    });
    const { who, key } = await bound(app);
    const complain = async (messageId: string): Promise<string> => {
      const filed = await call<{ complaintId: string }>(
        server!.base,
        'POST',
        `/v1/me/inbox/${messageId}/complaints`,
        { cookie: who.cookie, body: { category: 'spam', reason: 'spam' } },
      );
      expect(filed.status).to.equal(201);
      return filed.body.complaintId;
    };

    const first = await complain(await delivered(app, key, 'Maybe spam'));
    const operator = await page();
    await signIn(operator.page);
    const complaint = operator.page.locator(`#complaint-list li[data-complaint="${first}"]`);
    await complaint.getByLabel('Note (optional)').fill('an ordinary newsletter');
    await complaint.getByRole('button', { name: 'Dismiss the complaint about Spammy' }).click();
    await complaint.waitFor({ state: 'detached' });
    const dismissed = await standing(app);
    expect(dismissed.score).to.equal(100);
    expect(dismissed.complaints).to.deep.equal({ open: 0, upheld: 0, dismissed: 1 });

    // Two severe complaints (API): 100 − 30 − 30 = 40, below 60: suspended.
    for (const title of ['Spam one', 'Spam two']) {
      const complaintId = await complain(await delivered(app, key, title));
      const upheld = await call(
        server!.base,
        'POST',
        `/v1/admin/complaints/${complaintId}/uphold`,
        {
          token: ADMIN_TOKEN,
          body: { severity: 'severe' },
        },
      );
      expect(upheld.status).to.equal(200);
    }
    await waitUntil(
      () => standing(app),
      (s) => s.status === 'suspended',
      'the suspension',
    );
    expectProblem(await push(server!, app.appSecret, { key, body: 'more' }), 403, 'app_suspended');

    await operator.page.getByRole('button', { name: 'Refresh' }).click();
    const card = operator.page.locator(`#rep-list li[data-app="${app.appId}"]`);
    await card.locator('.pill', { hasText: 'suspended' }).waitFor();
    await card.getByLabel('Note (optional)').fill('talked to them');
    await card.getByRole('button', { name: 'Reinstate Spammy' }).click();
    await card.locator('.pill', { hasText: 'active' }).waitFor();
    const after = await standing(app);
    expect(after.status).to.equal('active');
    expect(after.score).to.be.at.least(60);
    expect((await push(server!, app.appSecret, { key, body: 'back' })).status).to.equal(202);
    expect(unexpectedErrors(operator)).to.deep.equal([]);
  });
});

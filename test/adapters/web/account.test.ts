import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { catalogues, translate } from '../../../application/i18n/catalogue.js';
import { registerPerson, type Person } from '../../support/httpFixtures.js';
import { call, type TestServer } from '../../support/testServer.js';
import {
  chromiumAvailable,
  launchBrowser,
  logInHere,
  openPage,
  startWebServer,
  unexpectedErrors,
  useSession,
  type WatchedPage,
  SHOWN_TEXT,
  untranslated,
} from './support.js';

type Lang = 'zh-CN' | 'en';

describe('web app: my account, the data export and deleting the account (headless Chromium)', function () {
  this.timeout(90_000);
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const opened: BrowserContext[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    server = await startWebServer();
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((context) => context.close()));
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  /** The account page in a browser whose language is `lang`, signed in as `person`. */
  const openAccount = async (person: Person, lang: Lang = 'en'): Promise<WatchedPage> => {
    const context = await browser!.newContext({
      viewport: { width: 1280, height: 800 },
      locale: lang === 'zh-CN' ? 'zh-CN' : 'en-GB',
      timezoneId: 'UTC',
    });
    opened.push(context);
    context.setDefaultTimeout(15_000);
    await useSession(context, server!.base, person.cookie);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server!.base}/account`);
    await page.locator('#delete-form').waitFor();
    return { context, page, errors, dialogs: [] };
  };

  /** Whether the person's session still reaches their account. */
  const accountStatus = async (person: Person): Promise<number> =>
    (await call(server!.base, 'GET', '/v1/me', { cookie: person.cookie })).status;

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`shows the page in ${lang}, linked from the header, with no untranslated key`, async () => {
      const person = await registerPerson(server!);
      const { page, ...watched } = await openAccount(person, lang);
      const text = catalogues[lang];
      expect(await page.getAttribute('html', 'lang')).to.equal(lang);
      expect(await page.locator('h1').innerText()).to.equal(text['account.title']);
      expect(untranslated(await page.evaluate<string>(SHOWN_TEXT))).to.deep.equal([]);
      // The person's name in the header leads to the page.
      const link = page.getByRole('link', {
        name: translate(lang, 'account.nav', { username: person.username }),
        exact: true,
      });
      expect(await link.innerText()).to.equal(person.username);
      expect(await link.getAttribute('href')).to.equal('/account');
      expect(await link.getAttribute('aria-current')).to.equal('page');
      await page.getByRole('button', { name: text['account.exportButton'] }).waitFor();
      await page.getByRole('button', { name: text['account.deleteButton'] }).waitFor();
      await page.getByText(text['account.deleteWarning']).waitFor();
      expect(unexpectedErrors({ page, ...watched })).to.deep.equal([]);
    });
  }

  it('sends a visitor to log in first', async () => {
    const watched = await openPage(browser!);
    opened.push(watched.context);
    await watched.page.goto(`${server!.base}/account`);
    expect(new URL(watched.page.url()).pathname).to.equal('/login');
    expect(new URL(watched.page.url()).searchParams.get('next')).to.equal('/account');
  });

  it('"Download my data" saves the export, a JSON file of the person, named for them', async () => {
    const person = await registerPerson(server!);
    const { page, ...watched } = await openAccount(person);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my data' }).click(),
    ]);
    const file = await download.path();
    const exported = JSON.parse(readFileSync(file, 'utf8')) as {
      format: string;
      exportedAt: string;
      account: { recipientId: string; username: string };
    };
    expect(exported.format).to.equal('tidings-export/1');
    expect(exported.account).to.deep.include({
      recipientId: person.recipientId,
      username: person.username,
    });
    expect(download.suggestedFilename()).to.equal(
      `tidings-export-${person.username}-${exported.exportedAt.slice(0, 10)}.json`,
    );
    // The page stays as it was.
    expect(new URL(page.url()).pathname).to.equal('/account');
    expect(unexpectedErrors({ page, ...watched })).to.deep.equal([]);
  });

  it('asks before deleting; cancelling or a wrong password keeps the account, saying why', async () => {
    const person = await registerPerson(server!);
    const { page, ...watched } = await openAccount(person, 'zh-CN');
    const zh = catalogues['zh-CN'];
    const deletions: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'DELETE') deletions.push(request.url());
    });
    await page.getByLabel(zh['account.password']).fill('not my password');
    await page.getByRole('button', { name: zh['account.deleteButton'] }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(zh['account.confirmQuestion']).waitFor();
    await dialog.getByText(zh['account.confirmText']).waitFor();
    await dialog.getByRole('button', { name: zh['layout.confirmCancel'] }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(deletions, 'nothing is sent when cancelled').to.deep.equal([]);

    await page.getByRole('button', { name: zh['account.deleteButton'] }).click();
    await dialog.getByRole('button', { name: zh['account.confirmYes'] }).click();
    const error = page.getByRole('alert');
    await error.filter({ hasText: zh['account.wrongPassword'] }).waitFor();
    expect(deletions).to.have.length(1);
    expect(new URL(page.url()).pathname).to.equal('/account');
    expect(await accountStatus(person)).to.equal(200);
    // The button is back for another try.
    expect(
      await page.getByRole('button', { name: zh['account.deleteButton'] }).isEnabled(),
    ).to.equal(true);
    expect(unexpectedErrors({ page, ...watched })).to.deep.equal([]);
  });

  it('with the right password deletes the account and ends on the login page, logged out, with a notice', async () => {
    const person = await registerPerson(server!);
    const { page, context, ...watched } = await openAccount(person);
    await page.getByLabel('Your password').fill(person.password);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete for good' }).click();
    await page.waitForURL(`${server!.base}/login?notice=account-deleted`);
    const notice = page.locator('#page-notice');
    expect(await notice.innerText()).to.equal(catalogues.en['account.deletedNotice']);
    expect(await notice.getAttribute('role')).to.equal('status');
    expect(
      (await context.cookies()).filter((c) => c.name === 'tidings_session' && c.value !== ''),
    ).to.deep.equal([]);
    expect(await accountStatus(person)).to.equal(401);
    // Logging in again fails: the account is gone.
    await logInHere(page, person.username, person.password);
    await page.locator('#form-error').filter({ hasText: /./ }).waitFor();
    expect(new URL(page.url()).pathname).to.equal('/login');
    const login = await call(server!.base, 'POST', '/v1/auth/login', {
      body: { username: person.username, password: person.password },
    });
    expect(login.status).to.equal(401);
    expect(unexpectedErrors({ page, context, ...watched })).to.deep.equal([]);
  });

  it('shows no notice for an address it does not know', async () => {
    const watched = await openPage(browser!);
    opened.push(watched.context);
    await watched.page.goto(`${server!.base}/login?notice=%3Cb%3Ehello`);
    expect(await watched.page.locator('#page-notice').count()).to.equal(0);
    expect(await watched.page.locator('body').innerText()).to.not.include('hello');
  });
});

import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { catalogues } from '../../../application/i18n/catalogue.js';
import { PASSWORD, uniqueUsername } from '../../support/httpFixtures.js';
import { call, startTestServer, type Reply, type TestServer } from '../../support/testServer.js';
import { waitUntil } from '../../support/waitUntil.js';

export { waitUntil };

/**
 * Helpers for the browser tests of the web app: Debian's Chromium driven by playwright-core, a
 * real Tidings (Bark stand-in allowlisted), a local "app" that records where the consent page
 * sent the browser, and bounded waits.
 */

export const CHROMIUM = '/usr/bin/chromium';

let skipNoted = false;

/**
 * Whether the browser suites can run. Without Chromium they skip, saying why in one line for the
 * whole run (`.ci/run` installs it, so CI always runs them).
 */
export const chromiumAvailable = (): boolean => {
  if (existsSync(CHROMIUM)) return true;
  if (!skipNoted) {
    skipNoted = true;
    console.log(
      `web app browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`,
    );
  }
  return false;
};

/** Headless Chromium, offline and quiet. */
export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });

/**
 * A real Tidings for the browser tests (startTestServer's: cheap password hashing, a temp folder);
 * the Bark stand-in on 127.0.0.1 may be reached.
 */
export const startWebServer = (env: Readonly<Record<string, string>> = {}): Promise<TestServer> =>
  startTestServer({ env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1', ...env } });

/** A page with what went wrong in it recorded: console errors (CSP refusals too) and dialogs. */
export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: string[];
  /** Messages of every alert/confirm/prompt that opened (an XSS would open one). */
  readonly dialogs: string[];
}

export const openPage = async (
  browser: Browser,
  options: {
    readonly viewport?: { readonly width: number; readonly height: number };
    readonly colorScheme?: 'light' | 'dark';
  } = {},
): Promise<WatchedPage> => {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { context, page, errors, dialogs };
};

/**
 * Console errors other than failed requests the test caused on purpose (a 403 or 404 answered
 * to the page's own fetch logs "Failed to load resource").
 */
export const unexpectedErrors = (watched: WatchedPage): string[] =>
  watched.errors.filter((text) => !text.startsWith('Failed to load resource'));

/** Registers a new person through the register page; the browser ends up in the inbox. */
export const registerInBrowser = async (
  page: Page,
  base: string,
  username: string = uniqueUsername('web'),
): Promise<{ username: string; password: string }> => {
  await page.goto(`${base}/register`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/inbox`);
  return { username, password: PASSWORD };
};

/** Logs in on the current login page (keyboard only: type, then Enter). */
export const logInHere = async (page: Page, username: string, password: string): Promise<void> => {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
};

/** The browser's session cookie, ready for the API client's Cookie header. */
export const sessionCookie = async (context: BrowserContext): Promise<string> => {
  const found = (await context.cookies()).find((c) => c.name === 'tidings_session');
  expect(found, 'the browser holds a session cookie').to.not.equal(undefined);
  return `tidings_session=${found?.value ?? ''}`;
};

/** An app's push (`POST /v1/messages`) with its secret. */
export const push = (
  server: Pick<TestServer, 'base'>,
  secret: string,
  body: Record<string, unknown>,
): Promise<Reply<{ messageId: string; status: string; code?: string }>> =>
  call(server.base, 'POST', '/v1/messages', { token: secret, body });

/** A request a local site received. */
export interface SiteRequest {
  readonly method: string;
  readonly url: URL;
}

/**
 * A small local web site: an app's redirect target (it records where the browser arrived) and,
 * for the CSRF tests, pages of another origin. Serves `pages[path]` as HTML, anything else as a
 * plain "ok".
 */
export interface LocalSite {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly requests: SiteRequest[];
  setPage(path: string, html: string): void;
  close(): Promise<void>;
}

export const startSite = async (): Promise<LocalSite> => {
  const requests: SiteRequest[] = [];
  const pages = new Map<string, string>();
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site.invalid');
    requests.push({ method: request.method ?? 'GET', url });
    const page = pages.get(url.pathname);
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(page ?? '<!doctype html><title>app</title><p>ok</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setPage: (path, html) => {
      pages.set(path, html);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
};

/** Puts an API-made session (`tidings_session=…`) into the browser, as if the person logged in there. */
export const useSession = async (
  context: BrowserContext,
  base: string,
  cookie: string,
): Promise<void> => {
  const value = cookie.slice(cookie.indexOf('=') + 1);
  await context.addCookies([{ name: 'tidings_session', value, url: base }]);
};

/**
 * Everything a page shows a person, as a script for `page.evaluate`: its title and text, the
 * names and hints of its controls, and the options of its lists.
 */
export const SHOWN_TEXT = `(() => [
  document.title,
  document.body.innerText,
  ...[...document.querySelectorAll('[aria-label], [title], [placeholder]')].flatMap((element) =>
    ['aria-label', 'title', 'placeholder'].map((name) => element.getAttribute(name) ?? ''),
  ),
  ...[...document.querySelectorAll('option')].map((option) => option.textContent ?? ''),
].join('\\n'))()`;

const CATALOGUE_KEYS = Object.keys(catalogues.en);

/** Catalogue keys and unfilled `{placeholders}` that reached a page's text. */
export const untranslated = (text: string): string[] => [
  ...CATALOGUE_KEYS.filter((key) => text.includes(key)),
  ...[...text.matchAll(/\{[A-Za-z][A-Za-z0-9]*\}/g)].map((match) => match[0]),
];

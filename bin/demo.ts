/**
 * `npm run demo`: the seed's three situations, played against a real Tidings through its HTTP API.
 *
 * Starts Tidings in this process (startTidings) on a temporary data folder and a local Bark
 * stand-in (the one the tests use, devtools/barkServer.ts) for the phones, then:
 *   1. passive receipt — A files a work order with platform B; B's app tells staff member C at once;
 *   2. repeated updates — six progress steps of one order to customer A, one thread: the lock
 *      screen keeps one notification (each step replaces the last), the inbox keeps all six;
 *   3. long horizon — a visit booked a week ahead (here 3 seconds stand in for the week).
 * It ends with both inboxes as tables, stops everything and removes the folder.
 *
 * Every step is an ordinary HTTP call (fetch), so this file doubles as an integration example.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../adapters/config/settings.js';
import { silentLogger } from '../adapters/logging/logger.js';
import { startTidings, type Tidings } from '../server.js';
import { startBarkServer, type BarkStandIn } from '../devtools/barkServer.js';

const ADMIN_TOKEN = `demo-admin-${Date.now().toString(36)}-token`;
const B_CALLBACK = 'https://b-platform.example/tidings/callback';

// ── output ────────────────────────────────────────────────────────────────────────────────────

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const heading = (title: string): void => {
  out();
  out(`━━ ${title} ${'━'.repeat(Math.max(0, 90 - width(title)))}`);
};
const step = (who: string, text: string): void => {
  out(`  ${who.padEnd(10)} ${text}`);
};

/** Columns a string takes in a terminal: CJK and full-width characters take two. */
const width = (text: string): number => {
  let columns = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6);
    columns += wide ? 2 : 1;
  }
  return columns;
};

/** `text` cut to at most `columns` columns (with … when cut), then padded to exactly that. */
const fit = (text: string, columns: number): string => {
  let result = '';
  for (const char of text) {
    if (width(result + char) > columns - 1 && width(text) > columns) {
      result += '…';
      break;
    }
    result += char;
  }
  return result + ' '.repeat(Math.max(0, columns - width(result)));
};

const table = (header: readonly string[], rows: readonly (readonly string[])[]): void => {
  const widths = header.map((title, column) =>
    Math.min(36, Math.max(width(title), ...rows.map((row) => width(row[column] ?? '')))),
  );
  const line = (cells: readonly string[]): string =>
    `  │ ${cells.map((cell, column) => fit(cell, widths[column] ?? 0)).join(' │ ')} │`;
  const rule = (left: string, middle: string, right: string): string =>
    `  ${left}${widths.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;
  out(rule('┌', '┬', '┐'));
  out(line(header));
  out(rule('├', '┼', '┤'));
  for (const row of rows) out(line(row));
  out(rule('└', '┴', '┘'));
};

const text = (value: unknown): string => (typeof value === 'string' ? value : '—');
const clock = (iso: string): string => iso.slice(11, 23);

// ── HTTP ──────────────────────────────────────────────────────────────────────────────────────

interface Credentials {
  readonly token?: string;
  readonly cookie?: string;
}

/** One API call; answers the parsed body, and throws with the problem document on an error status. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's shape
const api = async <T>(
  base: string,
  method: string,
  path: string,
  credentials: Credentials = {},
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> => {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (credentials.token !== undefined) headers['authorization'] = `Bearer ${credentials.token}`;
  if (credentials.cookie !== undefined) headers['cookie'] = credentials.cookie;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return {
    status: response.status,
    body: (text === '' ? {} : JSON.parse(text)) as T,
    headers: response.headers,
  };
};

interface Person {
  readonly username: string;
  readonly cookie: string;
  readonly deviceKey: string;
}

/** Registers a person and points their Bark app at the stand-in (a phone of their own). */
const signUp = async (
  base: string,
  bark: BarkStandIn,
  username: string,
  deviceKey: string,
): Promise<Person> => {
  const registered = await api(
    base,
    'POST',
    '/v1/auth/register',
    {},
    {
      username,
      password: `${username} has a long demo password`,
    },
  );
  const cookie = /tidings_session=[^;]*/.exec(registered.headers.get('set-cookie') ?? '')?.[0];
  if (cookie === undefined) throw new Error('no session cookie');
  bark.addDevice(deviceKey);
  await api(base, 'PUT', '/v1/me/devices/bark', { cookie }, { serverUrl: bark.url, deviceKey });
  return { username, cookie, deviceKey };
};

/** The consent page's Allow, at level strong: answers the binding key from the redirect. */
const consent = async (base: string, person: Person, appId: string, openid: string) => {
  const { body } = await api<{ redirect: string }>(
    base,
    'POST',
    '/v1/me/authorizations',
    { cookie: person.cookie },
    { appId, openid, redirectUri: B_CALLBACK, decision: 'allow', level: 'strong', state: 'demo' },
  );
  return new URL(body.redirect);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until `check` holds; answers how long it took in ms. */
const until = async (what: string, check: () => boolean | Promise<boolean>): Promise<number> => {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > 15_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
  return performance.now() - started;
};

/** Pushes the stand-in has received for a device so far (their JSON bodies). */
const pushesTo = (bark: BarkStandIn, deviceKey: string): Record<string, unknown>[] =>
  bark.requests
    .map((request) => request.json)
    .filter(
      (json): json is Record<string, unknown> =>
        typeof json === 'object' &&
        json !== null &&
        (json as Record<string, unknown>)['device_key'] === deviceKey,
    );

interface InboxItem {
  readonly messageId: string;
  readonly appName: string;
  readonly title: string | null;
  readonly body: string;
  readonly thread: string | null;
  readonly receivedAt: string;
  readonly readAt: string | null;
}

const inboxOf = async (base: string, person: Person, query = ''): Promise<InboxItem[]> =>
  (await api<{ items: InboxItem[] }>(base, 'GET', `/v1/me/inbox?limit=100${query}`, person)).body
    .items;

// ── the story ─────────────────────────────────────────────────────────────────────────────────

const play = async (base: string, bark: BarkStandIn): Promise<void> => {
  heading('Setting the stage');
  const app = await api<{ appId: string; appSecret: string }>(
    base,
    'POST',
    '/v1/admin/apps',
    { token: ADMIN_TOKEN },
    { name: 'B 维修平台', redirectUris: [B_CALLBACK] },
  );
  const b: Credentials = { token: app.body.appSecret };
  step('operator', `registers platform B's app "B 维修平台" → ${app.body.appId}`);
  const c = await signUp(base, bark, 'staff_c', 'c-iphone');
  const a = await signUp(base, bark, 'customer_a', 'a-iphone');
  step('C, A', 'sign up to Tidings and connect their iPhones (Bark)');
  const cRedirect = await consent(base, c, app.body.appId, 'staff-0042');
  step(
    'C',
    `allows B at level strong → B's callback gets bind=${cRedirect.searchParams.get('bind') ?? '?'}`,
  );
  await consent(base, a, app.body.appId, 'customer-7731');
  step('A', 'allows B at level strong as well');
  step('B', 'now addresses them by its own user ids (openid), no one-shot tokens needed');

  // 1. Passive receipt.
  heading('1 · Passive receipt: C must hear of a new work order now, app closed or not');
  step('A', 'files work order WO-1024 with platform B (in B’s own app): 厨房水龙头漏水');
  const before = pushesTo(bark, c.deviceKey).length;
  const sent = performance.now();
  const order = await api<{ messageId: string; status: string }>(base, 'POST', '/v1/messages', b, {
    openid: 'staff-0042',
    title: '新工单 WO-1024',
    subtitle: '维修 · 加急',
    body: '客户A：厨房水龙头漏水。地址：滨江路 88 号 3 栋 1201。请在 30 分钟内联系客户。',
    thread: 'WO-1024-assign',
    level: 'timeSensitive',
  });
  const answered = performance.now();
  step('B', `POST /v1/messages → ${order.status} ${order.body.status} (${order.body.messageId})`);
  await until('the push to C', () => pushesTo(bark, c.deviceKey).length > before);
  const arrived = performance.now();
  const push = pushesTo(bark, c.deviceKey).at(-1) ?? {};
  step(
    'C’s phone',
    `Bark push received ${(arrived - answered).toFixed(0)} ms after the 202 (${(arrived - sent).toFixed(0)} ms after B sent it)`,
  );
  step(
    '',
    `title "${text(push['title'])}", level ${text(push['level'])}, group ${text(push['group'])}, id ${text(push['id'])}`,
  );

  // 2. Repeated updates.
  heading('2 · Repeated updates: six steps of one order, one thread');
  const steps: ReadonlyArray<readonly [string, string]> = [
    ['已派单 dispatched', '工单 WO-1024 已派给技师王师傅（C）。'],
    ['已出发 departed', '王师傅已出发，预计 25 分钟后到达。'],
    ['已到达 arrived', '王师傅已到达现场。'],
    ['已处理 handled', '已更换水龙头阀芯，漏水已解决。'],
    ['待评价 awaiting review', '请为本次服务评价。'],
    ['已完成 closed', '工单已关闭，感谢您的耐心。'],
  ];
  for (const [stage, text] of steps) {
    const count = pushesTo(bark, a.deviceKey).length;
    await api(base, 'POST', '/v1/messages', b, {
      openid: 'customer-7731',
      title: `WO-1024 · ${stage}`,
      body: text,
      thread: 'WO-1024',
    });
    await until('the progress push', () => pushesTo(bark, a.deviceKey).length > count);
    const shown = bark.notificationsOf(a.deviceKey);
    step(
      'A’s phone',
      `${fit(stage, 24)} lock screen: ${shown.length} notification — "${shown.at(-1)?.title ?? ''}"`,
    );
  }
  const thread = await inboxOf(base, a, '&thread=WO-1024');
  const ids = new Set(
    pushesTo(bark, a.deviceKey)
      .filter((json) => json['group'] === 'WO-1024')
      .map((json) => text(json['id'])),
  );
  out();
  step('Bark', `6 pushes, ${ids.size} distinct notification id: ${[...ids].join(', ')}`);
  step(
    'result',
    `lock screen holds ${bark.notificationsOf(a.deviceKey).length} notification (same Bark id, replaced each time); the inbox holds ${thread.length}`,
  );

  // 3. Long horizon.
  heading('3 · Long horizon: a visit a week ahead (3 seconds stand in for the week)');
  const visit = await api<{ messageId: string; status: string }>(base, 'POST', '/v1/messages', b, {
    openid: 'customer-7731',
    title: '上门提醒 WO-2048',
    body: '明天上午 9:00 王师傅上门检修热水器，请留人在家。',
    thread: 'WO-2048',
    delaySeconds: 3,
  });
  const booked = performance.now();
  const status = async (): Promise<string> =>
    (await api<{ status: string }>(base, 'GET', `/v1/messages/${visit.body.messageId}`, b)).body
      .status;
  step('B', `POST /v1/messages with delaySeconds: 3 → ${visit.body.status}`);
  step('Tidings', `GET /v1/messages/${visit.body.messageId} → ${await status()}`);
  await until('the reminder', async () => (await status()) === 'delivered');
  await until('the reminder push', () =>
    pushesTo(bark, a.deviceKey).some((json) => json['title'] === '上门提醒 WO-2048'),
  );
  step(
    'A’s phone',
    `delivered ${((performance.now() - booked) / 1000).toFixed(1)} s after booking: "上门提醒 WO-2048"`,
  );

  // The inboxes.
  for (const [who, person] of [
    ['C (staff member)', c],
    ['A (customer)', a],
  ] as const) {
    heading(`Inbox of ${who} — GET /v1/me/inbox, newest first`);
    const items = await inboxOf(base, person);
    table(
      ['received (UTC)', 'app', 'thread', 'title', 'body', 'read'],
      items.map((item) => [
        clock(item.receivedAt),
        item.appName,
        item.thread ?? '—',
        item.title ?? '—',
        item.body,
        item.readAt === null ? 'unread' : 'read',
      ]),
    );
  }
};

const main = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-demo-'));
  let bark: BarkStandIn | undefined;
  let tidings: Tidings | undefined;
  try {
    bark = await startBarkServer();
    const settings = loadSettings({
      PORT: '0',
      TIDINGS_HOST: '127.0.0.1',
      TIDINGS_DATA_DIR: dir,
      TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN,
      // The Bark stand-in listens on loopback, which device URLs may not use unless allowed.
      TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
    });
    if (E.isLeft(settings)) throw new Error(settings.left);
    tidings = await startTidings(settings.right, { logger: silentLogger });
    out(`Tidings demo — Tidings at ${tidings.url}, Bark stand-in at ${bark.url}, data in ${dir}`);
    await play(tidings.url, bark);
    out();
    out('Done: stopping Tidings and the Bark stand-in, removing the data folder.');
  } finally {
    await tidings?.close();
    await bark?.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);

/**
 * Growth benchmark (issue 17, "performance, flat as data grows"), one case per process:
 *   node --import tsx bench/growth.ts seed <dataDir> --messages=N [--people=N]
 *   node --import tsx bench/growth.ts measure <dataDir> [--seconds=N] [--concurrency=N]
 * prints one JSON line with the figures; `npm run bench -- --growth` drives both cases on a
 * near-empty folder and on a large one and prints the table.
 *
 * `seed` fills a data folder through the real server (server.ts in a child process, as the
 * pipeline benchmarks run it) and its public API: apps registered by the operator, people who
 * register, save a Bark device and consent to each app (strong or weak), then messages sent with
 * `POST /v1/messages/batch`. Every event is therefore one the pipeline writes for a message —
 * submitted, moderated, routed, delivered to the inbox and, for a strong binding, pushed to the
 * Bark stand-in in this process — and the read models are built as the server runs. Whatever
 * the submission command or the processors write for a message (fewer events once moderation
 * and routing move into the submission), the seed writes the same. The people, their keys and
 * session cookies go to `<dataDir>.growth.json` beside the folder.
 *
 * The spread: three apps, `--people` people (1,000 by default) each bound to every app (one of
 * the apps weak for everyone, one weak for every other person, the third strong), and one person
 * who receives a tenth of all messages (the large inbox the inbox page is measured on). A
 * third of the messages carry a thread (a work order's steps). The seeding server runs at
 * synchronous=normal (no fsync per commit: the rows are the same) with the push budget and rate
 * limits out of the way, and keeps at most a few thousand messages ahead of routing. About one
 * message in a thousand gets a complaint from its person, filed once the messages are in.
 *
 * `measure` starts the server on a seeded folder (time to `/readyz`: the first start), then on
 * the folder's own strong bindings of 64 different people: single messages, closed loop, until
 * every one reached Bark and its person's inbox; the inbox's first page (`GET /v1/me/inbox`, what
 * the web app's inbox page loads) of the person with the large inbox, closed loop, p50/p99; the
 * server's resident memory after the runs and its peak (VmRSS, VmHWM); then a graceful stop, the
 * read models' checkpoints against the log's head, and a restart timed to `/readyz` 200.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allProjections } from '../projections/index.js';
import { startBarkProbe, type BarkProbe } from './barkProbe.js';
import { closedLoop, closedLoopFor, inboxPages, LoadClient, quantile } from './loadgen.js';
import { freePort, startChildServer, type ChildServer } from './serverProcess.js';

const [benchCase = '', dataDir = '', ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = rest.find((arg) => arg.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.split('=')[1]);
};

const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const DEVICE_KEY = 'benchdevice';
const REDIRECT_URI = 'https://bench.example/callback';
const PASSWORD = 'correct horse battery staple';
const BATCH = 500;
/** Batches whose last message must be in the inbox before another is sent (the backlog bound). */
const AHEAD_BATCHES = 16;
/** Every tenth message goes to the person with the large inbox. */
const BIG_SHARE = 10;
const DRAIN_TIMEOUT_MS = 300_000;
/**
 * About one message in a thousand gets a complaint from its person (it then leaves their inbox
 * view): one of other people's, and every ten-thousandth one, of the large inbox.
 */
const complains = (index: number): boolean => index % 1_000 === 1 || index % 10_000 === 0;
const setupFile = `${dataDir}.growth.json`;

/** The apps of the seed, and how each person's binding of each is set. */
const APPS = [
  { name: 'Work orders', level: () => 'strong' as const },
  { name: 'Visit reminders', level: (person: number) => (person % 2 === 0 ? 'strong' : 'weak') },
  { name: 'Newsletter', level: () => 'weak' as const },
] as const;

interface Person {
  readonly username: string;
  readonly cookie: string;
  /** One binding key per app, in APPS order. */
  readonly keys: readonly string[];
}

/** What a measurement needs of a seeded folder. */
interface GrowthSetup {
  readonly apps: readonly { readonly appId: string; readonly appSecret: string }[];
  readonly people: readonly Person[];
  readonly big: Person;
  readonly messages: number;
}

/** The environment every server of this benchmark gets; `extra` on top. */
const serverEnv = async (extra: Record<string, string>): Promise<Record<string, string>> => ({
  PORT: String(await freePort()),
  TIDINGS_DATA_DIR: dataDir,
  TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN,
  TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
  TIDINGS_LOG_LEVEL: 'warn',
  TIDINGS_APP_RATE_BURST: '1000000',
  TIDINGS_APP_RATE_PER_SECOND: '1000000',
  TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
  TIDINGS_ADMISSION_MAX_LAG_SECONDS: '0',
  ...extra,
});

/** A deterministic pseudo-random sequence (mulberry32), so every seed spreads the same way. */
const random = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** Registers a person with a Bark device and a binding of each app; returns their credentials. */
const enrol = async (
  client: LoadClient,
  bark: BarkProbe,
  apps: GrowthSetup['apps'],
  username: string,
  level: (app: number) => 'strong' | 'weak',
): Promise<Person> => {
  const registered = await client.json('POST', '/v1/auth/register', 201, {
    body: { username, password: PASSWORD },
  });
  const cookie = /tidings_session=[^;]*/.exec(
    registered.headers['set-cookie']?.join(';') ?? '',
  )?.[0];
  if (cookie === undefined) throw new Error('no session cookie');
  await client.json('PUT', '/v1/me/devices/bark', 200, {
    cookie,
    body: { serverUrl: bark.url, deviceKey: DEVICE_KEY },
  });
  const keys: string[] = [];
  for (const [index, app] of apps.entries()) {
    const consent = await client.json<{ redirect: string }>('POST', '/v1/me/authorizations', 200, {
      cookie,
      body: {
        appId: app.appId,
        openid: `${username}-${index}`,
        redirectUri: REDIRECT_URI,
        decision: 'allow',
        level: level(index),
      },
    });
    const key = new URL(consent.body.redirect).searchParams.get('key');
    if (key === null) throw new Error('consent gave no key');
    keys.push(key);
  }
  return { username, cookie, keys };
};

/** Polls until the app sees its message delivered (in the inbox: the routing has happened). */
const waitDelivered = async (
  client: LoadClient,
  appSecret: string,
  messageId: string,
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.request('GET', `/v1/messages/${messageId}`, { token: appSecret });
    if (
      reply.status === 200 &&
      (JSON.parse(reply.text) as { status: string }).status !== 'submitted'
    )
      return;
    if (Date.now() > deadline) throw new Error(`message ${messageId} was not delivered in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Waits until the server's pipeline stages have no event left and no push waits. */
const waitIdle = async (client: LoadClient, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  for (;;) {
    const reply = await client.request('GET', '/readyz');
    const delivery = (
      JSON.parse(reply.text) as {
        node?: { delivery?: { lagSeconds: number; eventsBehind: number } };
      }
    ).node?.delivery;
    // The lag is sampled once a second: two idle samples in a row.
    quiet = delivery?.eventsBehind === 0 && delivery.lagSeconds === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return;
    if (Date.now() > deadline) throw new Error(`the pipeline did not drain: ${reply.text}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};

/** The events of the folder's log, by type (the server must be stopped or the file read-only). */
const eventCounts = (): { events: number; byType: Record<string, number> } => {
  const db = new Database(join(dataDir, 'tidings.db'), { readonly: true });
  try {
    const rows = db
      .prepare<[], { type: string; n: number }>(
        'SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC',
      )
      .all();
    return {
      events: rows.reduce((sum, row) => sum + row.n, 0),
      byType: Object.fromEntries(rows.map((row) => [row.type, row.n])),
    };
  } finally {
    db.close();
  }
};

const seedCase = async (): Promise<object> => {
  const total = option('messages', 1_000_000);
  const peopleCount = option('people', 1_000);
  const bark = await startBarkProbe(DEVICE_KEY);
  const server = await startChildServer({
    env: await serverEnv({
      TIDINGS_SQLITE_SYNCHRONOUS: 'normal',
      TIDINGS_REGISTRATION_BURST: '1000000',
      // The seed's complaints come all at once: no surge suspends an app for them.
      TIDINGS_SURGE_COMPLAINANTS: '0',
    }),
  });
  const client = new LoadClient(server.url);
  try {
    const setupStart = performance.now();
    const apps: { appId: string; appSecret: string }[] = [];
    for (const app of APPS) {
      const made = await client.json<{ appId: string; appSecret: string }>(
        'POST',
        '/v1/admin/apps',
        201,
        { token: ADMIN_TOKEN, body: { name: app.name, redirectUris: [REDIRECT_URI] } },
      );
      apps.push({ appId: made.body.appId, appSecret: made.body.appSecret });
    }
    const people: Person[] = [];
    // scrypt runs on the thread pool: a few registrations at once use both cores.
    await closedLoop(peopleCount, 8, async (index) => {
      people[index] = await enrol(
        client,
        bark,
        apps,
        `growth_p${String(index).padStart(5, '0')}`,
        (app) => APPS[app]?.level(index) ?? 'weak',
      );
    });
    const big = await enrol(client, bark, apps, 'growth_big', (app) =>
      app === 2 ? 'weak' : 'strong',
    );
    const setupSeconds = (performance.now() - setupStart) / 1000;

    const next = random(17);
    const cpuStart = server.cpuSeconds() ?? 0;
    const batches = Math.ceil(total / BATCH);
    const lastOf: { appSecret: string; messageId: string }[] = [];
    const complained: { messageId: string; cookie: string }[] = [];
    let failures = 0;
    const start = performance.now();
    let reported = start;
    await closedLoop(batches, 4, async (batch) => {
      const app = batch % APPS.length;
      const { appSecret } = apps[app] ?? { appSecret: '' };
      const ahead = lastOf[batch - AHEAD_BATCHES];
      if (ahead !== undefined)
        await waitDelivered(client, ahead.appSecret, ahead.messageId, DRAIN_TIMEOUT_MS);
      const recipients: (Person | undefined)[] = [];
      const messages = Array.from({ length: Math.min(BATCH, total - batch * BATCH) }, (_, i) => {
        const index = batch * BATCH + i;
        const person = index % BIG_SHARE === 0 ? big : people[Math.floor(next() * peopleCount)];
        recipients.push(person);
        const order = Math.floor(index / 6);
        return {
          key: person?.keys[app] ?? '',
          title: ['Work order progress', 'Visit reminder', 'This week at the shop'][app],
          body: `Order WO-${order}: step ${index % 6} of 6 — technician dispatched, arriving within the hour (${index})`,
          ...(index % 3 === 0 ? { thread: `wo-${order}` } : {}),
        };
      });
      const reply = await client.request('POST', '/v1/messages/batch', {
        token: appSecret,
        body: { messages },
      });
      if (reply.status !== 200) throw new Error(`batch ${batch}: ${reply.status} ${reply.text}`);
      const { results } = JSON.parse(reply.text) as { results: { messageId?: string }[] };
      const ids = results.flatMap((result) => result.messageId ?? []);
      for (const [i, result] of results.entries()) {
        const cookie = recipients[i]?.cookie;
        if (cookie !== undefined && complains(batch * BATCH + i))
          complained.push({ messageId: result.messageId ?? '', cookie });
      }
      failures += results.length - ids.length;
      const last = ids.at(-1);
      if (last !== undefined) lastOf[batch] = { appSecret, messageId: last };
      if (performance.now() - reported > 30_000) {
        reported = performance.now();
        const done = (batch + 1) * BATCH;
        process.stderr.write(
          `  seeded ${done.toLocaleString('en')} of ${total.toLocaleString('en')} messages in ${((reported - start) / 1000).toFixed(0)} s\n`,
        );
      }
    });
    const final = lastOf.at(-1);
    if (final !== undefined)
      await waitDelivered(client, final.appSecret, final.messageId, DRAIN_TIMEOUT_MS);
    await waitIdle(client, DRAIN_TIMEOUT_MS);
    // Complaints, as people file them from the inbox, once their messages are there.
    await closedLoop(complained.length, 8, async (index) => {
      const { messageId, cookie } = complained[index] ?? { messageId: '', cookie: '' };
      await client.json('POST', `/v1/me/inbox/${messageId}/complaints`, 201, {
        cookie,
        body: { category: 'spam', reason: 'I never asked for this' },
      });
    });
    const seconds = (performance.now() - start) / 1000;
    const serverCpuSeconds = (server.cpuSeconds() ?? 0) - cpuStart;
    const setup: GrowthSetup = { apps, people, big, messages: total };
    writeFileSync(setupFile, JSON.stringify(setup));
    client.close();
    await server.stop(60_000);
    const counts = eventCounts();
    return {
      messages: total,
      failures,
      people: peopleCount + 1,
      bindings: (peopleCount + 1) * APPS.length,
      bigInbox: Math.ceil(total / BIG_SHARE),
      complaints: complained.length,
      pushes: bark.received(),
      setupSeconds,
      seconds,
      serverCpuSeconds,
      perSecond: total / seconds,
      ...counts,
    };
  } finally {
    client.close();
    await server.stop(60_000);
    await bark.close();
  }
};

/** Resident memory of a process now and at its peak, in MB, from /proc/<pid>/status. */
const memoryOf = (pid: number | undefined): { rssMb?: number; peakRssMb?: number } => {
  if (pid === undefined) return {};
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number | undefined => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match === null ? undefined : Number(match[1]);
    };
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    return {
      ...(rss === undefined ? {} : { rssMb: rss / 1024 }),
      ...(peak === undefined ? {} : { peakRssMb: peak / 1024 }),
    };
  } catch {
    return {};
  }
};

/**
 * How far each read model's checkpoint is behind the log: the events of its types after it
 * (the server must be stopped). Zero for every one means a start has nothing to replay.
 */
const readModelLag = (): { head: number; behind: Record<string, number> } => {
  const db = new Database(join(dataDir, 'tidings.db'), { readonly: true });
  try {
    const head =
      db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events').get()
        ?.head ?? 0;
    const checkpoint = db.prepare<[string], { position: string }>(
      'SELECT position FROM checkpoints WHERE name = ?',
    );
    const behind: Record<string, number> = {};
    for (const projection of allProjections) {
      const at = Number(checkpoint.get(projection.name)?.position.split(':')[0] ?? 0);
      const types = projection.eventTypes;
      behind[projection.name] =
        types === undefined
          ? (db
              .prepare<[number], { n: number }>(
                'SELECT count(*) AS n FROM events WHERE position > ?',
              )
              .get(at)?.n ?? 0)
          : (db
              .prepare<unknown[], { n: number }>(
                `SELECT count(*) AS n FROM events WHERE type IN (${types.map(() => '?').join(',')}) AND position > ?`,
              )
              .get(...types, at)?.n ?? 0);
    }
    return { head, behind };
  } finally {
    db.close();
  }
};

/** Starts the measured server and times it to `/readyz` 200. */
const timedStart = async (
  extra: Record<string, string> = {},
): Promise<{ server: ChildServer; readySeconds: number }> => {
  const env = await serverEnv(extra);
  const started = performance.now();
  const server = await startChildServer({ env, readyTimeoutMs: 600_000 });
  return { server, readySeconds: (performance.now() - started) / 1000 };
};

/** Which of `wanted` are in the person's inbox, read newest first until all are found. */
const missingFromInbox = async (
  client: LoadClient,
  cookie: string,
  wanted: ReadonlySet<string>,
): Promise<{ missing: number; duplicates: number }> => {
  const found = new Set<string>();
  let duplicates = 0;
  for await (const page of inboxPages(client, cookie)) {
    for (const messageId of page) {
      if (!wanted.has(messageId)) continue;
      if (found.has(messageId)) duplicates += 1;
      found.add(messageId);
    }
    if (found.size >= wanted.size) break;
  }
  return { missing: wanted.size - found.size, duplicates };
};

/**
 * Single messages on the folder's own strong bindings, one per person for `concurrency` people
 * (the router takes the messages of one binding one after another), as bench/pipeline.ts's
 * `single` case measures them: the run's messages over the time until the last reached Bark.
 */
const throughput = async (
  client: LoadClient,
  bark: BarkProbe,
  setup: GrowthSetup,
  server: ChildServer,
): Promise<object> => {
  const seconds = option('seconds', 10);
  const concurrency = option('concurrency', 64);
  const people = setup.people.slice(0, concurrency);
  const app = setup.apps[0];
  if (app === undefined || people.length === 0) throw new Error('the setup has no people');
  const accepted: { id: string; person: number }[] = [];
  let failures = 0;
  const send = async (index: number): Promise<void> => {
    const person = index % people.length;
    const reply = await client.request('POST', '/v1/messages', {
      token: app.appSecret,
      body: {
        key: people[person]?.keys[0] ?? '',
        title: 'Work order progress',
        body: `Order WO-${index}: technician dispatched, arriving within the hour`,
      },
    });
    if (reply.status !== 202) {
      failures += 1;
      return;
    }
    accepted.push({ id: (JSON.parse(reply.text) as { messageId: string }).messageId, person });
  };
  const warmup = option('warmup', 1_000);
  await closedLoop(warmup, concurrency, send);
  const warm = accepted.length;
  const cpuStart = server.cpuSeconds();
  const runStart = performance.now();
  const run = await closedLoopFor(seconds, concurrency, (index) => send(index + warmup));
  const ended = performance.now();
  let lostBark = 0;
  try {
    await bark.waitFor(
      accepted.map((message) => message.id),
      DRAIN_TIMEOUT_MS,
    );
  } catch {
    lostBark = accepted.filter((message) => !bark.firstSeen.has(message.id)).length;
  }
  const cpuEnd = server.cpuSeconds();
  const inRun = accepted.slice(warm);
  let lastPush = 0;
  for (const message of inRun) lastPush = Math.max(lastPush, bark.firstSeen.get(message.id) ?? 0);
  let lostInbox = 0;
  let duplicateInbox = 0;
  for (const [index, person] of people.entries()) {
    const wanted = new Set(accepted.filter((m) => m.person === index).map((m) => m.id));
    const checked = await missingFromInbox(client, person.cookie, wanted);
    lostInbox += checked.missing;
    duplicateInbox += checked.duplicates;
  }
  return {
    perSecond: inRun.length / ((lastPush - runStart) / 1000),
    acceptedPerSecond: inRun.length / run.seconds,
    accepted: accepted.length,
    failures,
    concurrency,
    lostBark,
    lostInbox,
    duplicateInbox,
    drainSeconds: (lastPush - ended) / 1000,
    ...(cpuStart === undefined || cpuEnd === undefined || inRun.length === 0
      ? {}
      : { serverCpuMicros: ((cpuEnd - cpuStart) * 1e6) / inRun.length }),
  };
};

/** The first page of the large inbox, closed loop: latency percentiles in ms. */
const inboxPage = async (client: LoadClient, setup: GrowthSetup): Promise<object> => {
  const seconds = option('inbox-seconds', 5);
  const concurrency = option('inbox-concurrency', 8);
  const latencies: number[] = [];
  let failures = 0;
  let items = 0;
  const get = async (): Promise<void> => {
    const started = performance.now();
    const reply = await client.request('GET', '/v1/me/inbox', { cookie: setup.big.cookie });
    const ms = performance.now() - started;
    if (reply.status !== 200) {
      failures += 1;
      return;
    }
    latencies.push(ms);
    items = (JSON.parse(reply.text) as { items: unknown[] }).items.length;
  };
  await closedLoopFor(1, concurrency, get);
  latencies.length = 0;
  const run = await closedLoopFor(seconds, concurrency, get);
  return {
    inboxPerSecond: latencies.length / run.seconds,
    inboxP50: quantile(latencies, 0.5),
    inboxP99: quantile(latencies, 0.99),
    inboxMax: quantile(latencies, 1),
    inboxItems: items,
    inboxFailures: failures,
    inboxConcurrency: concurrency,
  };
};

const measureCase = async (): Promise<object> => {
  const setup = JSON.parse(readFileSync(setupFile, 'utf8')) as GrowthSetup;
  const bark = await startBarkProbe(DEVICE_KEY);
  const first = await timedStart();
  let server = first.server;
  const client = new LoadClient(server.url);
  try {
    // The folder's devices point at the seeding run's stand-in: the measured people save theirs
    // again, on this run's (the same requests on every folder).
    for (const person of [...setup.people.slice(0, option('concurrency', 64)), setup.big])
      await client.json('PUT', '/v1/me/devices/bark', 200, {
        cookie: person.cookie,
        body: { serverUrl: bark.url, deviceKey: DEVICE_KEY },
      });
    const single = await throughput(client, bark, setup, server);
    const inbox = await inboxPage(client, setup);
    const memory = memoryOf(server.child.pid);
    client.close();
    await server.stop(60_000);
    const lag = readModelLag();
    // Info level for the restart: the server says when its read models had to catch up.
    const again = await timedStart({ TIDINGS_LOG_LEVEL: 'info' });
    server = again.server;
    const output = server.output();
    await server.stop(60_000);
    return {
      messages: setup.messages,
      firstStartSeconds: first.readySeconds,
      ...single,
      ...inbox,
      ...memory,
      headPosition: lag.head,
      readModelsBehind: lag.behind,
      restartSeconds: again.readySeconds,
      restartCaughtUp: /read models caught up with the log/.test(output),
      restartRebuilt: /rebuilding it from the log/.test(output),
    };
  } finally {
    client.close();
    await server.stop(60_000);
    await bark.close();
  }
};

const cases: Record<string, () => Promise<object>> = { seed: seedCase, measure: measureCase };
const run = cases[benchCase];
if (run === undefined || dataDir === '') {
  process.stderr.write(
    'usage: growth.ts <seed|measure> <dataDir> [--messages=N] [--people=N] [--seconds=N] [--concurrency=N]\n',
  );
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);

/**
 * Pipeline benchmarks, end to end through HTTP, one case per process:
 *   node --import tsx bench/pipeline.ts <case> <dataDir> [options]
 * prints one JSON line with the figures; `bench/run.ts` drives the cases and prints the table.
 *
 * Three processes take part: this one is the load generator (node:http, keep-alive, bounded
 * concurrency) and also hosts the Bark stand-in, so "202 answered" and "push received" are read
 * from one clock; the server under test (`server.ts`, or the bare express ceiling) runs in a
 * child process with its own event loop. On a 2-core machine that gives the server one core and
 * the generator plus the stand-in the other.
 *
 * Cases:
 * - `express`: a bare express JSON POST handler, closed loop, requests/s.
 * - `relay`: the ceiling of issue 17 — a minimal durable relay (bench/relayCeiling.ts), closed
 *   loop, measured as `single` is.
 * - `single`: `POST /v1/messages`, closed loop; then waits until every accepted message reached
 *   the Bark stand-in and the inbox, and counts the ones that did not (lost).
 * - `batch`: `POST /v1/messages/batch` with 500 messages each; messages/s from the first request
 *   until the last push reached the stand-in.
 * - `latency`: `POST /v1/messages` at a steady rate (open loop); 202 → push received, p50/p99.
 *
 * Options: --seconds=N (closed-loop duration), --concurrency=N, --messages=N (batch total),
 * --rate=N and --seconds=N (latency), --sync=full|normal, --bindings=N, --devices=1|3 (the
 * person's devices: the Bark device alone, or Bark plus an ntfy topic and a webhook, each on its
 * own local stand-in; every case then waits until every device got every message),
 * --database=<postgres url> (the server on a shared PostgreSQL database instead of the embedded
 * store), --nodes=N (with --database: N identical server children on it, the generator spreading
 * its requests over them round-robin).
 */
import { mkdirSync } from 'node:fs';
import { startNtfyServer, type NtfyStandIn } from '../devtools/ntfyServer.js';
import { startWebhookReceiver, type WebhookReceiver } from '../devtools/webhookReceiver.js';
import { startBarkProbe, type BarkProbe } from './barkProbe.js';
import { closedLoop, LoadClient, openLoop, quantile } from './loadgen.js';
import { freePort, startChildServer, type ChildServer } from './serverProcess.js';

const [benchCase = '', dataDir = '', ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = rest.find((arg) => arg.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.split('=')[1]);
};
const synchronous = rest.find((arg) => arg.startsWith('--sync='))?.split('=')[1] ?? 'full';
/** `--profile=<dir>`: the server child writes a CPU profile there (`--cpu-prof`) when it stops. */
const profileDir = rest.find((arg) => arg.startsWith('--profile='))?.split('=')[1];

const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const DEVICE_KEY = 'benchdevice';
const REDIRECT_URI = 'https://bench.example/callback';
/** `--devices=3`: the person also has an ntfy and a webhook device, on stand-ins of their own. */
const devices = option('devices', 1);
if (devices !== 1 && devices !== 3) throw new Error(`--devices must be 1 or 3, got ${devices}`);
/** Longest a run waits for its messages to reach Bark after the load has ended. */
const DRAIN_TIMEOUT_MS = 180_000;

/** Closed loop for `seconds`: every lane keeps one request in flight until the time is up. */
const closedLoopFor = async (
  seconds: number,
  concurrency: number,
  send: (index: number) => Promise<void>,
): Promise<{ requests: number; seconds: number }> => {
  const end = performance.now() + seconds * 1000;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const index = next;
      next += 1;
      await send(index);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { requests: next, seconds: (performance.now() - start) / 1000 };
};

/** The largest of `times` (a loop: spreading 100,000s of them into Math.max overflows the stack). */
const latestOf = (times: readonly number[]): number => {
  let latest = 0;
  for (const time of times) if (time > latest) latest = time;
  return latest;
};

/** `--database=<url>`: the servers keep the log in this PostgreSQL database. */
const databaseUrl = rest.find((arg) => arg.startsWith('--database='))?.slice('--database='.length);
/** `--nodes=N`: this many servers on the database (1 without one). */
const nodeCount = option('nodes', 1);
if (nodeCount !== 1 && databaseUrl === undefined) throw new Error('--nodes needs --database');

/**
 * Starts one server under test (node `index` of the run) with settings that keep rate limits and
 * push budgets out of the way.
 */
const startTidings = async (index = 0): Promise<ChildServer> => {
  const folder = nodeCount === 1 ? dataDir : `${dataDir}/node-${index}`;
  mkdirSync(folder, { recursive: true });
  return startChildServer({
    env: {
      PORT: String(await freePort()),
      TIDINGS_DATA_DIR: folder,
      ...(databaseUrl === undefined
        ? {}
        : { TIDINGS_DATABASE_URL: databaseUrl, TIDINGS_NODE_ID: `bench-${index}` }),
      TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN,
      TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      TIDINGS_LOG_LEVEL: 'warn',
      TIDINGS_SQLITE_SYNCHRONOUS: synchronous,
      TIDINGS_APP_RATE_BURST: '1000000',
      TIDINGS_APP_RATE_PER_SECOND: '1000000',
      TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
      // Throughput is measured with admission off: a batch run accepts far ahead of delivery on
      // purpose (test/server/admission.test.ts holds the limit to account).
      TIDINGS_ADMISSION_MAX_LAG_SECONDS: '0',
    },
    ...(profileDir === undefined
      ? {}
      : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  });
};

const NTFY_TOPIC = 'bench-orders';

/** The stand-ins of the person's other two devices (`--devices=3`). */
interface OtherDevices {
  readonly ntfy: NtfyStandIn;
  readonly webhook: WebhookReceiver;
}

/**
 * Resolves once the ntfy and webhook stand-ins each received `count` requests, or rejects after
 * `timeoutMs` saying how many each is missing. Requests, not distinct messages: the messages of a
 * case have no thread, and a retried one would be counted twice — the bench answers every request.
 */
const waitForOthers = async (
  others: OtherDevices,
  count: number,
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ntfy = others.ntfy.messagesOf(NTFY_TOPIC).length;
    const webhook = others.webhook.received.length;
    if (ntfy >= count && webhook >= count) return;
    if (Date.now() > deadline)
      throw new Error(
        `${count - ntfy} ntfy and ${count - webhook} webhook deliveries of ${count} never arrived`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

interface Setup {
  readonly appSecret: string;
  readonly cookie: string;
  /** One binding key per binding; messages go round-robin over them. */
  readonly keys: readonly string[];
  readonly others: OtherDevices | undefined;
}

/**
 * Through the API: an app, one person with a Bark device on the stand-in, and `bindings`
 * consents (openids) of that person for the app, all strong. Several bindings because the router
 * handles the messages of one binding one after another (to count its push budget exactly).
 */
const setUp = async (
  client: LoadClient,
  bark: BarkProbe,
  bindings: number,
  others: OtherDevices | undefined,
): Promise<Setup> => {
  const app = await client.json<{ appId: string; appSecret: string }>(
    'POST',
    '/v1/admin/apps',
    201,
    { token: ADMIN_TOKEN, body: { name: 'Bench work orders', redirectUris: [REDIRECT_URI] } },
  );
  const registered = await client.json<{ recipientId: string }>('POST', '/v1/auth/register', 201, {
    body: { username: 'bench_person', password: 'correct horse battery staple' },
  });
  const setCookie = registered.headers['set-cookie']?.join(';') ?? '';
  const cookie = /tidings_session=[^;]*/.exec(setCookie)?.[0];
  if (cookie === undefined) throw new Error('no session cookie');
  await client.json('PUT', '/v1/me/devices/bark', 200, {
    cookie,
    body: { serverUrl: bark.url, deviceKey: DEVICE_KEY },
  });
  if (others !== undefined) {
    await client.json('POST', '/v1/me/devices', 201, {
      cookie,
      body: { kind: 'ntfy', settings: { serverUrl: others.ntfy.url, topic: NTFY_TOPIC } },
    });
    await client.json('POST', '/v1/me/devices', 201, {
      cookie,
      body: { kind: 'webhook', settings: { url: others.webhook.url } },
    });
  }
  const keys: string[] = [];
  for (let index = 0; index < bindings; index += 1) {
    const consent = await client.json<{ redirect: string }>('POST', '/v1/me/authorizations', 200, {
      cookie,
      body: {
        appId: app.body.appId,
        openid: `bench-user-${index}`,
        redirectUri: REDIRECT_URI,
        decision: 'allow',
        level: 'strong',
      },
    });
    const key = new URL(consent.body.redirect).searchParams.get('key');
    if (key === null) throw new Error('consent gave no key');
    keys.push(key);
  }
  return { appSecret: app.body.appSecret, cookie, keys, others };
};

const message = (setup: Setup, index: number): Record<string, string> => ({
  key: setup.keys[index % setup.keys.length] ?? '',
  title: 'Work order progress',
  body: `Order WO-${index}: technician dispatched, arriving within the hour`,
});

/** CPU time used since the meter was started, in seconds: the server child's and this process's. */
interface CpuUse {
  readonly server: number;
  readonly bench: number;
}

/** The CPU time of every server child, summed; undefined where one cannot tell. */
const serversCpuSeconds = (servers: readonly ChildServer[]): number | undefined => {
  let sum = 0;
  for (const server of servers) {
    const seconds = server.cpuSeconds();
    if (seconds === undefined) return undefined;
    sum += seconds;
  }
  return sum;
};

/**
 * Starts counting the CPU time of the server children (all nodes of a run) and of this process
 * (generator + stand-in).
 */
const cpuMeter = (server: ChildServer | readonly ChildServer[]): (() => CpuUse | undefined) => {
  const servers = Array.isArray(server) ? server : [server as ChildServer];
  const serverStart = serversCpuSeconds(servers);
  const benchStart = process.cpuUsage();
  return () => {
    const serverNow = serversCpuSeconds(servers);
    if (serverStart === undefined || serverNow === undefined) return undefined;
    const bench = process.cpuUsage(benchStart);
    return { server: serverNow - serverStart, bench: (bench.user + bench.system) / 1e6 };
  };
};

/** CPU µs per message (or request) of the server and of the bench process, for the JSON line. */
const cpuFigures = (use: CpuUse | undefined, count: number): object =>
  use === undefined || count === 0
    ? {}
    : {
        serverCpuMicros: (use.server * 1e6) / count,
        benchCpuMicros: (use.bench * 1e6) / count,
      };

/** Every message id in the person's inbox, read page by page through the API. */
const inboxIds = async (client: LoadClient, cookie: string): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: { messageId: string }[]; nextCursor: string | null } } =
      await client.json(
        'GET',
        `/v1/me/inbox?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`,
        200,
        {
          cookie,
        },
      );
    for (const item of page.body.items) ids.push(item.messageId);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return ids;
};

/**
 * Waits until every accepted message reached the stand-in, then compares with the inbox: lost
 * messages are accepted ones missing from either, or inbox entries counted twice.
 */
const verify = async (
  client: LoadClient,
  bark: BarkProbe,
  setup: Setup,
  accepted: readonly string[],
  cpu?: () => CpuUse | undefined,
): Promise<{
  lostBark: number;
  lostInbox: number;
  duplicateInbox: number;
  drainSeconds: number;
  /** CPU used from the meter's start until the last push arrived (before the inbox is read). */
  cpuUse: CpuUse | undefined;
}> => {
  const started = performance.now();
  let lostBark = 0;
  try {
    await bark.waitFor(accepted, DRAIN_TIMEOUT_MS);
    if (setup.others !== undefined)
      await waitForOthers(setup.others, accepted.length, DRAIN_TIMEOUT_MS);
  } catch {
    lostBark = accepted.filter((id) => !bark.firstSeen.has(id)).length;
    if (setup.others !== undefined) {
      lostBark += Math.max(0, accepted.length - setup.others.ntfy.messagesOf(NTFY_TOPIC).length);
      lostBark += Math.max(0, accepted.length - setup.others.webhook.received.length);
    }
  }
  const drainSeconds = (performance.now() - started) / 1000;
  const cpuUse = cpu?.();
  const inbox = await inboxIds(client, setup.cookie);
  const inInbox = new Set(inbox);
  return {
    lostBark,
    lostInbox: accepted.filter((id) => !inInbox.has(id)).length,
    duplicateInbox: inbox.length - inInbox.size,
    drainSeconds,
    cpuUse,
  };
};

/** The ceiling: a bare express JSON POST handler in a child process, same generator, same load. */
const expressCase = async (): Promise<object> => {
  const seconds = option('seconds', 10);
  const concurrency = option('concurrency', 64);
  const server = await startChildServer({
    env: { PORT: String(await freePort()) },
    script: 'bench/expressCeiling.ts',
  });
  const client = new LoadClient(server.url);
  let failures = 0;
  const send = async (index: number): Promise<void> => {
    const reply = await client.request('POST', '/v1/messages', {
      token: 'not-checked',
      body: {
        key: 'tbk_bench',
        title: 'Work order progress',
        body: `Order WO-${index}: dispatched`,
      },
    });
    if (reply.status !== 202) failures += 1;
  };
  try {
    await closedLoop(2_000, concurrency, send);
    const cpu = cpuMeter(server);
    const run = await closedLoopFor(seconds, concurrency, send);
    return {
      ...run,
      perSecond: run.requests / run.seconds,
      failures,
      concurrency,
      ...cpuFigures(cpu(), run.requests),
    };
  } finally {
    client.close();
    await server.stop();
  }
};

/**
 * The ceiling of issue 17: the minimal durable relay (bench/relayCeiling.ts) doing the same job
 * under the same load — validate, write one row durably, answer 202, push to Bark — measured as
 * `single` is: messages of the run over the time until the last of them reached Bark.
 */
const relayCase = async (): Promise<object> => {
  const seconds = option('seconds', 10);
  const concurrency = option('concurrency', 64);
  const bark = await startBarkProbe(DEVICE_KEY);
  mkdirSync(dataDir, { recursive: true });
  const server = await startChildServer({
    env: {
      PORT: String(await freePort()),
      RELAY_DIR: dataDir,
      RELAY_BARK_URL: bark.url,
      RELAY_DEVICE_KEY: DEVICE_KEY,
    },
    script: 'bench/relayCeiling.ts',
  });
  const client = new LoadClient(server.url);
  const accepted: string[] = [];
  let failures = 0;
  const send = async (index: number): Promise<void> => {
    const reply = await client.request('POST', '/v1/messages', {
      token: 'not-checked',
      body: {
        key: 'tbk_bench',
        title: 'Work order progress',
        body: `Order WO-${index}: technician dispatched, arriving within the hour`,
      },
    });
    if (reply.status !== 202) {
      failures += 1;
      return;
    }
    accepted.push((JSON.parse(reply.text) as { messageId: string }).messageId);
  };
  try {
    const warmup = option('warmup', 1_000);
    await closedLoop(warmup, concurrency, send);
    const warm = accepted.length;
    const runStart = performance.now();
    const cpu = cpuMeter(server);
    const run = await closedLoopFor(seconds, concurrency, (index) => send(index + warmup));
    const inRun = accepted.slice(warm);
    const ended = performance.now();
    let lostBark = 0;
    try {
      await bark.waitFor(accepted, DRAIN_TIMEOUT_MS);
    } catch {
      lostBark = accepted.filter((id) => !bark.firstSeen.has(id)).length;
    }
    const cpuUse = cpu();
    const lastPush = latestOf(inRun.map((id) => bark.firstSeen.get(id) ?? 0));
    return {
      ...run,
      perSecond: inRun.length / ((lastPush - runStart) / 1000),
      acceptedPerSecond: inRun.length / run.seconds,
      accepted: accepted.length,
      failures,
      concurrency,
      lostBark,
      drainSeconds: (lastPush - ended) / 1000,
      ...cpuFigures(cpuUse, inRun.length),
    };
  } finally {
    client.close();
    await server.stop();
    await bark.close();
  }
};

/** The servers of a run and a client for each (several with --nodes). */
interface Nodes {
  readonly servers: readonly ChildServer[];
  readonly clients: readonly LoadClient[];
}

/**
 * Runs `body` against fresh Tidings children (one, or --nodes on the database) with a Bark
 * stand-in, set up through the API of the first.
 */
const withTidings = async (
  body: (
    client: LoadClient,
    bark: BarkProbe,
    setup: Setup,
    server: ChildServer,
    nodes: Nodes,
  ) => Promise<object>,
): Promise<object> => {
  const bark = await startBarkProbe(DEVICE_KEY);
  const others: OtherDevices | undefined =
    devices === 3
      ? { ntfy: await startNtfyServer(), webhook: await startWebhookReceiver() }
      : undefined;
  const servers: ChildServer[] = [];
  const clients: LoadClient[] = [];
  try {
    // The first node migrates the schema and makes the deployment's keys; the others join it.
    servers.push(await startTidings(0));
    servers.push(
      ...(await Promise.all(
        Array.from({ length: nodeCount - 1 }, (_, index) => startTidings(index + 1)),
      )),
    );
    clients.push(...servers.map((server) => new LoadClient(server.url)));
    const [client, server] = [clients[0], servers[0]];
    if (client === undefined || server === undefined) throw new Error('no server started');
    const setup = await setUp(client, bark, option('bindings', 64), others);
    return await body(client, bark, setup, server, { servers, clients });
  } finally {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.stop()));
    if (rest.includes('--verbose'))
      for (const server of servers) process.stderr.write(server.output());
    await bark.close();
    await others?.ntfy.close();
    await others?.webhook.close();
  }
};

/** Sends one message (round-robin over the clients given); records its id when accepted. */
const sender =
  (
    client: LoadClient | readonly LoadClient[],
    setup: Setup,
    accepted: string[],
    onAccepted?: (id: string) => void,
  ) =>
  async (index: number): Promise<boolean> => {
    const clients: readonly LoadClient[] = client instanceof LoadClient ? [client] : client;
    const via = clients[index % clients.length];
    if (via === undefined) throw new Error('no client to send with');
    const reply = await via.request('POST', '/v1/messages', {
      token: setup.appSecret,
      body: message(setup, index),
    });
    if (reply.status !== 202) return false;
    const { messageId } = JSON.parse(reply.text) as { messageId: string };
    accepted.push(messageId);
    onAccepted?.(messageId);
    return true;
  };

const singleCase = (): Promise<object> =>
  withTidings(async (client, bark, setup, _server, nodes) => {
    const seconds = option('seconds', 10);
    const concurrency = option('concurrency', 64);
    const accepted: string[] = [];
    let failures = 0;
    const sendOne = sender(nodes.clients, setup, accepted);
    const send = async (index: number): Promise<void> => {
      if (!(await sendOne(index))) failures += 1;
    };
    const warmup = option('warmup', 1_000);
    await closedLoop(warmup, concurrency, send);
    const warm = accepted.length;
    const runStart = performance.now();
    const cpu = cpuMeter(nodes.servers);
    const run = await closedLoopFor(seconds, concurrency, (index) => send(index + warmup));
    const inRun = accepted.slice(warm);
    const { cpuUse, ...checked } = await verify(client, bark, setup, accepted, cpu);
    const lastPush = latestOf(inRun.map((id) => bark.firstSeen.get(id) ?? 0));
    return {
      ...run,
      // Accepted and delivered: the run's messages over the time until the last of them reached
      // Bark. What the pipeline sustains; the 202 rate alone would count a growing backlog.
      perSecond: inRun.length / ((lastPush - runStart) / 1000),
      acceptedPerSecond: inRun.length / run.seconds,
      accepted: accepted.length,
      failures,
      concurrency,
      ...checked,
      ...cpuFigures(cpuUse, inRun.length),
    };
  });

const batchCase = (): Promise<object> =>
  withTidings(async (client, bark, setup, server) => {
    const total = option('messages', 50_000);
    const concurrency = option('concurrency', 4);
    const size = 500;
    const accepted: string[] = [];
    let failures = 0;
    let lastAnswer = 0;
    const start = performance.now();
    const cpu = cpuMeter(server);
    await closedLoop(Math.ceil(total / size), concurrency, async (batch) => {
      const messages = Array.from({ length: Math.min(size, total - batch * size) }, (_, i) =>
        message(setup, batch * size + i),
      );
      const reply = await client.request('POST', '/v1/messages/batch', {
        token: setup.appSecret,
        body: { messages },
      });
      if (reply.status !== 200) {
        failures += messages.length;
        return;
      }
      const { results } = JSON.parse(reply.text) as { results: { messageId?: string }[] };
      for (const result of results) {
        if (result.messageId === undefined) failures += 1;
        else accepted.push(result.messageId);
      }
      lastAnswer = performance.now();
    });
    const { cpuUse, ...checked } = await verify(client, bark, setup, accepted, cpu);
    const lastPush = latestOf(accepted.map((id) => bark.firstSeen.get(id) ?? 0));
    const seconds = (lastPush - start) / 1000;
    return {
      messages: total,
      accepted: accepted.length,
      failures,
      concurrency,
      seconds,
      perSecond: accepted.length / seconds,
      acceptedPerSecond: accepted.length / ((lastAnswer - start) / 1000),
      ...checked,
      ...cpuFigures(cpuUse, accepted.length),
    };
  });

const latencyCase = (): Promise<object> =>
  withTidings(async (client, bark, setup) => {
    const rate = option('rate', 500);
    const seconds = option('seconds', 10);
    const acceptedAt = new Map<string, number>();
    const accepted: string[] = [];
    let failures = 0;
    const sendOne = sender(client, setup, accepted, (id) => {
      acceptedAt.set(id, performance.now());
    });
    const send = async (index: number): Promise<void> => {
      if (!(await sendOne(index))) failures += 1;
    };
    // Warm up (JIT, prepared statements, sockets) at the same rate, then measure.
    await openLoop(rate, 2, send);
    const warm = new Set(accepted);
    const paced = await openLoop(rate, seconds, (index) => send(index + 1_000_000));
    const { cpuUse: _cpu, ...checked } = await verify(client, bark, setup, accepted);
    const latencies = accepted
      .filter((id) => !warm.has(id))
      .map((id) => (bark.firstSeen.get(id) ?? NaN) - (acceptedAt.get(id) ?? NaN))
      .filter((ms) => Number.isFinite(ms));
    return {
      rate,
      seconds,
      sent: paced.sent,
      maxPacerLagMs: paced.maxLagMs,
      measured: latencies.length,
      accepted: accepted.length,
      failures,
      p50: quantile(latencies, 0.5),
      p90: quantile(latencies, 0.9),
      p99: quantile(latencies, 0.99),
      max: quantile(latencies, 1),
      ...checked,
    };
  });

const cases: Record<string, () => Promise<object>> = {
  express: expressCase,
  relay: relayCase,
  single: singleCase,
  batch: batchCase,
  latency: latencyCase,
};
const run = cases[benchCase];
if (run === undefined || dataDir === '') {
  process.stderr.write(
    `usage: pipeline.ts <${Object.keys(cases).join('|')}> <dataDir> [--seconds=N] [--concurrency=N] [--messages=N] [--rate=N] [--bindings=N] [--devices=1|3] [--sync=full|normal]\n`,
  );
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);

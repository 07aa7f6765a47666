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
 * - `latency`: `POST /v1/messages` at a steady rate (open loop, --rate; `bench/run.ts` runs it
 *   at half the relay's throughput, issue 17's 202 → Bark p99 ≤ 25 ms); 202 answered → push
 *   received p50/p90/p99/max (the budget's figure), request sent → push and sent → 202, and how
 *   late the pacer was (p99 and worst).
 * - `backlog`: issue 17's "no unbounded backlog", with admission ON (the server's default limit,
 *   or --admission=N seconds): autocannon in this process, --concurrency (64) connections in a
 *   closed loop for --seconds (30), `POST /v1/messages` or with --batch=N the batch route, N
 *   messages a request. Accepted/s (202s, or batch results, answered inside the window),
 *   delivered/s (pushes first received by the stand-in inside it), the refusals (503/429) and
 *   whether each carried Retry-After, `tidings_delivery_lag_seconds` read from /metrics once a
 *   second (its peak, the last reading before the first 503, the lag the 503 itself gives), how
 *   far back the backlog reached in acceptance time, the drain after the load, lost messages.
 *
 * Options: --seconds=N (closed-loop duration), --concurrency=N, --messages=N (batch total),
 * --rate=N and --seconds=N (latency), --admission=N and --batch=N (backlog; every other case runs
 * with admission off), --sync=full|normal, --bindings=N, --devices=1|3 (the
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
import {
  closedLoop,
  closedLoopFor,
  flood,
  inboxPages,
  LoadClient,
  backlogSpanSeconds,
  openLoop,
  quantile,
  sampleMetrics,
  type MetricsSample,
} from './loadgen.js';
import { freePort, startChildServer, type ChildServer } from './serverProcess.js';

const [benchCase = '', dataDir = '', ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = rest.find((arg) => arg.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.split('=')[1]);
};
const synchronous = rest.find((arg) => arg.startsWith('--sync='))?.split('=')[1] ?? 'full';
/** `--stages=inline|separate`: TIDINGS_SUBMISSION_STAGES for the server (its default otherwise). */
const stages = rest.find((arg) => arg.startsWith('--stages='))?.split('=')[1];
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

/** `--admission=N` (backlog case): the server's admission limit in seconds; its default otherwise. */
const admissionLimit = rest
  .find((arg) => arg.startsWith('--admission='))
  ?.slice('--admission='.length);

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
      // --stages=separate: moderation and routing by their own stages (the default is inline).
      ...(stages === undefined ? {} : { TIDINGS_SUBMISSION_STAGES: stages }),
      // Throughput is measured with admission off: a batch run accepts far ahead of delivery on
      // purpose (test/server/admission.test.ts holds the limit to account). The backlog case
      // runs with it on: the server's default, or --admission=N.
      ...(benchCase !== 'backlog'
        ? { TIDINGS_ADMISSION_MAX_LAG_SECONDS: '0' }
        : admissionLimit === undefined
          ? {}
          : { TIDINGS_ADMISSION_MAX_LAG_SECONDS: admissionLimit }),
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
  for await (const page of inboxPages(client, cookie)) ids.push(...page);
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
    onAccepted?: (id: string, index: number) => void,
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
    onAccepted?.(messageId, index);
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
    // Two clocks for each message: when its request was sent (the pacer's tick) and when its 202
    // was read here. The budget is 202 → Bark; sent → Bark adds the request's own time.
    const sentAtIndex = new Map<number, number>();
    const sentAt = new Map<string, number>();
    const acceptedAt = new Map<string, number>();
    const accepted: string[] = [];
    let failures = 0;
    const sendOne = sender(client, setup, accepted, (id, index) => {
      acceptedAt.set(id, performance.now());
      sentAt.set(id, sentAtIndex.get(index) ?? NaN);
      sentAtIndex.delete(index);
    });
    const send = async (index: number): Promise<void> => {
      sentAtIndex.set(index, performance.now());
      if (!(await sendOne(index))) failures += 1;
    };
    // Warm up (JIT, prepared statements, sockets) at the same rate, then measure.
    await openLoop(rate, 2, send);
    const warm = new Set(accepted);
    const paced = await openLoop(rate, seconds, (index) => send(index + 1_000_000));
    const { cpuUse: _cpu, ...checked } = await verify(client, bark, setup, accepted);
    const measuredIds = accepted.filter((id) => !warm.has(id));
    const since = (start: ReadonlyMap<string, number>, end: ReadonlyMap<string, number>) =>
      measuredIds
        .map((id) => (end.get(id) ?? NaN) - (start.get(id) ?? NaN))
        .filter((ms) => Number.isFinite(ms));
    const latencies = since(acceptedAt, bark.firstSeen);
    const fromSent = since(sentAt, bark.firstSeen);
    const requests = since(sentAt, acceptedAt);
    return {
      rate,
      seconds,
      sent: paced.sent,
      maxPacerLagMs: paced.maxLagMs,
      p99PacerLagMs: paced.p99LagMs,
      measured: latencies.length,
      accepted: accepted.length,
      failures,
      // 202 answered → push received (the budget's figure).
      p50: quantile(latencies, 0.5),
      p90: quantile(latencies, 0.9),
      p99: quantile(latencies, 0.99),
      max: quantile(latencies, 1),
      // request sent → push received, and request sent → 202 answered.
      sentP50: quantile(fromSent, 0.5),
      sentP99: quantile(fromSent, 0.99),
      requestP50: quantile(requests, 0.5),
      requestP99: quantile(requests, 0.99),
      ...checked,
    };
  });

const LAG = 'tidings_delivery_lag_seconds';
const BEHIND = 'tidings_pipeline_events_behind';
const REFUSING = 'tidings_admission_refusing';

/**
 * Issue 17's backlog budget: autocannon, --concurrency (64) connections in a closed loop for
 * --seconds (30), against the server with admission on. Delivered/s counts the pushes the
 * stand-in received inside the window; the lag is read from /metrics once a second, through the
 * load and the drain after it.
 */
const backlogCase = (): Promise<object> =>
  withTidings(async (client, bark, setup, server) => {
    const seconds = option('seconds', 30);
    const connections = option('concurrency', 64);
    // --batch=N: each request is a batch of N messages, an offered load far past delivery.
    const batchSize = option('batch', 0);
    const ready = await client.json<{ node: { delivery?: { limitSeconds?: number } } }>(
      'GET',
      '/readyz',
      200,
    );
    const limitSeconds = ready.body.node.delivery?.limitSeconds;
    const acceptedAt = new Map<string, number>();
    let unreadable = 0;
    const metrics = sampleMetrics(server.url, [LAG, BEHIND, REFUSING]);
    const start = performance.now();
    const run = await flood({
      url: server.url,
      path: batchSize > 0 ? '/v1/messages/batch' : '/v1/messages',
      headers: { authorization: `Bearer ${setup.appSecret}` },
      connections,
      seconds,
      body: (index) =>
        batchSize > 0
          ? {
              messages: Array.from({ length: batchSize }, (_, i) =>
                message(setup, index * batchSize + i),
              ),
            }
          : message(setup, index),
      onAnswer: (status, body, at) => {
        if (status !== (batchSize > 0 ? 200 : 202)) return;
        const parsed = JSON.parse(body) as {
          messageId?: unknown;
          results?: { messageId?: unknown }[];
        };
        for (const { messageId } of parsed.results ?? [parsed]) {
          if (typeof messageId === 'string') acceptedAt.set(messageId, at);
          else unreadable += 1;
        }
      },
    });
    const end = performance.now();
    const accepted = [...acceptedAt.keys()];
    const { cpuUse: _cpu, ...checked } = await verify(client, bark, setup, accepted);
    await metrics.stop();
    let deliveredInRun = 0;
    for (const at of bark.firstSeen.values()) if (at >= start && at <= end) deliveredInRun += 1;
    const lastPush = latestOf(accepted.map((id) => bark.firstSeen.get(id) ?? 0));
    let longestWait = 0;
    for (const [id, at] of acceptedAt)
      longestWait = Math.max(longestWait, (bark.firstSeen.get(id) ?? at) - at);
    const lagOf = (sample: MetricsSample): number => sample.values[LAG] ?? 0;
    const during = metrics.samples.filter((sample) => sample.at <= end);
    const beforeRefusal = metrics.samples.filter(
      (sample) => sample.at <= (run.firstRefusalAt ?? -Infinity),
    );
    const refusal =
      run.firstRefusal === undefined
        ? undefined
        : (JSON.parse(run.firstRefusal) as { lagSeconds?: number; code?: string });
    return {
      seconds: (end - start) / 1000,
      connections,
      batchSize,
      limitSeconds,
      answered: run.answered,
      statuses: run.statuses,
      accepted: accepted.length,
      acceptedPerSecond: accepted.length / ((end - start) / 1000),
      deliveredInRun,
      deliveredPerSecond: deliveredInRun / ((end - start) / 1000),
      refused: run.refused,
      refusedWithoutRetryAfter: run.refusedWithoutRetryAfter,
      retryAfterMin: run.retryAfterMin,
      retryAfterMax: run.retryAfterMax,
      firstRefusalSeconds:
        run.firstRefusalAt === undefined ? undefined : (run.firstRefusalAt - start) / 1000,
      firstRefusalCode: refusal?.code,
      // The lag the server gave in its first 503, and the last one /metrics showed before it.
      firstRefusalLagSeconds: refusal?.lagSeconds,
      lagBeforeRefusalSeconds: beforeRefusal.map(lagOf).at(-1),
      maxLagSeconds: Math.max(0, ...during.map(lagOf)),
      maxLagWithDrainSeconds: Math.max(0, ...metrics.samples.map(lagOf)),
      maxEventsBehind: Math.max(0, ...during.map((sample) => sample.values[BEHIND] ?? 0)),
      lagSamples: metrics.samples.length,
      // Every fifth reading of the lag (s since the start, lag s, refusing), for the record.
      lagTimeline: metrics.samples
        .filter((_, index) => index % 5 === 0)
        .map((sample) => [
          Math.round((sample.at - start) / 100) / 10,
          sample.values[LAG],
          sample.values[REFUSING],
        ]),
      backlogSpanSeconds: backlogSpanSeconds(acceptedAt, bark.firstSeen),
      longestWaitSeconds: longestWait / 1000,
      lastPushSeconds: (lastPush - end) / 1000,
      pushedUnseen: [...bark.firstSeen.keys()].filter((id) => !acceptedAt.has(id)).length,
      pushedTwice: bark.received() - bark.firstSeen.size,
      errors: run.errors,
      timeouts: run.timeouts,
      failures: unreadable,
      ...checked,
    };
  });

const cases: Record<string, () => Promise<object>> = {
  express: expressCase,
  relay: relayCase,
  single: singleCase,
  batch: batchCase,
  latency: latencyCase,
  backlog: backlogCase,
};
const run = cases[benchCase];
if (run === undefined || dataDir === '') {
  process.stderr.write(
    `usage: pipeline.ts <${Object.keys(cases).join('|')}> <dataDir> [--seconds=N] [--concurrency=N] [--messages=N] [--rate=N] [--bindings=N] [--devices=1|3] [--sync=full|normal] [--admission=N] [--batch=N]\n`,
  );
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);

/**
 * Outbound benchmark: what one Bark push costs the sending process, one case per process:
 *   node --import tsx bench/outbound.ts <case> [folder] [options]
 * prints one JSON line with the figures (`folder`, which `bench/run.ts` hands every script, is
 * accepted and not used).
 *
 * Two processes take part: this one sends; the Bark stand-in (devtools/barkServer.ts,
 * through bench/barkProbe.ts) runs in a child process, so on a 2-core machine each has a core and
 * the sender's CPU time (`process.cpuUsage` over the measured run) is its own. Every push
 * carries its own id and body; the run fails loudly unless every push was answered 200 with
 * bark-server's success envelope and the stand-in received exactly as many as were sent (the
 * error quotes the first outcome that was not `delivered`).
 *
 * Cases:
 * - `raw`: the ceiling — `node:http` with a keep-alive agent, the same JSON body and
 *   `Content-Type`, the answer read whole and its envelope parsed.
 * - `bark`: the Bark channel as the server uses it: `createBarkChannel().send` with a
 *   `ChannelContext` whose `http` is `createGuardedHttpClient` (the channels' HTTP port on its
 *   guarded undici Agent; allowlist 127.0.0.1, like the pipeline benchmarks), each outcome
 *   checked to be `delivered`. `undici` is the same case under the name it was measured by when
 *   the port moved from axios on `node:http` to undici.
 * - `axios`: a plain axios instance (its http adapter, keep-alive agent, `maxRedirects: 0`,
 *   every status resolves) posting the same way: axios without the guard, for reference.
 *
 * By default a closed loop: `--concurrency` pushes in flight for `--seconds` after `--warmup`
 * seconds. With `--rate=N` an open loop instead: N pushes a second whatever the answers do, so
 * that cases are compared at the same load (the sender's CPU per push depends on it: a busier
 * stand-in means fewer wake-ups, and more answers handled per event-loop turn).
 *
 * Figures: `cpuMicrosPerRequest` (sender CPU time per push, user + system: the figure to compare;
 * `userMicrosPerRequest` and `systemMicrosPerRequest` split it), `standInCpuMicrosPerRequest`
 * (the stand-in's CPU per push received, from /proc, where there is one), `perSecond` (pushes answered per
 * second), `requests`, `seconds`, `failures`, and `concurrency`, or `rate` and `maxPacerLagMs`.
 *
 * Options: --seconds=N (default 5), --concurrency=N (64), --warmup=N (seconds, 1), --rate=N,
 * --profile=<dir> (write a CPU profile of the measured run there, `outbound-<case>.cpuprofile`;
 * sampling every 100 µs costs CPU too, so the figures of a profiled run are higher).
 */
import axios from 'axios';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../adapters/logging/logger.js';
import { parseAllowlist } from '../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../adapters/outbound/guardedHttpClient.js';
import { createBarkChannel, type BarkRequest } from '../channels/bark/barkChannel.js';
import type { ChannelContext } from '../channels/channel.js';
import type { HttpClient } from '../channels/httpClient.js';
import { startBarkProbe } from './barkProbe.js';
import { processCpuSeconds } from './serverProcess.js';
import { closedLoopFor, openLoop } from './loadgen.js';

const DEVICE_KEY = 'benchdevice';

const [benchCase = '', ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = rest.find((arg) => arg.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.split('=')[1]);
};
const profileDir = rest.find((arg) => arg.startsWith('--profile='))?.split('=')[1];

/** The stand-in's side: started in a child process; answers `count` with pushes received. */
const serve = async (): Promise<void> => {
  const probe = await startBarkProbe(DEVICE_KEY);
  process.on('message', (message) => {
    if (message === 'count') process.send?.({ received: probe.received() });
    if (message === 'stop') {
      void probe.close().then(() => process.exit(0));
    }
  });
  // Not outliving the benchmark, however it ends.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ url: probe.url });
};

interface StandIn {
  readonly url: string;
  /** The stand-in process's CPU time so far, in seconds (undefined without /proc). */
  cpuSeconds(): number | undefined;
  received(): Promise<number>;
  stop(): Promise<void>;
}

const startStandIn = async (): Promise<StandIn> => {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (typeof message === 'object' && message !== null && key in message) {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve((message as Record<string, T>)[key] as T);
        }
      };
      const onExit = (): void => {
        reject(new Error('the Bark stand-in exited'));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const url = await next<string>('url');
  return {
    url,
    cpuSeconds: () => (child.pid === undefined ? undefined : processCpuSeconds(child.pid)),
    received: () => {
      const answer = next<number>('received');
      child.send('count');
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.send('stop');
      }),
  };
};

/** The push with index `index`: its own id and body, like the router's pushes. */
const pushFor = (url: string, index: number): BarkRequest => ({
  url: `${url}/push`,
  body: {
    device_key: DEVICE_KEY,
    title: 'Work order progress',
    body: `Order WO-${index}: technician dispatched, arriving within the hour`,
    level: 'active',
    group: 'Bench work orders',
    id: `bench-${index}`,
  },
});

/** What became of the first push a channel did not deliver, for the error that ends the run. */
let firstFailure: string | undefined;

/** Sends one push; resolves true when it was delivered. */
type Sender = (request: BarkRequest) => Promise<boolean>;

const isSuccessEnvelope = (status: number, text: string): boolean => {
  if (status !== 200) return false;
  try {
    return (JSON.parse(text) as { code?: unknown }).code === 200;
  } catch {
    return false;
  }
};

const rawSender = (): Sender => {
  const agent = new http.Agent({ keepAlive: true });
  return (request) =>
    new Promise<boolean>((resolve, reject) => {
      const url = new URL(request.url);
      const body = JSON.stringify(request.body);
      const outgoing = http.request(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            resolve(isSuccessEnvelope(response.statusCode ?? 0, Buffer.concat(chunks).toString()));
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
};

/** The Bark channel sending through `http`, as the server uses it. */
const channelSender = (http: HttpClient): Sender => {
  const channel = createBarkChannel();
  const context: ChannelContext = { http, logger: silentLogger, now: () => new Date() };
  return async (request) => {
    const outcome = await channel.send(request, context);
    if (outcome.kind === 'delivered') return true;
    firstFailure ??= JSON.stringify(outcome);
    return false;
  };
};

const barkSender = (): Sender =>
  channelSender(createGuardedHttpClient({ allowlist: parseAllowlist(['127.0.0.1']) }));

const axiosSender = (): Sender => {
  const client = axios.create({
    httpAgent: new http.Agent({ keepAlive: true }),
    maxRedirects: 0,
    proxy: false,
    validateStatus: () => true,
  });
  return async (request) => {
    const response = await client.post<string>(request.url, JSON.stringify(request.body), {
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      responseType: 'text',
    });
    return isSuccessEnvelope(response.status, response.data);
  };
};

const senders: Record<string, () => Sender> = {
  raw: rawSender,
  bark: barkSender,
  // The name the undici-backed port was measured under (issue 17) before it became the client.
  undici: barkSender,
  axios: axiosSender,
};

/** Profiles `body` with the inspector when `--profile` is given; writes `outbound-<case>.cpuprofile`. */
const profiled = async <T>(body: () => Promise<T>): Promise<T> => {
  if (profileDir === undefined) return body();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(join(profileDir, `outbound-${benchCase}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
};

const measure = async (makeSender: () => Sender): Promise<object> => {
  const seconds = option('seconds', 5);
  const concurrency = option('concurrency', 64);
  const warmup = option('warmup', 1);
  const rate = option('rate', 0);
  const standIn = await startStandIn();
  try {
    const sendPush = makeSender();
    let failures = 0;
    const send = async (index: number): Promise<void> => {
      if (!(await sendPush(pushFor(standIn.url, index)))) failures += 1;
    };
    const warm = await closedLoopFor(warmup, concurrency, send, 0);
    const before = process.cpuUsage();
    const standInBefore = standIn.cpuSeconds();
    const run = await profiled(async () => {
      if (rate <= 0) return closedLoopFor(seconds, concurrency, send, 1_000_000_000);
      const start = performance.now();
      const paced = await openLoop(rate, seconds, (index) => send(index + 1_000_000_000));
      return {
        requests: paced.sent,
        seconds: (performance.now() - start) / 1000,
        maxPacerLagMs: paced.maxLagMs,
      };
    });
    const cpu = process.cpuUsage(before);
    const standInAfter = standIn.cpuSeconds();
    const received = await standIn.received();
    if (failures > 0 || received !== warm.requests + run.requests) {
      throw new Error(
        `${failures} pushes not delivered; the stand-in received ${received} of ${warm.requests + run.requests}${firstFailure === undefined ? '' : `; the first: ${firstFailure}`}`,
      );
    }
    return {
      ...run,
      perSecond: run.requests / run.seconds,
      cpuMicrosPerRequest: (cpu.user + cpu.system) / run.requests,
      userMicrosPerRequest: cpu.user / run.requests,
      systemMicrosPerRequest: cpu.system / run.requests,
      ...(standInBefore === undefined || standInAfter === undefined
        ? {}
        : { standInCpuMicrosPerRequest: ((standInAfter - standInBefore) * 1e6) / run.requests }),
      failures,
      ...(rate > 0 ? { rate } : { concurrency }),
    };
  } finally {
    await standIn.stop();
  }
};

if (benchCase === 'serve') {
  await serve();
} else {
  const makeSender = senders[benchCase];
  if (makeSender === undefined) {
    process.stderr.write(
      `usage: outbound.ts <${Object.keys(senders).join('|')}> [folder] [--seconds=N] [--concurrency=N] [--warmup=N] [--rate=N] [--profile=dir]\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(makeSender))}\n`);
}

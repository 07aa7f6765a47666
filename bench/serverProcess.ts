/**
 * Runs the real server (`node --import tsx server.ts`) as a child process on 127.0.0.1: used by
 * the pipeline benchmarks (so the load generator does not share the server's event loop) and by
 * the crash test (which SIGKILLs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../adapters/config/settings.js';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A port nobody listens on right now (on 127.0.0.1). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => {
        resolve(address.port);
      });
    });
  });

/** This process's environment without any Tidings setting, plus the given ones. */
const environment = (settings: Readonly<Record<string, string>>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames) Reflect.deleteProperty(env, name);
  return { ...env, ...settings };
};

export interface ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the child wrote to stderr so far (and stdout, which carries the JSON log). */
  output(): string;
  /** Resolves when the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful stop), then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, at once: a crash. */
  kill(): Promise<void>;
  /**
   * CPU time the child has used so far (user + system, all its threads), in seconds; undefined
   * where /proc is not there to tell.
   */
  cpuSeconds(): number | undefined;
}

export interface ChildServerOptions {
  /** The Tidings settings (PORT, TIDINGS_DATA_DIR…); TIDINGS_HOST defaults to 127.0.0.1. */
  readonly env: Readonly<Record<string, string>>;
  /** The script to run, relative to the project root; `server.ts` by default. */
  readonly script?: string;
  /** How long to wait for `GET /readyz` (or `readyPath`) to answer 200; default 30 s. */
  readonly readyTimeoutMs?: number;
  readonly readyPath?: string;
  /** Extra node options for the child, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

/** Linux reports a process's CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of a running process from /proc/<pid>/stat; undefined if unreadable. */
export const processCpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): state is the
    // first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
};

/** Starts the child and resolves once it answers 200 on its readiness route. */
export const startChildServer = async (options: ChildServerOptions): Promise<ChildServer> => {
  const env: Readonly<Record<string, string>> = { TIDINGS_HOST: '127.0.0.1', ...options.env };
  const port = env['PORT'];
  if (port === undefined || port === '0') throw new Error('startChildServer needs a fixed PORT');
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', options.script ?? 'server.ts'],
    {
      cwd: projectRoot,
      env: environment(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: string): void => {
    // Only the tail matters when something goes wrong; do not grow without bound.
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  const server: ChildServer = {
    child,
    url,
    output: () => output,
    exited,
    stop: async (graceMs = 15_000) => {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    cpuSeconds: () => (child.pid === undefined ? undefined : processCpuSeconds(child.pid)),
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (!running()) throw new Error(`the server exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`the server was not ready in time:\n${output}`);
    }
    try {
      const response = await fetch(`${url}${options.readyPath ?? '/readyz'}`);
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../../adapters/config/settings.js';

/**
 * Tidings as a process of its own (`node --import tsx server.ts`), for the tests that start,
 * signal or kill real server processes.
 */

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A port nobody listens on right now (the bench's helper). */
export { freePort } from '../../bench/serverProcess.js';

/** This process's environment without any Tidings setting, plus the given ones. */
export const environment = (settings: Readonly<Record<string, string>>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames) Reflect.deleteProperty(env, name);
  return { ...env, ...settings };
};

export interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once the process has exited and its output is fully read. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const runServer = (settings: Readonly<Record<string, string>>): Run => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: projectRoot,
    env: environment(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        resolve({ code, signal });
      });
    },
  );
  return { child, stdout: () => stdout, stderr: () => stderr, ended };
};

/** Polls /healthz until it answers 200; gives up after a bounded number of attempts or if the process ends. */
export const waitUntilHealthy = async (run: Run, url: string): Promise<void> => {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      expect.fail(`the server ended before it was healthy; stderr: ${run.stderr()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect.fail(`the server did not become healthy within 15 s; stderr: ${run.stderr()}`);
};

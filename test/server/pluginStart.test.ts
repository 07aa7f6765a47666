import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../../adapters/config/settings.js';
import { pluginFolder, pluginSource, type PluginFolder } from '../support/pluginFolder.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `tsx server.ts` with these plugins until it exits (a bad plugin must make it exit). */
const startWith = async (plugins: string): Promise<{ code: number | null; stderr: string }> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidings-plugin-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames) Reflect.deleteProperty(env, name);
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: projectRoot,
    env: {
      ...env,
      PORT: '0',
      TIDINGS_HOST: '127.0.0.1',
      TIDINGS_DATA_DIR: dataDir,
      TIDINGS_LOG_LEVEL: 'error',
      TIDINGS_CHANNEL_PLUGINS: plugins,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // A server that did start would run for ever: give it 15 s, then stop it and fail.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exit) => {
        resolve(exit);
      });
    });
    return { code, stderr };
  } finally {
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
};

/** Expects the start to have stopped with exit code 1 and exactly `line` on stderr. */
const expectStopped = (run: { code: number | null; stderr: string }, line: string): void => {
  expect(run.stderr).to.equal(`tidings: could not start: ${line}\n`);
  expect(run.code).to.equal(1);
};

describe('server start with a bad channel plugin (tsx server.ts in a child process)', function () {
  this.timeout(60_000);
  let folder: PluginFolder;
  before(() => {
    folder = pluginFolder();
  });
  after(() => {
    folder.dispose();
  });

  it('a module with a syntax error stops the start with one line naming it', async () => {
    const file = folder.write('broken.mjs', 'export default {\n  kind: "broken",,\n};\n');
    const run = await startWith(file);
    expect(run.stderr.split('\n')).to.have.length(2);
    expect(run.stderr).to.match(
      new RegExp(
        `^tidings: could not start: channel plugin ${file}: could not be imported .*SyntaxError`,
      ),
    );
    expect(run.code).to.equal(1);
  });

  it('a module without a default export stops the start', async () => {
    const file = folder.write('named.mjs', "export const kind = 'named';\n");
    expectStopped(
      await startWith(file),
      `channel plugin ${file}: exports no channel as default (export default { kind, name, settings, render, send })`,
    );
  });

  it('a malformed declaration stops the start, naming the field', async () => {
    const file = folder.write(
      'nameless.mjs',
      "export default { kind: 'nameless', settings: [], render() {}, async send() {} };\n",
    );
    expectStopped(
      await startWith(file),
      `channel plugin ${file}: is not a valid channel: name must be a non-empty string, got nothing`,
    );
  });

  it('a kind the built-in bark has, email or sms unconfigured, or another plugin has, stops the start', async () => {
    const bark = folder.write('bark.mjs', pluginSource('bark'));
    expectStopped(
      await startWith(bark),
      `channel plugin ${bark}: declares the kind "bark", which the built-in channel bark already has`,
    );
    // email and sms are Tidings' kinds even where no SMTP server or SMS gateway is configured.
    for (const kind of ['email', 'sms']) {
      const file = folder.write(`${kind}.mjs`, pluginSource(kind));
      expectStopped(
        await startWith(file),
        `channel plugin ${file}: declares the kind "${kind}", which the built-in channel ${kind} already has`,
      );
    }
    const one = folder.write('one/pager.mjs', pluginSource('pager'));
    const two = folder.write('two/pager.mjs', pluginSource('pager'));
    expectStopped(
      await startWith(`${one},${two}`),
      `channel plugin ${two}: declares the kind "pager", which channel plugin ${one} already has`,
    );
  });
});

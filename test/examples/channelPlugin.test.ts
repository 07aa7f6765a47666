/**
 * The example plugin (examples/channel-plugin) inside Tidings' own `npm test`: its own test file
 * runs here, the way `npm test` in the example runs it, and the plugin is loaded by a server from
 * a folder outside the repository.
 *
 * The example imports `tidings/conformance` as a plugin author would. In a clean clone nothing has
 * installed the example's `file:../..` dependency, and Node's package self-reference does not
 * reach into a nested package, so this file makes the link `npm install` would make
 * (examples/channel-plugin/node_modules/tidings → the repository; node_modules is ignored by git)
 * before it imports the example's test.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { HttpClient } from '../../channels/httpClient.js';
import { pluginFolder } from '../support/pluginFolder.js';
import { startTestServer } from '../support/testServer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = join(root, 'examples', 'channel-plugin');
const link = join(example, 'node_modules', 'tidings');
if (!existsSync(link) && !isDanglingLink(link)) {
  mkdirSync(join(example, 'node_modules'), { recursive: true });
  symlinkSync(join('..', '..', '..'), link, 'dir');
}

/** A file URL of the example (a URL, so the type checker leaves the plain-JS modules alone). */
function exampleFile(path: string): string {
  return pathToFileURL(join(example, path)).href;
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

// The example's own suites, registered as they are in `npm test` of the example.
await import(exampleFile('test/matrix.test.mjs'));

describe('example channel plugin (examples/channel-plugin) with Tidings', () => {
  it('type-checks its JSDoc against tidings/plugin, resolved through package.json exports', async function () {
    this.timeout(60_000);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', example]).then(
      () => ({ ok: true, output: '' }),
      (error: unknown) => ({
        ok: false,
        output:
          (error as { stdout?: string }).stdout ??
          (error instanceof Error ? error.message : 'tsc failed'),
      }),
    );
    expect(run.output).to.equal('');
    expect(run.ok).to.equal(true);
  });

  it('loads into a server from a copy outside the repository, guarded, and delivers', async () => {
    const folder = pluginFolder();
    const file = join(folder.dir, 'matrix.mjs');
    copyFileSync(join(example, 'matrix.mjs'), file);
    const server = await startTestServer({ env: { TIDINGS_CHANNEL_PLUGINS: file } });
    try {
      const matrix = server.tidings.channels.get('matrix');
      expect(matrix?.name).to.equal('Matrix room');
      expect(
        matrix?.settings.map((setting) => [setting.name, setting.type, setting.secret]),
      ).to.deep.equal([
        ['homeserver', 'url', false],
        ['roomId', 'string', false],
        ['token', 'string', true],
      ]);
      const { startHomeserver } = (await import(exampleFile('test/homeserver.mjs'))) as {
        startHomeserver: (account: { token: string; roomId: string }) => Promise<{
          url: string;
          events: unknown[];
          close: () => Promise<void>;
        }>;
      };
      const { fetchClient } = (await import(exampleFile('test/fetchClient.mjs'))) as {
        fetchClient: () => HttpClient;
      };
      const homeserver = await startHomeserver({ token: 'syt_t', roomId: '!r:localhost' });
      try {
        const rendered = matrix!.render(
          { messageId: 'm-1', appId: 'a', appName: 'Work orders', recipientId: 'r', body: 'Hello' },
          { homeserver: homeserver.url, roomId: '!r:localhost', token: 'syt_t' },
        );
        const outcome = await matrix!.send(rendered, {
          http: fetchClient(),
          logger: noLogger,
          now: () => new Date(),
        });
        expect(outcome).to.deep.equal({ kind: 'delivered' });
        expect(homeserver.events).to.have.length(1);
      } finally {
        await homeserver.close();
      }
    } finally {
      await server.dispose();
      folder.dispose();
    }
  });
});

const noLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noLogger,
};

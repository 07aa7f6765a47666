import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { relative } from 'node:path';
import { builtInChannels, builtInKinds } from '../../channels/index.js';
import type { Channel } from '../../channels/channel.js';
import { loadChannelPlugins } from '../../composition/channelPlugins.js';
import { pluginFolder, pluginSource, type PluginFolder } from '../support/pluginFolder.js';
import { startTestServer } from '../support/testServer.js';

const load = async (specs: readonly string[], cwd: string): Promise<Channel[]> => {
  const loaded = await loadChannelPlugins(specs, cwd, builtInKinds);
  if (E.isLeft(loaded)) expect.fail(loaded.left);
  return loaded.right;
};

const refusal = async (specs: readonly string[], cwd: string): Promise<string> => {
  const loaded = await loadChannelPlugins(specs, cwd, builtInKinds);
  if (E.isRight(loaded)) expect.fail('the plugins were loaded');
  return loaded.left;
};

describe('channel plugin loader (TIDINGS_CHANNEL_PLUGINS), from a folder outside the repository', () => {
  let folder: PluginFolder;
  beforeEach(() => {
    folder = pluginFolder();
  });
  afterEach(() => {
    folder.dispose();
  });

  it('loads a module by absolute path, and one by a path relative to the working directory', async () => {
    const absolute = folder.write('a/pager.mjs', pluginSource('pager'));
    folder.write('b/fax.mjs', pluginSource('fax'));
    const channels = await load([absolute, './b/fax.mjs'], folder.dir);
    expect(channels.map((channel) => [channel.kind, channel.name])).to.deep.equal([
      ['pager', 'Plugin pager'],
      ['fax', 'Plugin fax'],
    ]);
    expect(channels[0]!.settings.map((setting) => setting.name)).to.deep.equal(['token']);
  });

  it('resolves a relative path from the working directory it is given, with ../ too', async () => {
    folder.write('plugins/pager.mjs', pluginSource('pager'));
    const channels = await load(['../plugins/pager.mjs'], `${folder.dir}/work`);
    expect(channels.map((channel) => channel.kind)).to.deep.equal(['pager']);
  });

  it("loads packages by name from the working directory's node_modules, main or import-only exports, scoped too", async () => {
    folder.write(
      'node_modules/tidings-pager/package.json',
      JSON.stringify({ name: 'tidings-pager', main: 'pager.js', type: 'module' }),
    );
    folder.write('node_modules/tidings-pager/pager.js', pluginSource('pager'));
    folder.write(
      'node_modules/@acme/tidings-line/package.json',
      JSON.stringify({
        name: '@acme/tidings-line',
        type: 'module',
        exports: { '.': { types: './line.d.ts', import: './line.js' } },
      }),
    );
    folder.write('node_modules/@acme/tidings-line/line.js', pluginSource('line'));
    // From a folder below: node_modules are looked for upward, as Node does.
    const channels = await load(['tidings-pager', '@acme/tidings-line'], `${folder.dir}/srv`);
    expect(channels.map((channel) => channel.kind)).to.deep.equal(['pager', 'line']);
  });

  it('resolves a dual package (import and require builds) under the import condition, subpaths too', async () => {
    // The CommonJS build is not a channel: loading it instead of the ESM entry stops the start.
    const cjs = "module.exports = { __esModule: true, default: { kind: 'wrong' } };\n";
    folder.write(
      'node_modules/tidings-dual/package.json',
      JSON.stringify({
        name: 'tidings-dual',
        exports: {
          '.': { require: './dual.cjs', import: './dual.mjs' },
          './fax': { node: { require: './fax.cjs', import: './fax.mjs' } },
          './extra/*': { require: './cjs/*.cjs', default: './esm/*.mjs' },
        },
      }),
    );
    folder.write('node_modules/tidings-dual/dual.cjs', cjs);
    folder.write('node_modules/tidings-dual/dual.mjs', pluginSource('dual'));
    folder.write('node_modules/tidings-dual/fax.cjs', cjs);
    folder.write('node_modules/tidings-dual/fax.mjs', pluginSource('fax'));
    folder.write('node_modules/tidings-dual/cjs/line.cjs', cjs);
    folder.write('node_modules/tidings-dual/esm/line.mjs', pluginSource('line'));
    const channels = await load(
      ['tidings-dual', 'tidings-dual/fax', 'tidings-dual/extra/line'],
      folder.dir,
    );
    expect(channels.map((channel) => channel.kind)).to.deep.equal(['dual', 'fax', 'line']);
    expect(await refusal(['tidings-dual/nothing'], folder.dir)).to.match(
      /^channel plugin tidings-dual\/nothing: the package tidings-dual exports no \.\/nothing /,
    );
  });

  it('wraps each plugin so that a throwing send is a failed outcome', async () => {
    const file = folder.write('boom.mjs', pluginSource('boom', "throw new Error('kaboom');"));
    const [boom] = await load([file], folder.dir);
    const rendered = boom!.render(
      { messageId: 'm', appId: 'a', appName: 'A', recipientId: 'r', body: 'hi' },
      { token: 'tok' },
    );
    const outcome = await boom!.send(rendered, {
      http: { request: () => Promise.reject(new Error('unused')) },
      logger: {
        debug() {},
        info() {},
        warn() {},
        error() {},
        child() {
          return this;
        },
      },
      now: () => new Date(),
    });
    expect(outcome).to.deep.equal({ kind: 'failed', reason: 'channel boom failed: kaboom' });
  });

  describe('refusals: one line naming the module and the reason', () => {
    it('a module that does not exist', async () => {
      expect(await refusal(['./missing.mjs'], folder.dir)).to.equal(
        `channel plugin ./missing.mjs: no file at ${folder.dir}/missing.mjs`,
      );
      expect(await refusal(['tidings-nowhere'], folder.dir)).to.equal(
        `channel plugin tidings-nowhere: no package tidings-nowhere is installed where ${folder.dir} can see it`,
      );
    });

    it('a bare name that is a file says to write ./', async () => {
      folder.write('pager.mjs', pluginSource('pager'));
      expect(await refusal(['pager.mjs'], folder.dir)).to.match(
        /\(for the file, write \.\/pager\.mjs\)$/,
      );
    });

    it('a module with a syntax error', async () => {
      const file = folder.write('broken.mjs', 'export default {\n  kind: "broken",,\n};\n');
      const line = await refusal([file], folder.dir);
      expect(line).to.match(
        new RegExp(`^channel plugin ${file}: could not be imported \\(${file}\\): SyntaxError: `),
      );
      expect(line).to.not.include('\n');
    });

    it('a module that throws while it loads', async () => {
      const file = folder.write('throws.mjs', "throw new Error('no config');\n");
      expect(await refusal([file], folder.dir)).to.equal(
        `channel plugin ${file}: could not be imported (${file}): Error: no config`,
      );
    });

    it('a module without a default export', async () => {
      const file = folder.write('named.mjs', "export const channel = { kind: 'named' };\n");
      expect(await refusal([file], folder.dir)).to.equal(
        `channel plugin ${file}: exports no channel as default (export default { kind, name, settings, render, send })`,
      );
    });

    it('a module whose declaration is malformed, with every problem', async () => {
      const file = folder.write(
        'bad.mjs',
        "export default { kind: 'Bad Kind', name: 'Bad', settings: [], render() {} };\n",
      );
      expect(await refusal([file], folder.dir)).to.equal(
        `channel plugin ${file}: is not a valid channel: kind must be 1-32 lowercase letters, digits or dashes starting with a letter, got "Bad Kind"; send must be a function, got nothing`,
      );
    });

    it('a kind a built-in channel has, and one an earlier plugin has', async () => {
      const bark = folder.write('bark.mjs', pluginSource('bark'));
      expect(await refusal([bark], folder.dir)).to.equal(
        `channel plugin ${bark}: declares the kind "bark", which the built-in channel bark already has`,
      );
      const email = folder.write('email.mjs', pluginSource('email'));
      expect(await refusal([email], folder.dir)).to.equal(
        `channel plugin ${email}: declares the kind "email", which the built-in channel email already has`,
      );
      const first = folder.write('one/pager.mjs', pluginSource('pager'));
      folder.write('two/pager.mjs', pluginSource('pager'));
      expect(await refusal([first, './two/pager.mjs'], folder.dir)).to.equal(
        `channel plugin ./two/pager.mjs: declares the kind "pager", which channel plugin ${first} already has`,
      );
    });
  });

  it('puts the plugins in the running server’s registry after the built-in channels', async () => {
    const file = folder.write('pager.mjs', pluginSource('pager'));
    folder.write('fax.mjs', pluginSource('fax'));
    const server = await startTestServer({
      env: {
        TIDINGS_CHANNEL_PLUGINS: `${file}, ./${relative(process.cwd(), `${folder.dir}/fax.mjs`)}`,
      },
    });
    try {
      expect(server.tidings.channels.kinds).to.deep.equal([
        ...builtInChannels.map((c) => c.kind),
        'pager',
        'fax',
      ]);
      expect(server.tidings.channels.get('pager')?.name).to.equal('Plugin pager');
    } finally {
      await server.dispose();
    }
  });
});

import { expect } from 'chai';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { layerRules, layers, type LayerName } from '../eslint.layers.js';

/**
 * The layer rule of eslint.layers.js, run as the lint runs it: every wrong-way import between the
 * top-level folders is an error naming the rule, and every allowed one passes.
 */

type Layer = LayerName;

/** Where a file of each layer sits, and how it would import a module of another layer. */
const fileOf: Record<Layer, string> = {
  domain: 'domain/message/probe.ts',
  projections: 'projections/messages/probe.ts',
  channels: 'channels/bark/probe.ts',
  application: 'application/delivery/probe.ts',
  adapters: 'adapters/http/probe.ts',
  composition: 'composition/probe.ts',
  server: 'server.ts',
  bin: 'bin/probe.ts',
  bench: 'bench/probe.ts',
  devtools: 'devtools/probe.ts',
};
const targetOf: Record<Layer | 'test', string> = {
  domain: 'domain/shared/eventStore.js',
  projections: 'projections/messages/messageQueries.js',
  channels: 'channels/channel.js',
  application: 'application/commandBus.js',
  adapters: 'adapters/sqlite/database.js',
  composition: 'composition/stopStack.js',
  server: 'server.js',
  bin: 'bin/demo.js',
  bench: 'bench/measure.js',
  devtools: 'devtools/barkServer.js',
  test: 'test/support/waitUntil.js',
};

const specifier = (from: string, to: string): string => {
  const depth = from.split('/').length - 1;
  return `${depth === 0 ? './' : '../'.repeat(depth)}${to}`;
};

const linter = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...layerRules(),
  ],
});

const lint = async (file: string, code: string): Promise<readonly string[]> => {
  const [result] = await linter.lintText(code, { filePath: file });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
};

describe('eslint.layers.js: imports point one way', () => {
  const names = Object.keys(layers) as Layer[];

  for (const from of names) {
    const allowed = new Set<string>([from, ...layers[from].may]);
    for (const to of [...names, 'test'] as const) {
      const expected = allowed.has(to) ? 'allowed' : 'refused';
      it(`${from} → ${to} is ${expected}`, async () => {
        const code = `import type { X } from '${specifier(fileOf[from], targetOf[to])}';\nexport type Y = X;\n`;
        const messages = await lint(fileOf[from], code);
        if (expected === 'allowed') {
          expect(messages).to.deep.equal([]);
        } else {
          expect(messages).to.have.length(1);
          expect(messages[0]).to.match(/^no-restricted-imports: /);
          expect(messages[0]).to.contain(`${from} may import only`);
          expect(messages[0]).to.contain(`not ${to}`);
        }
      });
    }
  }

  it('keeps drivers out of the inner layers (type imports too)', async () => {
    expect(
      await lint(fileOf.projections, "import type { Database } from 'better-sqlite3';\n"),
    ).to.have.length(1);
    expect(
      await lint(fileOf.channels, "import type { AxiosInstance } from 'axios';\n"),
    ).to.have.length(1);
    expect(await lint(fileOf.application, "import express from 'express';\n")).to.have.length(1);
    expect(
      await lint(fileOf.channels, "import type { Transporter } from 'nodemailer';\n"),
    ).to.have.length(1);
    expect(await lint(fileOf.domain, "import { readFileSync } from 'node:fs';\n")).to.have.length(
      1,
    );
    expect(await lint(fileOf.adapters, "import express from 'express';\n")).to.deep.equal([]);
  });

  it("keeps Node's sockets and files out of every inner layer, not its crypto", async () => {
    for (const layer of ['domain', 'projections', 'channels', 'application'] as const) {
      for (const io of ['node:net', 'node:http', 'node:fs/promises', 'node:dns']) {
        const messages = await lint(
          fileOf[layer],
          `import * as io from '${io}';\nexport { io };\n`,
        );
        expect(messages, `${layer} importing ${io}`).to.have.length(1);
        expect(messages[0]).to.contain(`${layer} does no I/O of its own`);
      }
      const crypto = await lint(
        fileOf[layer],
        "import { createHash } from 'node:crypto';\nexport { createHash };\n",
      );
      expect(crypto, `${layer} importing node:crypto`).to.deep.equal([]);
    }
    expect(
      await lint(fileOf.adapters, "import * as io from 'node:http';\nexport { io };\n"),
    ).to.deep.equal([]);
  });

  it('is part of the project lint: the real eslint.config.js refuses a wrong-way import', async function () {
    this.timeout(120_000);
    // The full, type-aware configuration, on a real file of the projections with one import added.
    const project = new ESLint({ cwd: process.cwd() });
    const [result] = await project.lintText(
      "import type { SqliteDatabase } from '../adapters/sqlite/database.js';\nexport type Db = SqliteDatabase;\n",
      { filePath: 'projections/projection.ts' },
    );
    const refused = (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports');
    expect(refused.map((m) => m.message)).to.deep.equal([
      "'../adapters/sqlite/database.js' import is restricted from being used by a pattern. projections may import only domain (docs/architecture.md): not adapters",
    ]);
  });
});

// @ts-check
/**
 * The layers of Tidings and which way imports may point (docs/architecture.md). Each top-level
 * folder may import only the layers listed under it; ESLint's `no-restricted-imports` refuses the
 * rest. `test/eslintLayers.test.ts` proves that a wrong-way import fails the lint.
 *
 *   domain  ←  projections, channels  ←  application  ←  adapters  ←  composition  ←  server.ts
 *   ←  bin, bench
 *
 * `composition/` holds the builders `server.ts` starts Tidings with (data folder, read models,
 * processors, HTTP), each wiring adapters to the layers below.
 * `devtools/` holds stand-ins for outside servers (a bark-server) and the API fuzzer, which tests,
 * the demo and the benchmarks share; it depends on nothing of ours. `test/` may import everything.
 */

/** Every layer, with the folders (or files) it covers and the layers it may import. */
export const layers = {
  domain: { files: ['domain/**/*.ts'], may: [] },
  projections: { files: ['projections/**/*.ts'], may: ['domain'] },
  channels: { files: ['channels/**/*.ts'], may: ['domain'] },
  application: { files: ['application/**/*.ts'], may: ['domain', 'projections', 'channels'] },
  adapters: {
    files: ['adapters/**/*.ts'],
    may: ['domain', 'projections', 'channels', 'application'],
  },
  composition: {
    files: ['composition/**/*.ts'],
    may: ['domain', 'projections', 'channels', 'application', 'adapters'],
  },
  server: {
    files: ['server.ts'],
    may: ['domain', 'projections', 'channels', 'application', 'adapters', 'composition'],
  },
  bin: {
    files: ['bin/**/*.ts'],
    may: [
      'domain',
      'projections',
      'channels',
      'application',
      'adapters',
      'composition',
      'server',
      'devtools',
    ],
  },
  bench: {
    files: ['bench/**/*.ts'],
    may: [
      'domain',
      'projections',
      'channels',
      'application',
      'adapters',
      'composition',
      'server',
      'devtools',
    ],
  },
  devtools: { files: ['devtools/**/*.ts'], may: [] },
};

/** How an import specifier names each layer (relative specifiers always spell the folder). */
const specifiersOf = {
  domain: ['**/domain/**'],
  projections: ['**/projections/**'],
  channels: ['**/channels/**'],
  application: ['**/application/**'],
  adapters: ['**/adapters/**'],
  composition: ['**/composition/**'],
  server: ['**/server.js', '**/server.ts', '**/server'],
  bin: ['**/bin/**'],
  bench: ['**/bench/**'],
  devtools: ['**/devtools/**'],
  test: ['**/test/**'],
};

/** Drivers and servers that only adapters (and the composition root) may touch. */
const ioLibraries = [
  'express',
  'better-sqlite3',
  '@eventstore/db-client',
  'prom-client',
  'pg',
  'nodemailer',
];

/** Libraries each inner layer must not import, beyond the other layers' folders. */
const forbiddenLibraries = {
  domain: [...ioLibraries, 'axios', 'node-cron'],
  projections: [...ioLibraries, 'axios', 'node-cron'],
  channels: [...ioLibraries, 'axios', 'node-cron'],
  application: [...ioLibraries, 'axios'],
};

/**
 * Node's I/O modules, which no inner layer uses: the domain and the read models do no I/O, a
 * channel sends only through the HTTP port it is handed, and the application reaches the outside
 * through ports.
 */
const nodeIo = [
  'node:fs*',
  'node:net',
  'node:tls',
  'node:dgram',
  'node:dns*',
  'node:http*',
  'node:child_process',
  'fs',
  'net',
  'tls',
  'dgram',
  'dns',
  'http',
  'https',
];

/** The layers that never touch Node's I/O modules themselves. */
const innerLayers = new Set(['domain', 'projections', 'channels', 'application']);

/**
 * The flat-config entries that enforce the layers: one per layer, forbidding every layer it may
 * not import, with a message naming the rule.
 * @returns {import('eslint').Linter.Config[]}
 */
export const layerRules = () =>
  Object.entries(layers).map(([name, layer]) => {
    const own = /** @type {keyof typeof specifiersOf} */ (name);
    const allowed = new Set([own, ...layer.may]);
    const outer = /** @type {(keyof typeof specifiersOf)[]} */ (Object.keys(specifiersOf)).filter(
      (other) => !allowed.has(other),
    );
    /** @type {{ group: string[]; message: string }[]} */
    const patterns = outer.map((other) => ({
      group: specifiersOf[other],
      message: `${name} may import only ${layer.may.length === 0 ? 'itself' : layer.may.join(', ')} (docs/architecture.md): not ${other}`,
    }));
    if (innerLayers.has(name)) {
      patterns.push({
        group: nodeIo,
        message: `${name} does no I/O of its own; it goes through ports (docs/architecture.md)`,
      });
    }
    const libraries =
      forbiddenLibraries[/** @type {keyof typeof forbiddenLibraries} */ (name)] ?? [];
    const paths = libraries.map((library) => ({
      name: library,
      message: `${name} reaches I/O through ports, never ${library} (docs/architecture.md)`,
    }));
    return {
      name: `tidings/layer/${name}`,
      files: layer.files,
      rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
    };
  });

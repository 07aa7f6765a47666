import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A temporary folder outside the repository that holds channel plugin modules for a test. */
export interface PluginFolder {
  readonly dir: string;
  /** Writes `source` at `path` (relative to the folder) and answers its absolute path. */
  write(path: string, source: string): string;
  dispose(): void;
}

export const pluginFolder = (): PluginFolder => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-plugins-'));
  return {
    dir,
    write: (path, source) => {
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, source);
      return file;
    },
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * The source of a plain-JavaScript plugin of `kind` whose `send` runs `sendBody` (with `rendered`
 * and `context` in scope); by default it answers delivered.
 */
export const pluginSource = (
  kind: string,
  sendBody = "return { kind: 'delivered' };",
  renderBody = 'return { body: message.body, token: settings.token };',
): string => `export default {
  kind: ${JSON.stringify(kind)},
  name: 'Plugin ${kind}',
  settings: [{ name: 'token', description: 'access token', type: 'string', secret: true, required: true }],
  render(message, settings) { ${renderBody} },
  async send(rendered, context) { ${sendBody} },
};
`;

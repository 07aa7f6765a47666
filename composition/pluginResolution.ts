import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';

/**
 * Where a `TIDINGS_CHANNEL_PLUGINS` entry points, as Node would resolve it from the working
 * directory: an absolute path as it is, a path starting with `./` or `../` from the working
 * directory, anything else as a package name (with an optional subpath) from the working
 * directory's `node_modules` and those of its parents. Answers the file, or why there is none.
 */
export const resolvePluginModule = (spec: string, cwd: string): E.Either<string, string> => {
  if (isAbsolute(spec) || /^\.\.?([/\\]|$)/.test(spec)) {
    const file = resolve(cwd, spec);
    return existsSync(file) ? E.right(file) : E.left(`no file at ${file}`);
  }
  try {
    return E.right(createRequire(join(cwd, 'noop.js')).resolve(spec));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // An ESM-only package often exports under the `import` condition alone, which require's
    // resolution does not look at; resolve its `exports` the way `import` does.
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const found = resolveImportExport(spec, cwd);
      if (found !== undefined) return E.right(found);
    }
    const hint = existsSync(resolve(cwd, spec)) ? ` (for the file, write ./${spec})` : '';
    return E.left(`no package ${spec} is installed where ${cwd} can see it${hint}`);
  }
};

/** The package's name and the subpath asked for (`.` or `./rest`). */
const splitSpecifier = (spec: string): { name: string; subpath: string } => {
  const parts = spec.split('/');
  const size = spec.startsWith('@') ? 2 : 1;
  const rest = parts.slice(size).join('/');
  return { name: parts.slice(0, size).join('/'), subpath: rest === '' ? '.' : `./${rest}` };
};

const IMPORT_CONDITIONS = new Set(['import', 'node', 'default']);

/** The target of an `exports` value under the conditions of `import()`, in key order. */
const targetOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = targetOf(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, nested] of Object.entries(value)) {
    if (IMPORT_CONDITIONS.has(condition)) return targetOf(nested);
  }
  return undefined;
};

/** The file a package's `exports` gives `import()` for a subpath, looking upward from `cwd`. */
const resolveImportExport = (spec: string, cwd: string): string | undefined => {
  const { name, subpath } = splitSpecifier(spec);
  for (let dir = cwd; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name);
    if (existsSync(join(root, 'package.json'))) {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        exports?: unknown;
      };
      const exports = manifest.exports;
      const bySubpath =
        typeof exports === 'object' &&
        exports !== null &&
        !Array.isArray(exports) &&
        Object.keys(exports).some((key) => key.startsWith('.'));
      const entry = bySubpath
        ? (exports as Record<string, unknown>)[subpath]
        : subpath === '.'
          ? exports
          : undefined;
      const target = targetOf(entry);
      return target === undefined ? undefined : join(root, target);
    }
    if (dirname(dir) === dir) return undefined;
  }
};

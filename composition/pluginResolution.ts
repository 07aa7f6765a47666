import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';

/**
 * Where a `TIDINGS_CHANNEL_PLUGINS` entry points, as `import()` would resolve it from the working
 * directory: an absolute path as it is, a path starting with `./` or `../` from the working
 * directory, anything else as a package name (with an optional subpath) from the working
 * directory's `node_modules` and those of its parents. A package with `exports` is resolved under
 * the conditions of `import()` (`node`, `import`, `default`, in the map's key order), so a dual
 * package gives its ESM entry and not its CommonJS build; one without `exports` by its `main`.
 * Answers the file, or why there is none.
 */
export const resolvePluginModule = (spec: string, cwd: string): E.Either<string, string> => {
  if (isAbsolute(spec) || /^\.\.?([/\\]|$)/.test(spec)) {
    const file = resolve(cwd, spec);
    return existsSync(file) ? E.right(file) : E.left(`no file at ${file}`);
  }
  const { name, subpath } = splitSpecifier(spec);
  const root = packageRootOf(name, cwd);
  const manifest = root === undefined ? undefined : readManifest(root);
  if (root !== undefined && manifest !== undefined && manifest.exports != null) {
    const target = exportTarget(manifest.exports, subpath);
    if (target === undefined) {
      return E.left(
        `the package ${name} exports no ${subpath} for import (its package.json "exports" has no such entry under the import, node or default condition)`,
      );
    }
    const file = join(root, target);
    return existsSync(file)
      ? E.right(file)
      : E.left(
          `the package ${name} exports ${subpath} as ${target}, but there is no file at ${file}`,
        );
  }
  // No `exports`: `main` (or index.js) and subpath files, which require's resolution finds as
  // import's legacy resolution does.
  try {
    return E.right(createRequire(join(cwd, 'noop.js')).resolve(spec));
  } catch {
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

/** The folder of package `name` in the first `node_modules` upward from `cwd` that holds it. */
const packageRootOf = (name: string, cwd: string): string | undefined => {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name);
    if (existsSync(join(root, 'package.json'))) return root;
    if (dirname(dir) === dir) return undefined;
  }
};

const readManifest = (root: string): { readonly exports?: unknown } | undefined => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/** The conditions `import()` matches in Node (`default` always matches). */
const IMPORT_CONDITIONS = new Set(['import', 'node', 'default']);

/**
 * The target of an `exports` value under the conditions of `import()`: the first matching
 * condition in key order wins, and a nested object is followed (a failing branch falls through to
 * the next condition, as in Node); null excludes; a target must be a `./` path.
 */
const targetOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value.startsWith('./') ? value : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = targetOf(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, nested] of Object.entries(value)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const target = targetOf(nested);
    if (target !== undefined) return target;
  }
  return undefined;
};

/**
 * The file (relative to the package) a package's `exports` gives `import()` for `subpath`: the
 * exact subpath key, else the `*` pattern key with the longest prefix that matches, its `*`
 * replaced in the target. Sugar (`exports` a string, or conditions at the top) stands for `.`.
 */
const exportTarget = (exports: unknown, subpath: string): string | undefined => {
  const bySubpath =
    typeof exports === 'object' &&
    exports !== null &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((key) => key.startsWith('.'));
  if (!bySubpath) return subpath === '.' ? targetOf(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, subpath) && !subpath.includes('*')) return targetOf(map[subpath]);
  const matches = Object.keys(map)
    .filter((key) => key.split('*').length === 2)
    .map((key) => {
      const [prefix = '', suffix = ''] = key.split('*');
      return { key, prefix, suffix };
    })
    .filter(
      ({ prefix, suffix }) =>
        subpath.length >= prefix.length + suffix.length &&
        subpath.startsWith(prefix) &&
        subpath.endsWith(suffix) &&
        subpath !== prefix,
    )
    .sort((a, b) => b.prefix.length - a.prefix.length || b.key.length - a.key.length);
  const best = matches[0];
  if (best === undefined) return undefined;
  const star = subpath.slice(best.prefix.length, subpath.length - best.suffix.length);
  return targetOf(map[best.key])?.replaceAll('*', star);
};

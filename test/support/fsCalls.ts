import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

/** The functions of node:fs that {@link interceptFsCalls} can watch. */
export type FsFunctionName =
  'chmodSync' | 'copyFileSync' | 'mkdirSync' | 'renameSync' | 'rmSync' | 'writeFileSync';

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Fault injection into node:fs: from now until the returned function is called, `before` runs
 * ahead of every call of the named functions, in every module, with the function's name and its
 * arguments (it may throw, change the folder, or end the process). ES modules' named imports of
 * node:fs follow the change through `syncBuiltinESMExports`.
 */
export const interceptFsCalls = (
  names: readonly FsFunctionName[],
  before: (name: FsFunctionName, args: readonly unknown[]) => void,
): (() => void) => {
  const functions = fs as unknown as Record<FsFunctionName, AnyFunction>;
  const originals = new Map<FsFunctionName, AnyFunction>();
  for (const name of names) {
    const original = functions[name];
    originals.set(name, original);
    functions[name] = (...args: unknown[]) => {
      before(name, args);
      return original.apply(fs, args);
    };
  }
  syncBuiltinESMExports();
  return () => {
    for (const [name, original] of originals) functions[name] = original;
    syncBuiltinESMExports();
  };
};

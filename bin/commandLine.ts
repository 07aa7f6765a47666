import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings, type Settings } from '../adapters/config/settings.js';

/**
 * What the operator commands of bin/ share: their arguments (node:util's parseArgs), the
 * server's settings from the same environment, and one line on stderr with exit code 2 for a
 * request they refuse. Paths on the command line are the caller's (see {@link callerPath}).
 */

/** Writes `<command>: <message>` to stderr and ends the process with `code` (2: refused). */
export const fail = (command: string, message: string, code = 2): never => {
  process.stderr.write(`${command}: ${message}\n`);
  process.exit(code);
};

/** The arguments, or the usage line on stderr and exit code 2. */
export const parseCommandLine = (
  command: string,
  usage: string,
  options: NonNullable<ParseArgsConfig['options']>,
): {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
} => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return fail(
      command,
      `${error instanceof Error ? error.message : String(error)}\nusage: ${usage}`,
    );
  }
};

/**
 * A path from the command line, made absolute against the folder the operator typed the command
 * in: `npm run` runs a script in the package's folder and names the caller's in `INIT_CWD`.
 * (Settings from the environment, `TIDINGS_DATA_DIR` among them, stay relative to the package's
 * folder, as they are for `npm start`.)
 */
export const callerPath = (path: string): string => {
  const caller = process.env['INIT_CWD'];
  return resolve(caller === undefined || caller === '' ? process.cwd() : caller, path);
};

/**
 * The server's settings from the environment, the data folder from `--data-dir` if given (the
 * caller's path); an empty `--data-dir` is refused, not taken for the default folder.
 */
export const commandSettings = (command: string, dataDir: string | undefined): Settings => {
  if (dataDir === '') fail(command, '--data-dir names no folder');
  return E.getOrElse<string, Settings>((message) => fail(command, message))(
    loadSettings(
      dataDir === undefined
        ? process.env
        : { ...process.env, TIDINGS_DATA_DIR: callerPath(dataDir) },
    ),
  );
};

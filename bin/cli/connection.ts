import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../../adapters/config/settings.js';
import { callerPath } from '../commandLine.js';
import { text, type Values } from './command.js';
import { usageFailure, type Failure } from './failure.js';

/**
 * Which server `tidings` talks to and with which credentials (docs/cli.md "Settings"): the URL
 * from `--url` or `TIDINGS_URL` (by default this machine, on the server's default port), and the
 * operator's and auditor's tokens from their environment variables or, as the server generates
 * them, from its data folder (`--data-dir`, `TIDINGS_DATA_DIR`, or the server's default).
 */

export interface Connection {
  /** The server's base URL, without a trailing slash: a server behind a path prefix works. */
  readonly server: string;
  /** The server's data folder, absolute: where generated tokens are read from. */
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Who a request speaks for, and so which token it carries. */
export type Role = 'operator' | 'auditor';

/** A token, and where it was found (said with a 401, so the operator knows what to fix). */
export interface Credential {
  readonly token: string;
  readonly source: string;
}

const tokenPlaces: Readonly<Record<Role, { readonly variable: string; readonly file: string }>> = {
  operator: { variable: 'TIDINGS_ADMIN_TOKEN', file: 'admin-token' },
  auditor: { variable: 'TIDINGS_AUDIT_TOKEN', file: 'audit-token' },
};

/** The server's own defaults, as the help shows them: its URL on this machine, its data folder. */
export const serverDefaults = (): { readonly url: string; readonly dataDir: string } => {
  const settings = loadSettings({});
  // Every setting has a default or is optional: an empty environment failing is a bug.
  if (E.isLeft(settings)) throw new Error(`the default settings fail: ${settings.left}`);
  return { url: `http://127.0.0.1:${settings.right.port}`, dataDir: settings.right.dataDir };
};

/**
 * The server's URL and data folder from the global flags and the environment; a usage failure
 * for a URL that is not http(s) or an empty folder name. The defaults are the server's own
 * (adapters/config/settings.ts), read from an environment holding only `TIDINGS_DATA_DIR`, so a
 * server setting the CLI does not use can never stop it.
 */
export const connectionOf = (
  values: Values,
  env: NodeJS.ProcessEnv,
  usage: string,
): E.Either<Failure, Connection> => {
  const defaults = loadSettings(
    env['TIDINGS_DATA_DIR'] === undefined ? {} : { TIDINGS_DATA_DIR: env['TIDINGS_DATA_DIR'] },
  );
  if (E.isLeft(defaults)) return E.left(usageFailure(defaults.left, usage));
  const dataDirFlag = text(values, 'data-dir');
  if (dataDirFlag === '') return E.left(usageFailure('--data-dir names no folder', usage));

  const given = text(values, 'url') ?? env['TIDINGS_URL'];
  const raw =
    given === undefined || given === '' ? `http://127.0.0.1:${defaults.right.port}` : given;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return E.left(usageFailure(`the server URL "${raw}" is not a URL`, usage));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return E.left(usageFailure(`the server URL "${raw}" is not http or https`, usage));
  }
  return E.right({
    server: `${url.origin}${url.pathname.replace(/\/+$/, '')}`,
    dataDir: dataDirFlag === undefined ? resolve(defaults.right.dataDir) : callerPath(dataDirFlag),
    env,
  });
};

/** The token for `role`: its environment variable, else its file in the data folder. */
export const credentialOf = (connection: Connection, role: Role): E.Either<Failure, Credential> => {
  const { variable, file: name } = tokenPlaces[role];
  const fromEnv = connection.env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return E.right({ token: fromEnv.trim(), source: `the token came from ${variable}` });
  }
  const file = join(connection.dataDir, name);
  const missing = (reason: string): E.Either<Failure, Credential> =>
    E.left({ kind: 'no_token', who: role, variable, file, reason });
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return missing(
      code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return token === ''
    ? missing('is empty')
    : E.right({ token, source: `the token came from ${file}` });
};

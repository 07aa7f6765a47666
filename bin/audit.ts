/**
 * Verifies the log's hash chain outside the server (README "For auditors"):
 *
 *   npm run audit -- verify --file <export.ndjson> [--key <public-key.pem>] [--head <head.json>]
 *   npm run audit -- verify --url <server> [--token <audit token>] [--key …] [--head …]
 *
 * `--file` checks an export (`GET /v1/audit/export`) offline; `--url` downloads the export from a
 * running server (the token from `--token` or TIDINGS_AUDIT_TOKEN) and checks it here, not on
 * the server. `--key` is the server's public key (`GET /v1/audit/key`) as the auditor kept it.
 * Every signed head must carry a valid signature of the key it names: the one given, or one the
 * log introduced before it (AuditKeyIntroduced, after a key was replaced). Without `--key` the
 * keys come from the log alone (with `--url`, also the key the server gives), which proves less.
 * `--head` is a head the auditor kept (`GET /v1/audit/head`): the log must still hold it.
 * Prints one line; exit code 0 when everything verified, 1 when not, 2 for a refused request.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { callerPath, fail, parseCommandLine } from './commandLine.js';
import type { HeadKeyRing } from '../adapters/security/headSignatures.js';
import { judgeExport, keptHeadOf, keyRingOf, type KeptHead } from './cli/exportVerdict.js';

const COMMAND = 'audit';
const USAGE =
  'npm run audit -- verify (--file <export.ndjson> | --url <server> [--token <token>]) [--key <public-key.pem>] [--head <head.json>]';
const { values, positionals } = parseCommandLine(COMMAND, USAGE, {
  file: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  key: { type: 'string' },
  head: { type: 'string' },
});
if (positionals.length !== 1 || positionals[0] !== 'verify') fail(COMMAND, `usage: ${USAGE}`);
const text = (name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
const file = text('file');
const url = text('url');
if ((file === undefined) === (url === undefined)) {
  fail(COMMAND, `name either --file or --url\nusage: ${USAGE}`);
}

const readText = (path: string, what: string): string => {
  try {
    return readFileSync(callerPath(path), 'utf8');
  } catch (error) {
    return fail(COMMAND, `cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
};

/** GET of an audit route, with the token; refuses a non-2xx answer with its status. */
const get = async (path: string): Promise<Response> => {
  const token = text('token') ?? process.env['TIDINGS_AUDIT_TOKEN'];
  if (token === undefined || token === '') fail(COMMAND, 'give --token or TIDINGS_AUDIT_TOKEN');
  let response: Response;
  try {
    response = await fetch(new URL(path, url), { headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    return fail(COMMAND, `cannot reach ${url ?? ''}: ${(error as Error).message}`);
  }
  if (!response.ok) fail(COMMAND, `${path} answered ${response.status}: ${await response.text()}`);
  return response;
};

const keyPath = text('key');
let publicKey = keyPath === undefined ? undefined : readText(keyPath, 'public key');
let keyFromServer = false;
if (publicKey === undefined && url !== undefined) {
  publicKey = ((await (await get('/v1/audit/key')).json()) as { publicKey: string }).publicKey;
  keyFromServer = true;
}
const keys = E.getOrElse<string, HeadKeyRing>((message) => fail(COMMAND, message))(
  keyRingOf(publicKey),
);

const headPath = text('head');
let kept: KeptHead | undefined;
if (headPath !== undefined) {
  const head = keptHeadOf(readText(headPath, 'head'));
  if (head === undefined) fail(COMMAND, `${headPath} is not a head from GET /v1/audit/head`);
  else kept = { head, path: headPath };
}

const lines = createInterface({
  input:
    file === undefined
      ? Readable.fromWeb((await get('/v1/audit/export')).body ?? new ReadableStream())
      : createReadStream(callerPath(file)).on('error', (error) => {
          fail(COMMAND, `cannot read ${file}: ${error.message}`);
        }),
  crlfDelay: Infinity,
});
const verdict = await judgeExport(lines, {
  keys,
  keySource: publicKey === undefined ? 'none' : keyFromServer ? 'server' : 'kept',
  ...(kept === undefined ? {} : { kept }),
  onProgress: (checked) => {
    process.stderr.write(`${COMMAND}: ${checked.toLocaleString('en-US')} events verified…\n`);
  },
});
process.stdout.write(`${verdict.line}\n`);
if (!verdict.ok) process.exit(1);

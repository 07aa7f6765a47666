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
import { verifyExport } from '../application/audit/exportVerification.js';
import type { SignedHead } from '../domain/shared/hashChain.js';
import { HeadKeyRing } from '../adapters/security/headSignatures.js';
import { callerPath, fail, parseCommandLine } from './commandLine.js';

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
// Heads are checked with the key they name: the one given (or the server's), or one the log
// introduced (AuditKeyIntroduced) before the head, learnt as the export is read.
const keys = new HeadKeyRing();
try {
  if (publicKey !== undefined) keys.add(publicKey);
} catch (error) {
  fail(COMMAND, `the public key is not usable: ${(error as Error).message}`);
}

const headPath = text('head');
let keptHead: SignedHead | undefined;
if (headPath !== undefined) {
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(readText(headPath, 'head')) as Record<string, unknown>;
  } catch {
    head = {};
  }
  const signed = {
    position: Number(head['position']),
    hash: String(head['hash']),
    signedAt: String(head['signedAt']),
    signature: String(head['signature']),
    keyId: String(head['keyId']),
  };
  if (!Number.isInteger(signed.position) || !/^[0-9a-f]{64}$/.test(signed.hash)) {
    fail(COMMAND, `${headPath} is not a head from GET /v1/audit/head`);
  }
  keptHead = { ...signed };
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
const report = await verifyExport(lines, {
  signatureValid: keys.check,
  keyIntroduced: keys.learn,
  ...(keptHead === undefined ? {} : { keptHead }),
  onProgress: (checked) => {
    process.stderr.write(`${COMMAND}: ${checked.toLocaleString('en-US')} events verified…\n`);
  },
});
const keyNote =
  publicKey === undefined
    ? '; signatures checked with the keys the export introduces (pass --key to check against one you kept)'
    : keyFromServer
      ? '; signatures checked with the key the server gave (pass --key to check against one you kept)'
      : '';
if (!report.ok) {
  process.stdout.write(
    `FAILED at position ${String(report.firstBadPosition ?? '?')}: ${report.reason ?? String(report.fault)} (${report.checked} events verified before it)\n`,
  );
  process.exit(1);
}
if (keptHead !== undefined && !keys.check(keptHead)) {
  process.stdout.write(
    `FAILED: the kept head ${headPath ?? ''} has no valid signature of ${publicKey === undefined ? 'a key the export introduces' : 'the key'}\n`,
  );
  process.exit(1);
}
if (keptHead !== undefined && report.keptHeadMatches !== true) {
  process.stdout.write(
    `FAILED: the log does not hold the kept head (position ${keptHead.position}) with its hash\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `ok: ${report.checked} events verified from position ${report.firstPosition} to ${report.head.position}, head ${report.head.hash.toString('hex')}, ${report.headsChecked} signed heads checked${keptHead === undefined ? '' : ', the kept head is unchanged'}${keyNote}\n`,
);

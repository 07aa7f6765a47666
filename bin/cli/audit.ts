import {
  createReadStream,
  createWriteStream,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { callerPath } from '../commandLine.js';
import { printed, text, type CommandGroup, type Invocation, type Output } from './command.js';
import {
  judgeExport,
  keptHeadOf,
  keyRingOf,
  type KeptHead,
  type KeySource,
} from './exportVerdict.js';
import { failed, usageFailure, type Failure } from './failure.js';
import { answerWith, decodeAnswer, requestJson, requestStream } from './http.js';
import { fields, jsonText } from './output.js';

/**
 * `tidings audit …`: the hash-chained log as an auditor checks it (README "For auditors",
 * docs/audit.md): the signed head, the export, and its verification here rather than on the
 * server, with the same verdict as `npm run audit -- verify`.
 */

const SignedHead = t.type(
  { position: t.string, hash: t.string, signedAt: t.string, signature: t.string, keyId: t.string },
  'SignedHead',
);
const PublicKey = t.type({ keyId: t.string, publicKey: t.string }, 'PublicKey');

/** How often progress is told while an export is written or verified. */
const PROGRESS_EVERY_MS = 1_000;

const head = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    requestJson(invocation.connection, 'auditor', 'GET', '/v1/audit/head'),
    TE.flatMapEither(
      answerWith(invocation, SignedHead, 'signed head', (signed) =>
        fields([
          ['position', signed.position],
          ['hash', signed.hash],
          ['signedAt', signed.signedAt],
          ['keyId', signed.keyId],
          ['signature', signed.signature],
        ]),
      ),
    ),
  );

/** Passes the export through, counting its lines (one event each). */
const lineCounter = (onCount: (lines: number) => void): Transform => {
  let lines = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (const byte of chunk) if (byte === 0x0a) lines += 1;
      onCount(lines);
      done(null, chunk);
    },
  });
};

const reasonOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * The export into a file: written as `<file>.partial` and renamed when whole, so a download that
 * stops midway never leaves a file that looks complete; mode 0600, as it holds the log.
 */
const exportToFile = (
  invocation: Invocation,
  body: Readable,
  path: string,
): TE.TaskEither<Failure, Output> => {
  const { err } = invocation.terminal;
  const partial = `${path}.partial`;
  let written = 0;
  let toldAt = Date.now();
  const counter = lineCounter((lines) => {
    written = lines;
    if (Date.now() - toldAt < PROGRESS_EVERY_MS) return;
    toldAt = Date.now();
    err.write(`tidings: ${written.toLocaleString('en-US')} events written to ${path}…\n`);
  });
  return TE.tryCatch(
    async () => {
      try {
        await pipeline(body, counter, createWriteStream(partial, { mode: 0o600 }));
        renameSync(partial, path);
      } catch (error) {
        rmSync(partial, { force: true });
        throw error;
      }
      err.write(`tidings: wrote ${written.toLocaleString('en-US')} events to ${path}\n`);
      return printed('');
    },
    (error) => failed(`the export to ${path} stopped: ${reasonOf(error)}`),
  );
};

/** The export on stdout, as the server sends it; a reader that stops early (`| head`) is fine. */
const exportToTerminal = (invocation: Invocation, body: Readable): TE.TaskEither<Failure, Output> =>
  TE.tryCatch(
    async () => {
      try {
        await pipeline(body, invocation.terminal.out, { end: false });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      }
      return printed('');
    },
    (error) => failed(`the export stopped: ${reasonOf(error)}`),
  );

const exportLog = (invocation: Invocation): TE.TaskEither<Failure, Output> => {
  const out = text(invocation.values, 'out');
  return pipe(
    TE.fromEither(
      out === '' ? E.left(usageFailure('--out names no file', invocation.usage)) : E.right(out),
    ),
    TE.flatMap(() => requestStream(invocation.connection, 'auditor', '/v1/audit/export')),
    TE.flatMap((body) =>
      out === undefined
        ? exportToTerminal(invocation, body)
        : exportToFile(invocation, body, callerPath(out)),
    ),
  );
};

/** A file the command line names, or a usage failure saying why it cannot be read. */
const readNamed = (invocation: Invocation, path: string, what: string): E.Either<Failure, string> =>
  E.tryCatch(
    () => readFileSync(callerPath(path), 'utf8'),
    (error) =>
      usageFailure(`cannot read the ${what} ${path}: ${reasonOf(error)}`, invocation.usage),
  );

/** The public key to check heads with: the one given, else the server's when the export is too. */
const verificationKey = (
  invocation: Invocation,
): TE.TaskEither<Failure, { readonly pem?: string; readonly source: KeySource }> => {
  const keyPath = text(invocation.values, 'key');
  if (keyPath !== undefined) {
    return pipe(
      TE.fromEither(readNamed(invocation, keyPath, 'public key')),
      TE.map((pem) => ({ pem, source: 'kept' as const })),
    );
  }
  if (text(invocation.values, 'file') !== undefined) return TE.right({ source: 'none' });
  return pipe(
    requestJson(invocation.connection, 'auditor', 'GET', '/v1/audit/key'),
    TE.flatMapEither(decodeAnswer(PublicKey, 'public key')),
    TE.map(({ publicKey }) => ({ pem: publicKey, source: 'server' as const })),
  );
};

/**
 * The file an export is read from, opened now, so that one that is missing or unreadable is a
 * usage failure rather than a failed check.
 */
const openExportFile = (invocation: Invocation, path: string): E.Either<Failure, Readable> =>
  E.tryCatch(
    () => {
      const absolute = callerPath(path);
      return createReadStream(absolute, { fd: openSync(absolute, 'r') });
    },
    (error) => usageFailure(`cannot read the export ${path}: ${reasonOf(error)}`, invocation.usage),
  );

/** The export's lines: from the file given (offline), else downloaded from the server. */
const exportLines = (invocation: Invocation): TE.TaskEither<Failure, AsyncIterable<string>> => {
  const file = text(invocation.values, 'file');
  return pipe(
    file === undefined
      ? requestStream(invocation.connection, 'auditor', '/v1/audit/export')
      : TE.fromEither(openExportFile(invocation, file)),
    TE.map((input) => createInterface({ input, crlfDelay: Infinity })),
  );
};

/** The head the auditor kept (`--head`), if one was given, or a usage failure if it is none. */
const keptHead = (invocation: Invocation): E.Either<Failure, KeptHead | undefined> => {
  const path = text(invocation.values, 'head');
  if (path === undefined) return E.right(undefined);
  return pipe(
    readNamed(invocation, path, 'head'),
    E.flatMap((content) => {
      const signed = keptHeadOf(content);
      return signed === undefined
        ? E.left(usageFailure(`${path} is not a head from GET /v1/audit/head`, invocation.usage))
        : E.right({ head: signed, path });
    }),
  );
};

const verify = (invocation: Invocation): TE.TaskEither<Failure, Output> =>
  pipe(
    TE.Do,
    TE.apS('kept', TE.fromEither(keptHead(invocation))),
    TE.apS('key', verificationKey(invocation)),
    TE.bind('keys', ({ key }) =>
      TE.fromEither(
        pipe(
          keyRingOf(key.pem),
          E.mapLeft((message) => usageFailure(message, invocation.usage)),
        ),
      ),
    ),
    TE.bind('lines', () => exportLines(invocation)),
    TE.flatMap(({ kept, key, keys, lines }) =>
      TE.tryCatch(
        () =>
          judgeExport(lines, {
            keys,
            keySource: key.source,
            ...(kept === undefined ? {} : { kept }),
            onProgress: (checked) => {
              invocation.terminal.err.write(
                `tidings: ${checked.toLocaleString('en-US')} events verified…\n`,
              );
            },
          }),
        (error) => failed(`the export could not be read to its end: ${reasonOf(error)}`),
      ),
    ),
    TE.map((verdict): Output => ({
      text: invocation.json
        ? jsonText({
            ok: verdict.ok,
            verdict: verdict.line,
            checked: verdict.report.checked,
            firstPosition: verdict.report.firstPosition,
            head: {
              position: verdict.report.head.position,
              hash: verdict.report.head.hash.toString('hex'),
            },
            headsChecked: verdict.report.headsChecked,
            ...(verdict.report.firstBadPosition === undefined
              ? {}
              : { firstBadPosition: verdict.report.firstBadPosition }),
            ...(verdict.report.fault === undefined ? {} : { fault: verdict.report.fault }),
            ...(verdict.report.reason === undefined ? {} : { reason: verdict.report.reason }),
            ...(verdict.report.keptHeadMatches === undefined
              ? {}
              : { keptHeadMatches: verdict.report.keptHeadMatches }),
          })
        : `${verdict.line}\n`,
      exitCode: verdict.ok ? 0 : 1,
    })),
  );

export const audit: CommandGroup = {
  name: 'audit',
  summary: 'check the hash-chained log: signed head, export, verification',
  commands: [
    {
      name: 'head',
      summary: 'the chain head, signed by the server now (keep it elsewhere)',
      synopsis: '',
      options: {},
      args: [],
      run: head,
    },
    {
      name: 'export',
      summary: 'the log as NDJSON, one event a line, to stdout or a file',
      synopsis: '[--out <file>]',
      options: { out: { type: 'string' } },
      args: [],
      run: exportLog,
    },
    {
      name: 'verify',
      summary: 'verify the export here, not on the server: chain, signatures, kept head',
      synopsis: '[--file <export.ndjson>] [--key <public-key.pem>] [--head <head.json>]',
      options: { file: { type: 'string' }, key: { type: 'string' }, head: { type: 'string' } },
      args: [],
      run: verify,
    },
  ],
};

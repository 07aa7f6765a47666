import * as E from 'fp-ts/lib/Either.js';
import { verifyExport, type ExportReport } from '../../application/audit/exportVerification.js';
import type { SignedHead } from '../../domain/shared/hashChain.js';
import { HeadKeyRing } from '../../adapters/security/headSignatures.js';

/**
 * The verdict on an audit export (`GET /v1/audit/export`) that `npm run audit -- verify` and
 * `tidings audit verify` both print: the chain checked line by line, every signed head against
 * the keys it may name, and a head the auditor kept (docs/audit.md). One module, so that the two
 * commands cannot come to disagree about what "verified" means.
 */

/**
 * Where the public key that checks signed heads came from: one the auditor kept (`kept`), the
 * one the server gave just now (`server`, which proves less), or none (the keys the export
 * introduces alone).
 */
export type KeySource = 'kept' | 'server' | 'none';

/** A head the auditor kept elsewhere (`GET /v1/audit/head`), with the file it was read from. */
export interface KeptHead {
  readonly head: SignedHead;
  readonly path: string;
}

/** What a verification found: whether it passed, the one line that says so, and the report. */
export interface ExportVerdict {
  readonly ok: boolean;
  readonly line: string;
  readonly report: ExportReport;
}

/**
 * A ring holding the given public key (SPKI PEM), or why the key is not usable. Heads are then
 * checked with the key they name: this one, or one the log introduced before them
 * (`AuditKeyIntroduced`, after a key was replaced), learnt as the export is read.
 */
export const keyRingOf = (publicKeyPem: string | undefined): E.Either<string, HeadKeyRing> => {
  const keys = new HeadKeyRing();
  try {
    if (publicKeyPem !== undefined) keys.add(publicKeyPem);
    return E.right(keys);
  } catch (error) {
    return E.left(
      `the public key is not usable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};

/** A head as `GET /v1/audit/head` gives it, from the text of a file; undefined if it is not one. */
export const keptHeadOf = (text: string): SignedHead | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const head = parsed as Record<string, unknown>;
  const signed: SignedHead = {
    position: Number(head['position']),
    hash: String(head['hash']),
    signedAt: String(head['signedAt']),
    signature: String(head['signature']),
    keyId: String(head['keyId']),
  };
  return Number.isInteger(signed.position) && /^[0-9a-f]{64}$/.test(signed.hash)
    ? signed
    : undefined;
};

const keyNotes: Readonly<Record<KeySource, string>> = {
  kept: '',
  server:
    '; signatures checked with the key the server gave (pass --key to check against one you kept)',
  none: '; signatures checked with the keys the export introduces (pass --key to check against one you kept)',
};

/** Reads the export's lines to their end (or first fault) and judges them. */
export const judgeExport = async (
  lines: AsyncIterable<string>,
  options: {
    readonly keys: HeadKeyRing;
    readonly keySource: KeySource;
    readonly kept?: KeptHead;
    /** Told how many events were checked, every 100,000. */
    readonly onProgress?: (checked: number) => void;
  },
): Promise<ExportVerdict> => {
  const { keys, kept } = options;
  const report = await verifyExport(lines, {
    signatureValid: keys.check,
    keyIntroduced: keys.learn,
    ...(kept === undefined ? {} : { keptHead: kept.head }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const failed = (line: string): ExportVerdict => ({ ok: false, line: `FAILED${line}`, report });
  if (!report.ok) {
    return failed(
      ` at position ${String(report.firstBadPosition ?? '?')}: ${report.reason ?? String(report.fault)} (${report.checked} events verified before it)`,
    );
  }
  if (kept !== undefined && !keys.check(kept.head)) {
    return failed(
      `: the kept head ${kept.path} has no valid signature of ${options.keySource === 'none' ? 'a key the export introduces' : 'the key'}`,
    );
  }
  if (kept !== undefined && report.keptHeadMatches !== true) {
    return failed(
      `: the log does not hold the kept head (position ${kept.head.position}) with its hash`,
    );
  }
  return {
    ok: true,
    line: `ok: ${report.checked} events verified from position ${report.firstPosition} to ${report.head.position}, head ${report.head.hash.toString('hex')}, ${report.headsChecked} signed heads checked${kept === undefined ? '' : ', the kept head is unchanged'}${keyNotes[options.keySource]}`,
    report,
  };
};

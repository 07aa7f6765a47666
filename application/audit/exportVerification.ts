import { isErasedForm } from '../../domain/recipient/personalData.js';
import {
  ChainVerifier,
  GENESIS_HASH,
  type ChainLink,
  type ChainReport,
  type IntroducedKey,
  type SignedHead,
} from '../../domain/shared/hashChain.js';

/**
 * Offline verification of an export (`GET /v1/audit/export`, one JSON event a line): the same
 * chain check the server runs, from the lines alone. The first line's `previousHash` is trusted
 * as the start, except that an export from the first event must start at the genesis hash; a head an auditor
 * kept elsewhere, if given, must be in the export with the same hash.
 */

/** One line of an export, as `auditItem` (adapters/http/api/auditRoutes.ts) writes it. */
interface ExportLine {
  readonly position: string;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly dataDigest: string;
  readonly previousHash: string;
  readonly hash: string;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** The line as a chain link, or why it is not one. */
const linkOf = (text: string): (ChainLink & { previousHash: Buffer }) | string => {
  let line: ExportLine;
  try {
    line = JSON.parse(text) as ExportLine;
  } catch {
    return 'is not JSON';
  }
  const fields = [line.position, line.eventId, line.stream, line.type];
  if (fields.some((field) => typeof field !== 'string') || !/^[0-9]{1,15}$/.test(line.position)) {
    return 'lacks the fields of an exported event';
  }
  if (!Number.isInteger(line.revision)) return 'has no revision';
  for (const digest of [line.dataDigest, line.previousHash, line.hash]) {
    if (typeof digest !== 'string' || !HEX_DIGEST.test(digest)) return 'has a malformed hash';
  }
  return {
    position: Number(line.position),
    eventId: line.eventId,
    stream: line.stream,
    revision: line.revision,
    type: line.type,
    // The server stores JSON.stringify's text of each, and parsing then stringifying that text
    // gives it back unchanged.
    data: JSON.stringify(line.data),
    metadata: JSON.stringify(line.metadata),
    dataDigest: Buffer.from(line.dataDigest, 'hex'),
    hash: Buffer.from(line.hash, 'hex'),
    previousHash: Buffer.from(line.previousHash, 'hex'),
  };
};

export interface ExportReport extends Omit<ChainReport, 'fault'> {
  /** As the chain's, or `malformed_line` for a line that is no exported event. */
  readonly fault?: ChainReport['fault'] | 'malformed_line';
  /** The first position of the export (0 when it is empty). */
  readonly firstPosition: number;
  /** Whether a kept head was given and the export holds it unchanged. */
  readonly keptHeadMatches?: boolean;
}

export interface ExportVerifyOptions {
  /** Checks a signed head's signature with the server's public key. */
  readonly signatureValid?: (head: SignedHead) => boolean;
  /** Told of each key the export introduces (see `VerifyOptions` in hashChain.ts). */
  readonly keyIntroduced?: (key: IntroducedKey) => void;
  /** A head the auditor kept elsewhere: the export must hold its position with its hash. */
  readonly keptHead?: { readonly position: number; readonly hash: string };
  /** Told how many lines were checked, every 100,000. */
  readonly onProgress?: (checked: number) => void;
}

/** Verifies the lines of an export, in order; stops at the first fault. */
export const verifyExport = async (
  lines: AsyncIterable<string> | Iterable<string>,
  options: ExportVerifyOptions = {},
): Promise<ExportReport> => {
  let verifier: ChainVerifier | undefined;
  let firstPosition = 0;
  let keptHeadMatches: boolean | undefined;
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    const link = linkOf(text);
    if (typeof link === 'string') {
      const report = verifier?.report();
      return {
        ok: false,
        checked: report?.checked ?? 0,
        headsChecked: report?.headsChecked ?? 0,
        head: report?.head ?? { position: 0, hash: GENESIS_HASH },
        ...(report === undefined ? {} : { firstBadPosition: report.head.position + 1 }),
        fault: 'malformed_line',
        reason: `line ${lineNumber} ${link}`,
        firstPosition,
      };
    }
    if (verifier === undefined) {
      firstPosition = link.position;
      verifier = new ChainVerifier(
        // An export from the first event must start at the genesis hash.
        {
          position: link.position - 1,
          hash: link.position === 1 ? GENESIS_HASH : link.previousHash,
        },
        {
          erasedForm: isErasedForm,
          ...(options.signatureValid === undefined
            ? {}
            : { signatureValid: options.signatureValid }),
          ...(options.keyIntroduced === undefined ? {} : { keyIntroduced: options.keyIntroduced }),
        },
      );
    }
    if (!verifier.check(link)) break;
    if (options.keptHead?.position === link.position) {
      keptHeadMatches = link.hash?.toString('hex') === options.keptHead.hash;
    }
    const checked = verifier.verified;
    if (checked % 100_000 === 0) options.onProgress?.(checked);
  }
  const report = verifier?.report() ?? {
    ok: true,
    checked: 0,
    headsChecked: 0,
    head: { position: 0, hash: GENESIS_HASH },
  };
  if (options.keptHead !== undefined && keptHeadMatches === undefined && report.ok) {
    keptHeadMatches = false;
  }
  return {
    ...report,
    firstPosition,
    ...(keptHeadMatches === undefined ? {} : { keptHeadMatches }),
  };
};

import { isErasedForm } from '../../domain/recipient/personalData.js';
import {
  ChainVerifier,
  GENESIS_HASH,
  SIGNED_HEAD_EVENT,
  type ChainLink,
  type ChainReport,
  type Digest,
  type VerifyOptions,
} from '../../domain/shared/hashChain.js';
import type { PgPool } from './pool.js';

/** Events read per query by {@link verifyPgChain}. */
const PAGE = 5_000;

const LINK_COLUMNS = `position::float8 AS position, event_id AS "eventId", stream, revision, type, data,
  metadata, data_digest AS "dataDigest", hash`;

/**
 * Recomputes the shared log's hash chain (docs/audit.md) from position `from` to `to`, a page at a
 * time (memory does not grow with the log), trusting the hash of the event before `from`. The
 * same verifier as the embedded store's names the first bad position of an edited, deleted,
 * inserted or reordered event. Signed heads in a page are checked against hashes fetched for them.
 */
export const verifyPgChain = async (
  pool: PgPool,
  range: { readonly from?: number; readonly to?: number } = {},
  options: Omit<VerifyOptions, 'hashAt'> = {},
  onProgress?: (checked: number) => void,
): Promise<ChainReport> => {
  const from = range.from ?? 0;
  const start =
    from <= 1
      ? undefined
      : (
          await pool.query<{ position: number; hash: Buffer }>(
            'SELECT position::float8 AS position, hash FROM tidings_events WHERE position <= $1 ORDER BY position DESC LIMIT 1',
            [from - 1],
          )
        ).rows[0];
  let position = start?.position ?? 0;
  let signedHashes = new Map<number, Digest>();
  const verifier = new ChainVerifier(
    { position, hash: start?.hash ?? GENESIS_HASH },
    { erasedForm: isErasedForm, ...options, hashAt: (at) => signedHashes.get(at) },
  );
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const { rows: page } = await pool.query<ChainLink>(
      `SELECT ${LINK_COLUMNS} FROM tidings_events WHERE position > $1 AND position <= $2
       ORDER BY position LIMIT $3`,
      [position, to, PAGE],
    );
    signedHashes = await hashesSignedIn(pool, page);
    for (const link of page) {
      if (!verifier.check(link)) return verifier.report();
    }
    const last = page.at(-1);
    if (page.length < PAGE || last === undefined) return verifier.report();
    position = last.position;
    onProgress?.(verifier.verified);
  }
};

/** The chain hashes at the positions the page's signed heads name. */
const hashesSignedIn = async (
  pool: PgPool,
  page: readonly ChainLink[],
): Promise<Map<number, Digest>> => {
  const positions: number[] = [];
  for (const link of page) {
    if (link.type !== SIGNED_HEAD_EVENT) continue;
    try {
      const signed = JSON.parse(String(link.data)) as { position?: unknown };
      if (typeof signed.position === 'number') positions.push(signed.position);
    } catch {
      // The verifier reports a head it cannot read.
    }
  }
  if (positions.length === 0) return new Map();
  const { rows } = await pool.query<{ position: number; hash: Buffer }>(
    'SELECT position::float8 AS position, hash FROM tidings_events WHERE position = ANY($1::bigint[])',
    [positions],
  );
  return new Map(rows.map((row) => [row.position, row.hash]));
};

import type { AuditEvent, AuditLog, AuditQuery } from '../../application/audit/auditLog.js';
import {
  GENESIS_HASH,
  type ChainReport,
  type Digest,
  type VerifyOptions,
} from '../../domain/shared/hashChain.js';
import { verifyPgChain } from './pgChain.js';
import type { PgPool } from './pool.js';

const LINK_COLUMNS = `position::float8 AS position, event_id AS "eventId", stream, revision, type, data,
  metadata, data_digest AS "dataDigest", hash`;

/** Events read per query by `scan`. */
const PAGE = 5_000;

interface StoredLink {
  readonly position: number;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly dataDigest: Digest;
  readonly hash: Digest;
}

/**
 * The metadata's `occurredAt`, compared byte by byte as SQLite compares it (ISO 8601 texts order
 * as their times), whatever the database's collation.
 */
const occurredAt = '(metadata::json ->> \'occurredAt\') COLLATE "C"';

/**
 * The shared log for auditors (docs/audit.md): the same reads as the embedded store's
 * (adapters/sqlite/auditLog.ts) over `tidings_events`, with the same filters and paging, and
 * `verify` by {@link verifyPgChain} a page at a time, erased events accepted as on the embedded
 * store (their rewrites: adapters/postgres/pgErasableLog.ts).
 */
export class PgAuditLog implements AuditLog {
  constructor(
    private readonly pool: PgPool,
    private readonly verifyOptions: Omit<VerifyOptions, 'hashAt'> = {},
  ) {}

  async events(query: AuditQuery): Promise<readonly AuditEvent[]> {
    const { where, values } = conditions(query);
    const newestFirst = query.before !== undefined && query.after === undefined;
    const { rows } = await this.pool.query<StoredLink>(
      `SELECT ${LINK_COLUMNS} FROM tidings_events ${where}
       ORDER BY position ${newestFirst ? 'DESC' : ''} LIMIT $${values.length + 1}`,
      [...values, query.limit],
    );
    if (newestFirst) rows.reverse();
    // The hash before each event: the row before it in the page when that is its predecessor in
    // the log, else read for all such events in one query.
    const wanted: number[] = [];
    rows.forEach((row, index) => {
      if (row.position > 1 && rows[index - 1]?.position !== row.position - 1) {
        wanted.push(row.position - 1);
      }
    });
    const hashes = await this.hashesAt(wanted);
    return rows.map((row, index) => {
      const before = rows[index - 1];
      const previousHash =
        row.position <= 1
          ? GENESIS_HASH
          : before !== undefined && before.position === row.position - 1
            ? before.hash
            : (hashes.get(row.position - 1) ?? GENESIS_HASH);
      return { ...row, previousHash };
    });
  }

  async *scan(query: Omit<AuditQuery, 'limit' | 'before'>): AsyncIterable<AuditEvent> {
    let after = query.after;
    for (;;) {
      const page = await this.events({
        ...query,
        ...(after === undefined ? {} : { after }),
        limit: PAGE,
      });
      yield* page;
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) return;
      after = last.position;
    }
  }

  verify(
    range: { readonly from?: number; readonly to?: number },
    onProgress?: (checked: number) => void,
  ): Promise<ChainReport> {
    return verifyPgChain(this.pool, range, this.verifyOptions, onProgress);
  }

  async positionRange(times: {
    readonly since?: string;
    readonly until?: string;
  }): Promise<{ readonly first: number; readonly last: number } | undefined> {
    const { rows } = await this.pool.query<{ first: number | null; last: number | null }>(
      `SELECT
         (SELECT min(position)::float8 FROM tidings_events
           ${times.since === undefined ? '' : `WHERE ${occurredAt} >= $1`}) AS first,
         (SELECT max(position)::float8 FROM tidings_events
           ${times.until === undefined ? '' : `WHERE ${occurredAt} <= $${times.since === undefined ? 1 : 2}`}) AS last`,
      [
        ...(times.since === undefined ? [] : [times.since]),
        ...(times.until === undefined ? [] : [times.until]),
      ],
    );
    const first = rows[0]?.first ?? null;
    const last = rows[0]?.last ?? null;
    if (first === null || last === null) return undefined;
    return first > last ? undefined : { first, last };
  }

  async head(): Promise<{ readonly position: number; readonly hash: Digest } | undefined> {
    // The one row every append locks and moves: position 0 while the log is empty.
    const { rows } = await this.pool.query<{ position: number; hash: Buffer }>(
      'SELECT position::float8 AS position, hash FROM tidings_log_head',
    );
    const row = rows[0];
    return row === undefined || row.position === 0
      ? undefined
      : { position: row.position, hash: row.hash };
  }

  async hashAt(position: number): Promise<Digest | undefined> {
    return (await this.hashesAt([position])).get(position);
  }

  /** The hashes at `positions`, for those that exist. */
  private async hashesAt(positions: readonly number[]): Promise<Map<number, Digest>> {
    if (positions.length === 0) return new Map();
    const { rows } = await this.pool.query<{ position: number; hash: Buffer }>(
      'SELECT position::float8 AS position, hash FROM tidings_events WHERE position = ANY($1::bigint[])',
      [positions],
    );
    return new Map(rows.map((row) => [row.position, row.hash]));
  }
}

/** The WHERE clause of a query and its values, numbered `$1` on. */
const conditions = (
  query: Omit<AuditQuery, 'limit'>,
): { readonly where: string; readonly values: unknown[] } => {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const next = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.after !== undefined) clauses.push(`position > ${next(query.after)}`);
  if (query.before !== undefined) clauses.push(`position < ${next(query.before)}`);
  if (query.types !== undefined && query.types.length > 0) {
    clauses.push(`type = ANY(${next([...query.types])}::text[])`);
  }
  if (query.stream !== undefined) clauses.push(`stream = ${next(query.stream)}`);
  if (query.messageId !== undefined) {
    clauses.push(`(data::json ->> 'messageId') = ${next(query.messageId)}`);
  }
  if (query.since !== undefined) clauses.push(`${occurredAt} >= ${next(query.since)}`);
  if (query.until !== undefined) clauses.push(`${occurredAt} <= ${next(query.until)}`);
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, values };
};

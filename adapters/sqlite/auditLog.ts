import type { AuditEvent, AuditLog, AuditQuery } from '../../application/audit/auditLog.js';
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ChainVerifier,
  GENESIS_HASH,
  type ChainLink,
  type ChainReport,
  type Digest,
  type VerifyOptions,
} from '../../domain/shared/hashChain.js';
import { isErasedForm } from '../../domain/recipient/personalData.js';
import type { SqliteDatabase } from './database.js';
import { verifyInParallel } from './parallelVerify.js';

export const LINK_COLUMNS =
  'position, event_id AS eventId, stream, revision, type, data, metadata, data_digest AS dataDigest, hash';

type StoredLink = ChainLink & {
  readonly data: string;
  readonly metadata: string;
  readonly dataDigest: Digest;
  readonly hash: Digest;
};

/** Events read per statement by `verify` and `scan`; between two, other work runs. */
const PAGE = 5_000;

/** From how many events on `verify` spreads the work over threads, and in stretches of how many. */
const PARALLEL_FROM = 100_000;
const STRETCH = 20_000;

/**
 * How `verify` uses threads (adapters/sqlite/parallelVerify.ts): `threads` (all the machine's
 * cores by default; 1 keeps it on this thread) for a range of at least `from` events, in
 * stretches of `stretch`.
 */
export interface ParallelVerifyOptions {
  readonly threads?: number;
  readonly from?: number;
  readonly stretch?: number;
}

/**
 * The embedded log for auditors: reads with the chain's fields, and `verify` over the `events`
 * table a page at a time (memory does not grow with the log, and the server goes on answering between
 * pages: no statement is left open across them, as better-sqlite3's one connection requires).
 */
export class SqliteAuditLog implements AuditLog {
  private readonly statements;

  private readonly parallel: Required<ParallelVerifyOptions>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly verifyOptions: Omit<VerifyOptions, 'hashAt'> = {},
    parallel: ParallelVerifyOptions = {},
  ) {
    this.parallel = {
      threads: parallel.threads ?? availableParallelism(),
      from: parallel.from ?? PARALLEL_FROM,
      stretch: parallel.stretch ?? STRETCH,
    };
    this.statements = {
      range: db.prepare<[number, number, number], ChainLink>(
        `SELECT ${LINK_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
      ),
      hashAt: db.prepare<[number], { hash: Buffer | null }>(
        'SELECT hash FROM events WHERE position = ?',
      ),
      before: db.prepare<[number], { position: number; hash: Buffer | null }>(
        'SELECT position, hash FROM events WHERE position <= ? ORDER BY position DESC LIMIT 1',
      ),
      head: db.prepare<[], { position: number; hash: Buffer | null }>(
        'SELECT position, hash FROM events ORDER BY position DESC LIMIT 1',
      ),
    };
  }

  events(query: AuditQuery): readonly AuditEvent[] {
    const { where, values } = conditions(query);
    const newestFirst = query.before !== undefined && query.after === undefined;
    const rows = this.db
      .prepare<unknown[], StoredLink>(
        `SELECT ${LINK_COLUMNS} FROM events ${where} ORDER BY position ${newestFirst ? 'DESC' : ''} LIMIT ?`,
      )
      .all(...values, query.limit);
    if (newestFirst) rows.reverse();
    let before: StoredLink | undefined;
    return rows.map((row) => {
      const previousHash =
        before !== undefined && before.position === row.position - 1
          ? before.hash
          : this.previousHashOf(row.position);
      before = row;
      return { ...row, previousHash };
    });
  }

  *scan(query: Omit<AuditQuery, 'limit' | 'before'>): Iterable<AuditEvent> {
    let after = query.after;
    let last: AuditEvent | undefined;
    for (;;) {
      const page = this.events({
        ...query,
        ...(after === undefined ? {} : { after }),
        limit: PAGE,
      });
      for (const event of page) {
        last = event;
        yield event;
      }
      if (page.length < PAGE || last === undefined) return;
      after = last.position;
    }
  }

  async verify(
    range: { readonly from?: number; readonly to?: number },
    onProgress?: (checked: number) => void,
  ): Promise<ChainReport> {
    const from = range.from ?? 0;
    const start = from <= 1 ? undefined : this.statements.before.get(from - 1);
    let position = start?.position ?? 0;
    const verifier = new ChainVerifier(
      { position, hash: start?.hash ?? GENESIS_HASH },
      { erasedForm: isErasedForm, ...this.verifyOptions, hashAt: (at) => this.hashAt(at) },
    );
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    const last = Math.min(to, this.statements.head.get()?.position ?? 0);
    const { threads, from: parallelFrom, stretch } = this.parallel;
    if (threads > 1 && !this.db.memory && last - position >= parallelFrom) {
      await verifyInParallel(
        verifier,
        this.db.name,
        { after: position, to: last },
        {
          threads,
          stretch,
          ...(onProgress === undefined ? {} : { onProgress }),
        },
      );
      return verifier.report();
    }
    for (;;) {
      const page = this.statements.range.all(position, to, PAGE);
      for (const link of page) {
        if (!verifier.check(link)) return verifier.report();
      }
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) return verifier.report();
      position = last.position;
      onProgress?.(verifier.verified);
      await nextTurn();
    }
  }

  positionRange(times: {
    readonly since?: string;
    readonly until?: string;
  }): { readonly first: number; readonly last: number } | undefined {
    const first = this.db
      .prepare<unknown[], { position: number | null }>(
        times.since === undefined
          ? 'SELECT min(position) AS position FROM events'
          : "SELECT min(position) AS position FROM events WHERE json_extract(metadata, '$.occurredAt') >= ?",
      )
      .get(...(times.since === undefined ? [] : [times.since]))?.position;
    const last = this.db
      .prepare<unknown[], { position: number | null }>(
        times.until === undefined
          ? 'SELECT max(position) AS position FROM events'
          : "SELECT max(position) AS position FROM events WHERE json_extract(metadata, '$.occurredAt') <= ?",
      )
      .get(...(times.until === undefined ? [] : [times.until]))?.position;
    if (first === null || first === undefined || last === null || last === undefined) {
      return undefined;
    }
    return first > last ? undefined : { first, last };
  }

  head(): { readonly position: number; readonly hash: Digest } | undefined {
    const row = this.statements.head.get();
    return row === undefined
      ? undefined
      : { position: row.position, hash: row.hash ?? GENESIS_HASH };
  }

  hashAt(position: number): Digest | undefined {
    return this.statements.hashAt.get(position)?.hash ?? undefined;
  }

  private previousHashOf(position: number): Digest {
    return position <= 1 ? GENESIS_HASH : (this.hashAt(position - 1) ?? GENESIS_HASH);
  }
}

/** The WHERE clause of a query and its values, in order. */
const conditions = (
  query: Omit<AuditQuery, 'limit'>,
): { readonly where: string; readonly values: unknown[] } => {
  const clauses: string[] = [];
  const values: unknown[] = [];
  if (query.after !== undefined) {
    clauses.push('position > ?');
    values.push(query.after);
  }
  if (query.before !== undefined) {
    clauses.push('position < ?');
    values.push(query.before);
  }
  if (query.types !== undefined && query.types.length > 0) {
    clauses.push(`type IN (${query.types.map(() => '?').join(', ')})`);
    values.push(...query.types);
  }
  if (query.stream !== undefined) {
    clauses.push('stream = ?');
    values.push(query.stream);
  }
  if (query.messageId !== undefined) {
    clauses.push("json_extract(data, '$.messageId') = ?");
    values.push(query.messageId);
  }
  if (query.since !== undefined) {
    clauses.push("json_extract(metadata, '$.occurredAt') >= ?");
    values.push(query.since);
  }
  if (query.until !== undefined) {
    clauses.push("json_extract(metadata, '$.occurredAt') <= ?");
    values.push(query.until);
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, values };
};

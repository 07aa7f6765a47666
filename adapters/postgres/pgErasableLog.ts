import pg from 'pg';
import type { ErasableLog, StoredData } from '../../application/erasure/erasableLog.js';
import { REWRITE_NOTICE } from './commitNotices.js';
import { inTransaction, type PgPool } from './pool.js';

/** Longest the VACUUM after a rewrite may take by default: it scans what it must of the table. */
const VACUUM_TIMEOUT_MS = 10 * 60_000;

export interface PgErasableLogOptions {
  /**
   * The log's notice channel (adapters/postgres/pgEventStore.ts): each rewrite's transaction sends
   * {@link REWRITE_NOTICE} on it, which every node hears once the new data is what a read gets.
   */
  readonly channel: string;
  /** Told of the positions rewritten, after the commit, so that copies kept in memory follow. */
  readonly rewritten: (positions: readonly number[]) => void;
  /** Longest the VACUUM after a rewrite may take, in ms; default ten minutes. */
  readonly vacuumTimeoutMs?: number;
}

/**
 * Erasure's reads and rewrites of the shared log (docs/audit.md, "Erasure"), the same answers as
 * the embedded store's (adapters/sqlite/dataErasure.ts) over `tidings_events`. A rewrite replaces
 * `data` only, with the JSON text the erasure processor digested: `data_digest` and `hash`, which
 * the chain covers, stay as first written, so `verifyPgChain` accepts the erased form once the
 * record listing it is read.
 *
 * PostgreSQL cannot zero old bytes the way SQLite's `secure_delete` does: an UPDATE leaves the old
 * row version behind as a dead tuple. After each rewrite a `VACUUM` of the table (outside the
 * transaction: it cannot run inside one) prunes the dead tuples no open transaction can still see,
 * so no query, on any node, can read the old data again. What it does not remove (the old bytes in
 * freed page space until it is reused, the write-ahead log's segments, base backups and archives)
 * docs/audit.md names.
 */
export class PgErasableLog implements ErasableLog {
  constructor(
    private readonly pool: PgPool,
    private readonly options: PgErasableLogOptions,
  ) {}

  async erasedRecipients(): Promise<readonly string[]> {
    const { rows } = await this.pool.query<{ recipientId: string }>(
      `SELECT data::json ->> 'recipientId' AS "recipientId" FROM tidings_events
       WHERE type = 'RecipientErased' ORDER BY position`,
    );
    return rows.map(({ recipientId }) => recipientId);
  }

  async recipientOf(stream: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ recipientId: string | null }>(
      `SELECT data::json ->> 'recipientId' AS "recipientId" FROM tidings_events
       WHERE stream = $1 AND type IN ('MessageSubmitted', 'ComplaintFiled')
       ORDER BY revision LIMIT 1`,
      [stream],
    );
    return rows[0]?.recipientId ?? undefined;
  }

  async streamsWith(type: string, field: string, value: string): Promise<readonly string[]> {
    // The recipient of a submission or a complaint is found through its index (migration
    // events-2), whose expression and condition the query must repeat word for word.
    const indexed =
      field === 'recipientId' && (type === 'MessageSubmitted' || type === 'ComplaintFiled');
    const { rows } = await this.pool.query<{ stream: string }>(
      indexed
        ? `SELECT DISTINCT stream FROM tidings_events
           WHERE type IN ('MessageSubmitted', 'ComplaintFiled') AND type = $1
             AND (data::json ->> 'recipientId') = $2`
        : `SELECT DISTINCT stream FROM tidings_events WHERE type = $1 AND (data::json ->> $2) = $3`,
      indexed ? [type, value] : [type, field, value],
    );
    return rows.map(({ stream }) => stream);
  }

  async eventsOf(
    streams: readonly string[],
    types: readonly string[],
  ): Promise<readonly StoredData[]> {
    if (streams.length === 0 || types.length === 0) return [];
    const { rows } = await this.pool.query<{
      position: number;
      stream: string;
      type: string;
      data: string;
    }>(
      `SELECT position::float8 AS position, stream, type, data FROM tidings_events
       WHERE stream = ANY($1::text[]) AND type = ANY($2::text[]) ORDER BY position`,
      [streams, types],
    );
    return rows.map((row) => ({ ...row, data: JSON.parse(row.data) as StoredData['data'] }));
  }

  async rewrite(
    changes: readonly { readonly position: number; readonly data: unknown }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    const positions = changes.map(({ position }) => position);
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `UPDATE tidings_events AS e SET data = c.data
           FROM unnest($1::bigint[], $2::text[]) AS c(position, data)
          WHERE e.position = c.position`,
        [positions, changes.map(({ data }) => JSON.stringify(data))],
      );
      // Delivered at the commit, to every node listening (this one too).
      await client.query('SELECT pg_notify($1, $2)', [this.options.channel, REWRITE_NOTICE]);
    });
    this.options.rewritten(positions);
    await this.vacuum();
  }

  /**
   * Prunes the dead tuples the rewrite left, on a connection of its own (a VACUUM outlives the
   * pool's statement timeout on a large table). PostgreSQL skips a table the user may not vacuum
   * with a warning, not an error, and warns of old transactions holding tuples back: any warning
   * fails the rewrite, as SQLite's busy write-ahead log does, so that the processor logs it
   * rather than report the old bytes gone. (Its retry finds the data erased and rewrites nothing;
   * autovacuum prunes what this VACUUM could not.)
   */
  private async vacuum(): Promise<void> {
    const client = new pg.Client({
      ...this.pool.options,
      query_timeout: this.options.vacuumTimeoutMs ?? VACUUM_TIMEOUT_MS,
    });
    const warnings: string[] = [];
    client.on('notice', (notice) => {
      if (notice.severity === 'WARNING') warnings.push(notice.message ?? '');
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('VACUUM tidings_events');
    } finally {
      await client.end().catch(() => undefined);
    }
    if (warnings.length > 0) {
      throw new Error(
        `the VACUUM of tidings_events after an erasure warned: ${warnings.join('; ')}`,
      );
    }
  }
}

import { chainHash, digestOf, GENESIS_HASH, type Digest } from '../../domain/shared/hashChain.js';
import type { SqliteDatabase } from './database.js';

/** Rows chained per transaction, so a large log is migrated without one huge transaction. */
const BATCH = 10_000;

/** The folder fact naming the last event written before the log had its chain. */
const UNCHAINED_THROUGH = 'unchained_through';

interface UnchainedRow {
  readonly position: number;
  readonly event_id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/**
 * Chains the events written before the log had a hash chain: the rows up to the position the
 * schema migration that added the chain recorded (`unchained_through`), once, at the first start
 * of the code that has it, in log order, a batch per transaction. A start that stopped halfway
 * goes on from the first row still without a hash; the fact is removed with the last batch.
 * Nothing else is ever chained after the fact: a row of the chained log that has no hash, or one
 * whose hash was removed, stays a fault that `verify` names. Returns how many events it chained.
 */
export const chainUnchainedEvents = (db: SqliteDatabase): number => {
  const through = db
    .prepare<[string], { value: string }>('SELECT value FROM folder_facts WHERE name = ?')
    .get(UNCHAINED_THROUGH);
  if (through === undefined) return 0;
  const last = Number(through.value);
  const done = db.prepare<[string]>('DELETE FROM folder_facts WHERE name = ?');
  const firstUnchained = db
    .prepare<[number], { position: number }>(
      'SELECT position FROM events WHERE hash IS NULL AND position <= ? ORDER BY position LIMIT 1',
    )
    .get(last);
  if (firstUnchained === undefined) {
    done.run(UNCHAINED_THROUGH);
    return 0;
  }
  const before = db
    .prepare<[number], { hash: Buffer | null }>(
      'SELECT hash FROM events WHERE position < ? ORDER BY position DESC LIMIT 1',
    )
    .get(firstUnchained.position);
  let previous: Digest = before?.hash ?? GENESIS_HASH;
  const rows = db.prepare<[number, number, number], UnchainedRow>(
    `SELECT position, event_id, stream, revision, type, data, metadata FROM events
     WHERE position >= ? AND position <= ? ORDER BY position LIMIT ?`,
  );
  const update = db.prepare<[Buffer, Buffer, number]>(
    'UPDATE events SET data_digest = ?, hash = ? WHERE position = ? AND hash IS NULL',
  );
  let from = firstUnchained.position;
  let chained = 0;
  for (;;) {
    const finished = db.transaction((): boolean => {
      const batch = rows.all(from, last, BATCH);
      for (const row of batch) {
        const dataDigest = digestOf(row.data);
        previous = chainHash(previous, {
          position: row.position,
          eventId: row.event_id,
          stream: row.stream,
          revision: row.revision,
          type: row.type,
          dataDigest,
          metadata: row.metadata,
        });
        update.run(dataDigest, previous, row.position);
      }
      chained += batch.length;
      from = (batch.at(-1)?.position ?? last) + 1;
      if (batch.length === BATCH && from <= last) return false;
      done.run(UNCHAINED_THROUGH);
      return true;
    })();
    if (finished) return chained;
  }
};

import { chainHash, digestOf, GENESIS_HASH, type Digest } from '../../domain/shared/hashChain.js';
import type { SqliteDatabase } from './database.js';

/** Rows chained per transaction, so a large log is migrated without one huge transaction. */
const BATCH = 10_000;

/**
 * Chains the events written before the log had a hash chain (schema version 7): once, at the
 * first start of the code that has it, in log order from the first unchained event. Returns how
 * many events it chained (0 for a log that was chained already).
 */
export const chainUnchainedEvents = (db: SqliteDatabase): number => {
  const firstUnchained = db
    .prepare<[], { position: number }>(
      'SELECT position FROM events WHERE hash IS NULL ORDER BY position LIMIT 1',
    )
    .get();
  if (firstUnchained === undefined) return 0;
  const before = db
    .prepare<[number], { hash: Buffer | null }>(
      'SELECT hash FROM events WHERE position < ? ORDER BY position DESC LIMIT 1',
    )
    .get(firstUnchained.position);
  let previous: Digest = before?.hash ?? GENESIS_HASH;
  const rows = db.prepare<
    [number, number],
    {
      position: number;
      event_id: string;
      stream: string;
      revision: number;
      type: string;
      data: string;
      metadata: string;
    }
  >(
    'SELECT position, event_id, stream, revision, type, data, metadata FROM events WHERE position >= ? ORDER BY position LIMIT ?',
  );
  const update = db.prepare<[Buffer, Buffer, number]>(
    'UPDATE events SET data_digest = ?, hash = ? WHERE position = ?',
  );
  let from = firstUnchained.position;
  let chained = 0;
  for (;;) {
    const batch = rows.all(from, BATCH);
    if (batch.length === 0) return chained;
    db.transaction(() => {
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
    })();
    chained += batch.length;
    from = (batch.at(-1)?.position ?? from) + 1;
  }
};

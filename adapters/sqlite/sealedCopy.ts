import type { AuditEvent, AuditLog, AuditQuery } from '../../application/audit/auditLog.js';
import type { Processor } from '../../application/processing/processor.js';
import type { Checkpoints } from '../../application/processing/checkpoints.js';
import {
  decodePosition,
  encodePosition,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../../domain/shared/eventStore.js';
import {
  GENESIS_HASH,
  chainHash,
  digestOf,
  type ChainReport,
  type Digest,
  type VerifyOptions,
} from '../../domain/shared/hashChain.js';
import { SqliteAuditLog, type ParallelVerifyOptions } from './auditLog.js';
import type { SqliteDatabase } from './database.js';

/**
 * The hash chain of a log the server does not append to itself: EventStoreDB, where appends to
 * different streams are not serialized by Tidings, so nothing can chain them as they are written
 * (docs/audit.md, "EventStoreDB"). The sealing processor follows `$all` in order after the fact
 * and keeps a sealed copy of every event in the data folder's `events` table (unused on that
 * log): numbered 1, 2, 3… in log order, with the data digest and the chained hash the embedded
 * store writes. The audit routes read the copy; the signed heads the server appends to the log
 * cover it, so a head kept elsewhere proves the copy up to it; and `verify` checks the copy's
 * chain and then that the log still holds exactly the copied events, in the same order, with
 * the same contents, reporting the events written after the last sealed one as the unsealed tail
 * rather than as a fault.
 */

/** Where in the log each sealed event is (its copy number → the log's position). */
const LOG_POSITIONS_TABLE = `CREATE TABLE IF NOT EXISTS sealed_log_positions (
  position     INTEGER PRIMARY KEY,
  log_position TEXT NOT NULL
)`;

/** The name of the sealing processor and its checkpoint. */
export const SEALING = 'sealing';

/** One event's texts as the copy stores and the check compares them. */
const textsOf = (event: RecordedEvent): { data: string; metadata: string } => ({
  data: JSON.stringify(event.data),
  metadata: JSON.stringify(event.metadata),
});

/**
 * The processor that seals the log into the copy: each batch is numbered on from the copy's last
 * event, chained, and written in one transaction with the processor's checkpoint (the log's
 * position of the batch's last event), so a crash repeats a batch whole or not at all.
 */
export const sealingProcessor = (db: SqliteDatabase, checkpoints: Checkpoints): Processor => {
  prepareSealedCopy(db, checkpoints);
  const placeInLog = db.prepare<[number, string]>(
    'INSERT INTO sealed_log_positions (position, log_position) VALUES (?, ?)',
  );
  const last = db.prepare<[], { position: number; hash: Buffer | null }>(
    'SELECT position, hash FROM events ORDER BY position DESC LIMIT 1',
  );
  const insert = db.prepare<
    [number, string, string, number, string, string, string, Buffer, Buffer]
  >(
    `INSERT INTO events (position, event_id, stream, revision, type, data, metadata, data_digest, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const seal = db.transaction((batch: readonly RecordedEvent[]) => {
    const head = last.get();
    let position = head?.position ?? 0;
    let previous: Digest = head?.hash ?? GENESIS_HASH;
    for (const event of batch) {
      const { data, metadata } = textsOf(event);
      const dataDigest = digestOf(data);
      position += 1;
      previous = chainHash(previous, {
        position,
        eventId: event.id,
        stream: event.stream,
        revision: event.revision,
        type: event.type,
        dataDigest,
        metadata,
      });
      placeInLog.run(position, encodePosition(event.position));
      insert.run(
        position,
        event.id,
        event.stream,
        event.revision,
        event.type,
        data,
        metadata,
        dataDigest,
        previous,
      );
    }
    const lastEvent = batch.at(-1);
    if (lastEvent !== undefined) checkpoints.save(SEALING, lastEvent.position);
  });
  return {
    name: SEALING,
    savesCheckpoint: true,
    processBatch: (batch) => {
      seal(batch);
      return Promise.resolve();
    },
  };
};

/**
 * Creates the table of each sealed event's position in the log, and refuses a copy that does not
 * belong to its checkpoint: events in the folder's table without a sealing checkpoint (a folder
 * of the embedded log), or a checkpoint with an empty table.
 */
const prepareSealedCopy = (db: SqliteDatabase, checkpoints: Checkpoints): void => {
  db.exec(LOG_POSITIONS_TABLE);
  const copied = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n ?? 0;
  const checkpoint = checkpoints.load(SEALING);
  if (copied > 0 !== (checkpoint !== undefined)) {
    throw new Error(
      copied > 0
        ? `the data folder holds ${copied} events that the sealing processor did not write (a folder of the embedded log?); use another TIDINGS_DATA_DIR for EventStoreDB`
        : 'the data folder has a sealing checkpoint but no sealed events; remove the folder to seal the log again',
    );
  }
};

/** A {@link ChainReport} of a sealed log: with the events the copy does not hold yet. */
export type SealedReport = ChainReport & { readonly unsealed: number };

/** Events of the log read per page by the check against the log. */
const PAGE = 2_000;

/**
 * The audit log of a sealed copy: reads, heads and the chain from the copy (the embedded
 * store's {@link SqliteAuditLog} over it); `verify` also compares the copy with the log itself.
 */
export class SealedAuditLog implements AuditLog {
  private readonly copy: SqliteAuditLog;
  private readonly statements;

  constructor(
    db: SqliteDatabase,
    private readonly log: Pick<EventStore, 'readAll'>,
    verifyOptions: Omit<VerifyOptions, 'hashAt'> = {},
    parallel: ParallelVerifyOptions = {},
  ) {
    this.copy = new SqliteAuditLog(db, verifyOptions, parallel);
    db.exec(LOG_POSITIONS_TABLE);
    this.statements = {
      logPosition: db.prepare<[number], { log_position: string }>(
        'SELECT log_position FROM sealed_log_positions WHERE position = ?',
      ),
    };
  }

  events(query: AuditQuery): readonly AuditEvent[] {
    return this.copy.events(query);
  }

  scan(query: Omit<AuditQuery, 'limit' | 'before'>): Iterable<AuditEvent> {
    return this.copy.scan(query);
  }

  positionRange(times: { readonly since?: string; readonly until?: string }) {
    return this.copy.positionRange(times);
  }

  head() {
    return this.copy.head();
  }

  hashAt(position: number) {
    return this.copy.hashAt(position);
  }

  /**
   * The copy's chain over the range, then the log against the copy over the same range (from the
   * log's position of the event before `from`): every copied event must still be in the log at
   * its place (its id, stream, revision, type, data and metadata); the first that is not is the
   * bad position (`missing` when the log lacks it or has another event there, `data_changed` when
   * its contents differ). What the log holds after the last sealed event is counted as `unsealed`.
   */
  async verify(
    range: { readonly from?: number; readonly to?: number },
    onProgress?: (checked: number) => void,
  ): Promise<SealedReport> {
    const chain = await this.copy.verify(range, onProgress);
    const unsealed = await this.unsealed();
    if (!chain.ok) return { ...chain, unsealed };
    const fault = await this.againstLog(range.from ?? 1, range.to);
    return fault === undefined
      ? { ...chain, unsealed }
      : {
          ...chain,
          ok: false,
          firstBadPosition: fault.position,
          fault: fault.kind,
          reason: fault.reason,
          unsealed,
        };
  }

  /** The log's events after the last sealed one. */
  private async unsealed(): Promise<number> {
    const head = this.copy.head();
    let after = head === undefined ? undefined : this.logPositionOf(head.position);
    let count = 0;
    for (;;) {
      const page = await this.log.readAll({
        maxCount: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      count += page.length;
      if (page.length < PAGE) return count;
      after = page.at(-1)?.position;
    }
  }

  private logPositionOf(position: number): Position | undefined {
    const row = this.statements.logPosition.get(position);
    return row === undefined ? undefined : decodePosition(row.log_position);
  }

  /** Walks the log and the copy side by side from `from` to `to` (the copy's head). */
  private async againstLog(
    from: number,
    to: number | undefined,
  ): Promise<
    | {
        readonly position: number;
        readonly kind: 'missing' | 'data_changed';
        readonly reason: string;
      }
    | undefined
  > {
    const end = Math.min(to ?? Number.MAX_SAFE_INTEGER, this.copy.head()?.position ?? 0);
    let position = Math.max(0, from - 1);
    let after = position === 0 ? undefined : this.logPositionOf(position);
    if (position > 0 && after === undefined) {
      return {
        position,
        kind: 'missing',
        reason: `the copy does not know where event ${position} is in the log`,
      };
    }
    while (position < end) {
      const page = await this.log.readAll({
        maxCount: Math.min(PAGE, end - position),
        ...(after === undefined ? {} : { after }),
      });
      if (page.length === 0) {
        return {
          position: position + 1,
          kind: 'missing',
          reason: `the log ends after ${position} events, but ${end} were sealed`,
        };
      }
      const copied = this.copy.events({ after: position, limit: page.length });
      for (const [index, event] of page.entries()) {
        position += 1;
        const fault = differenceOf(copied[index], event, position);
        if (fault !== undefined) return fault;
      }
      after = page.at(-1)?.position;
    }
    return undefined;
  }
}

/** How the copy's event at `position` differs from the log's event there, if it does. */
const differenceOf = (
  stored: AuditEvent | undefined,
  event: RecordedEvent,
  position: number,
): { position: number; kind: 'missing' | 'data_changed'; reason: string } | undefined => {
  if (stored?.position !== position) {
    return { position, kind: 'missing', reason: `the copy has no event at ${position}` };
  }
  if (
    stored.eventId !== event.id ||
    stored.stream !== event.stream ||
    stored.revision !== event.revision ||
    stored.type !== event.type
  ) {
    return {
      position,
      kind: 'missing',
      reason: `the log holds ${event.type} ${event.id} (${event.stream}@${event.revision}) where ${stored.type} ${stored.eventId} (${stored.stream}@${stored.revision}) was sealed: an event was deleted, inserted or moved`,
    };
  }
  const { data, metadata } = textsOf(event);
  if (!digestOf(data).equals(stored.dataDigest) || metadata !== stored.metadata) {
    return {
      position,
      kind: 'data_changed',
      reason: `the log's ${event.type} ${event.id} differs from what was sealed`,
    };
  }
  return undefined;
};

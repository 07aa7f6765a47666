import type { AuditEvent, AuditLog, AuditQuery } from '../../application/audit/auditLog.js';
import type { Processor } from '../../application/processing/processor.js';
import type { Checkpoints } from '../../application/processing/checkpoints.js';
import type { EventStore, Position, RecordedEvent } from '../../domain/shared/eventStore.js';
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

  constructor(
    db: SqliteDatabase,
    private readonly log: Pick<EventStore, 'readAll'>,
    verifyOptions: Omit<VerifyOptions, 'hashAt'> = {},
    parallel: ParallelVerifyOptions = {},
  ) {
    this.copy = new SqliteAuditLog(db, verifyOptions, parallel);
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
   * The copy's chain over the range, then the log against the copy from its first event: every
   * copied event must still be in the log at its place (its id, stream, revision, type, data and
   * metadata); the first that is not is the bad position (`missing` when the log lacks it or has
   * another event there, `data_changed` when its contents differ). What the log holds after the
   * copy's last event is counted as `unsealed`.
   */
  async verify(
    range: { readonly from?: number; readonly to?: number },
    onProgress?: (checked: number) => void,
  ): Promise<SealedReport> {
    const chain = await this.copy.verify(range, onProgress);
    const against = await this.againstLog(range.to);
    if (!chain.ok) return { ...chain, unsealed: against.unsealed };
    if (against.fault === undefined) return { ...chain, unsealed: against.unsealed };
    return {
      ...chain,
      ok: false,
      firstBadPosition: against.fault.position,
      fault: against.fault.kind,
      reason: against.fault.reason,
      unsealed: against.unsealed,
    };
  }

  /** Walks the log and the copy side by side, up to the copy's position `to` (its head). */
  private async againstLog(to: number | undefined): Promise<{
    readonly unsealed: number;
    readonly fault?: {
      readonly position: number;
      readonly kind: 'missing' | 'data_changed';
      readonly reason: string;
    };
  }> {
    const head = this.copy.head();
    const end = Math.min(to ?? Number.MAX_SAFE_INTEGER, head?.position ?? 0);
    let position = 0;
    let after: Position | undefined;
    let unsealed = 0;
    for (;;) {
      const page = await this.log.readAll({
        maxCount: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      if (page.length === 0) break;
      const copied = this.copy.events({ after: position, limit: page.length });
      for (const [index, event] of page.entries()) {
        position += 1;
        if (position > (head?.position ?? 0)) {
          unsealed += 1;
          continue;
        }
        if (position > end) continue;
        const stored = copied[index];
        const fault = differenceOf(stored, event, position);
        if (fault !== undefined) return { unsealed: 0, fault };
      }
      after = page.at(-1)?.position;
    }
    if (position < end) {
      return {
        unsealed: 0,
        fault: {
          position: position + 1,
          kind: 'missing',
          reason: `the log ends after ${position} events, but ${end} were sealed`,
        },
      };
    }
    return { unsealed };
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

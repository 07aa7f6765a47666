import type { ReadModelDb } from '../readModelDb.js';
import type { MessageRow } from './messagesProjection.js';

/** A message whose device push waits for the end of quiet hours. */
export type DeferredPushRow = Pick<
  MessageRow,
  'message_id' | 'app_id' | 'binding_id' | 'recipient_id' | 'level' | 'inbox_at'
> & {
  readonly push_deferred_until: string;
  /** 1 when the person read, archived or complained about the message meanwhile. */
  readonly seen: 0 | 1;
};

/** Reads of the deferred pushes (quiet hours) in the messages read model. */
export interface DeferredPushQueries {
  /**
   * Deferred pushes whose quiet hours ended by `now`, of messages still in the person's inbox
   * (not recalled): every one of up to `limit` bindings' nights (a binding and an end of quiet
   * hours), by binding and then in the order they reached the inbox.
   */
  due(now: string, limit: number): DeferredPushRow[];
  /**
   * The message whose deferred push the binding released when the quiet hours ending `until`
   * ended, if one was: what waited with it and is left over (a crash between the release and
   * the merges) is merged into it rather than pushed again.
   */
  releasedFor(bindingId: string, until: string): string | undefined;
}

export const deferredPushQueries = (db: ReadModelDb): DeferredPushQueries => {
  // Whole nights of whole bindings (one summary each), through the partial index of waiting
  // pushes: only those rows are ever looked at.
  const waiting = `push_deferred_until IS NOT NULL AND push_outcome IS NULL AND status = 'delivered'`;
  const due = db.prepare<[string, number], DeferredPushRow>(
    `WITH nights AS (
       SELECT DISTINCT push_deferred_until AS until, binding_id AS binding
       FROM messages INDEXED BY messages_push_deferred
       WHERE ${waiting} AND push_deferred_until <= ?
       ORDER BY push_deferred_until LIMIT ?)
     SELECT w.message_id, w.app_id, w.binding_id, w.recipient_id, w.level, w.inbox_at,
       w.push_deferred_until,
       (w.read_at IS NOT NULL OR w.archived_at IS NOT NULL OR EXISTS (SELECT 1 FROM complaints c
         WHERE c.message_id = w.message_id AND c.recipient_id = w.recipient_id
           AND c.status <> 'withdrawn')) AS seen
     FROM nights JOIN messages w INDEXED BY messages_push_deferred
       ON w.push_deferred_until = nights.until AND w.binding_id = nights.binding
     WHERE w.push_deferred_until IS NOT NULL AND w.push_outcome IS NULL AND w.status = 'delivered'
     ORDER BY w.binding_id, w.push_deferred_until, w.inbox_at, w.message_id`,
  );
  const released = db.prepare<[string, string], { message_id: string }>(
    `SELECT message_id FROM messages INDEXED BY messages_push_released
     WHERE binding_id = ? AND push_deferred_until = ? AND push_outcome = 'released' LIMIT 1`,
  );
  return {
    due: (now, limit) => due.all(now, limit),
    releasedFor: (bindingId, until) => released.get(bindingId, until)?.message_id,
  };
};

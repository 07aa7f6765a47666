import type { ReadModelDb } from '../readModelDb.js';
import type { MessageRow } from './messagesProjection.js';

/** A message whose device push waits for the end of quiet hours. */
export type DeferredPushRow = Pick<
  MessageRow,
  'message_id' | 'app_id' | 'binding_id' | 'recipient_id' | 'level' | 'inbox_at'
> & { readonly push_deferred_until: string };

/** Reads of the deferred pushes (quiet hours) in the messages read model. */
export interface DeferredPushQueries {
  /**
   * Deferred pushes whose quiet hours ended by `now`, of messages still in the person's inbox
   * (not recalled), by binding and then in the order they reached the inbox.
   */
  due(now: string, limit: number): DeferredPushRow[];
  /** The messages whose deferred pushes were merged into the summary push of `messageId`. */
  mergedInto(messageId: string): string[];
}

export const deferredPushQueries = (db: ReadModelDb): DeferredPushQueries => {
  // Through the partial index of waiting pushes: only those rows are ever looked at.
  const due = db.prepare<[string, number], DeferredPushRow>(
    `SELECT message_id, app_id, binding_id, recipient_id, level, inbox_at, push_deferred_until
     FROM (SELECT * FROM messages INDEXED BY messages_push_deferred
           WHERE push_deferred_until IS NOT NULL AND push_deferred_until <= ? AND status = 'delivered'
           ORDER BY push_deferred_until LIMIT ?)
     ORDER BY binding_id, inbox_at, message_id`,
  );
  const merged = db.prepare<[string], { message_id: string }>(
    'SELECT message_id FROM messages WHERE push_merged_into = ?',
  );
  return {
    due: (now, limit) => due.all(now, limit),
    mergedInto: (messageId) => merged.all(messageId).map((row) => row.message_id),
  };
};

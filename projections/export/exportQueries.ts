import type { BindingWithApp } from '../bindings/bindingQueries.js';
import type { InboxRow } from '../messages/messageQueries.js';
import type { DeliveryRow } from '../messages/messagesProjection.js';
import type { ReadModelDb } from '../readModelDb.js';

/** Where a page of a person's inbox ends: the last message's inbox time and id. */
export interface InboxPosition {
  readonly inboxAt: string;
  readonly messageId: string;
}

/**
 * Reads of the read models that only a person's data export needs (`GET /v1/me/export`): what
 * the app list and the inbox leave out (revoked bindings; archived, recalled and complained-about
 * messages), read in pages so that a large inbox is never one query.
 */
export interface ExportQueries {
  /** Every binding of the person, revoked ones too, with its app's name; newest first. */
  bindingsOf(recipientId: string): BindingWithApp[];
  /**
   * Up to `limit` of the messages that reached the person's inbox, archived, read, recalled and
   * complained-about ones included, newest first, after `after` (exclusive).
   */
  inboxPage(recipientId: string, after: InboxPosition | undefined, limit: number): InboxRow[];
  /** The deliveries of these messages (one query for a page), by message and channel. */
  deliveriesOf(messageIds: readonly string[]): DeliveryRow[];
}

const INBOX = `SELECT m.*, a.name AS app_name FROM messages m JOIN apps a ON a.app_id = m.app_id
  WHERE m.recipient_id = @recipientId AND m.inbox_at IS NOT NULL`;
// Both read through messages_inbox (recipient_id, inbox_at DESC, message_id DESC); the row value
// is a range on it, so a later page starts where the previous one ended instead of counting
// every row before it again.
const ORDER = 'ORDER BY m.inbox_at DESC, m.message_id DESC LIMIT @limit';

/** The export's queries over the embedded read-model database. */
export const exportQueries = (db: ReadModelDb): ExportQueries => {
  const bindings = db.prepare<[string], BindingWithApp>(
    `SELECT b.*, a.name AS app_name FROM bindings b JOIN apps a USING (app_id)
     WHERE b.recipient_id = ? ORDER BY b.authorized_at DESC, b.binding_id`,
  );
  const firstPage = db.prepare<{ recipientId: string; limit: number }, InboxRow>(
    `${INBOX} ${ORDER}`,
  );
  const nextPage = db.prepare<
    { recipientId: string; afterAt: string; afterId: string; limit: number },
    InboxRow
  >(`${INBOX} AND (m.inbox_at, m.message_id) < (@afterAt, @afterId) ${ORDER}`);
  const deliveries = db.prepare<[string], DeliveryRow>(
    `SELECT * FROM message_deliveries WHERE message_id IN (SELECT value FROM json_each(?))
     ORDER BY message_id, channel`,
  );
  return {
    bindingsOf: (recipientId) => bindings.all(recipientId),
    inboxPage: (recipientId, after, limit) =>
      after === undefined
        ? firstPage.all({ recipientId, limit })
        : nextPage.all({ recipientId, afterAt: after.inboxAt, afterId: after.messageId, limit }),
    deliveriesOf: (messageIds) =>
      messageIds.length === 0 ? [] : deliveries.all(JSON.stringify(messageIds)),
  };
};

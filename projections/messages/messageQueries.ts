import type { ReadModelDb } from '../readModelDb.js';
import type { DeliveryRow, MessageRow } from './messagesProjection.js';
import { inboxDeliveryFacts, type InboxDeliveryFacts } from './deliveryQueries.js';

/** The status an app sees (docs/api.md `GET /v1/messages/:id`). */
export type ApiMessageStatus =
  | 'submitted'
  | 'held'
  | 'rejected'
  | 'scheduled'
  | 'delivered'
  | 'suppressed'
  | 'cancelled'
  | 'recalled';

/**
 * Maps the aggregate's status to the API's: approved and released messages are still on their
 * way (`submitted`), and one approved for a later time is `scheduled` from the app's view.
 */
export const apiStatusOf = (
  row: Pick<MessageRow, 'status' | 'deliver_at'>,
  now: string,
): ApiMessageStatus => {
  switch (row.status) {
    case 'held':
    case 'rejected':
    case 'scheduled':
    case 'delivered':
    case 'suppressed':
    case 'cancelled':
    case 'recalled':
      return row.status;
    default:
      return row.deliver_at !== null && row.deliver_at > now ? 'scheduled' : 'submitted';
  }
};

/** One page of a person's inbox. */
export interface InboxFilter {
  readonly recipientId: string;
  readonly unread?: boolean;
  readonly thread?: string;
  readonly appId?: string;
  /** Continue after this (inbox_at, message_id), exclusive. */
  readonly after?: { readonly inboxAt: string; readonly messageId: string };
  readonly limit: number;
}

export type InboxRow = MessageRow & { readonly app_name: string };

/** A delivery waiting for its next attempt, with what the channel needs. */
export type DueDelivery = DeliveryRow &
  MessageRow & {
    readonly app_name: string;
    /** Insertion order of the delivery row: new deliveries are taken in this order. */
    readonly delivery_seq: number;
  };

/**
 * A message the person complained about leaves their inbox view (issue: complaining removes it);
 * withdrawing the complaint brings it back.
 */
const NOT_COMPLAINED = `NOT EXISTS (SELECT 1 FROM complaints c WHERE c.message_id = m.message_id
  AND c.recipient_id = m.recipient_id AND c.status <> 'withdrawn')`;

/** Reads of the messages read model. */
export interface MessageQueries {
  byId(messageId: string): MessageRow | undefined;
  deliveries(messageId: string): DeliveryRow[];
  inbox(filter: InboxFilter): InboxRow[];
  /** A person's inbox entry (not archived, not recalled), or undefined. */
  inboxEntry(recipientId: string, messageId: string): MessageRow | undefined;
  held(limit: number): MessageRow[];
  /** Scheduled messages whose time has come. */
  due(now: string, limit: number): MessageRow[];
  /**
   * Device deliveries never tried yet, after `afterSeq` in insertion order (the delivery
   * worker's cursor); read through the pending-deliveries index, without sorting the backlog.
   */
  freshDeliveries(afterSeq: number, limit: number): DueDelivery[];
  /** Device deliveries whose retry time has come by `now`, earliest first. */
  retriesDue(now: string, limit: number): DueDelivery[];
  /**
   * One device delivery still waiting for an attempt (never tried, or a retry planned), whether
   * due or not; undefined once delivered, abandoned or ended (the EventStoreDB delivery group
   * looks up the delivery each of its events plans).
   */
  pendingDelivery(messageId: string, channel: string): DueDelivery | undefined;
  /**
   * When the oldest device delivery never tried yet, routed at or after `since`, was routed (its
   * message's last change, which is its routing while it waits): how far behind delivery is.
   * Undefined when none waits.
   */
  oldestFreshDelivery(
    since: string,
    /** Deliveries to pass over: an attempt in flight on this node is under way, not behind. */
    skip?: (messageId: string, channel: string) => boolean,
  ): string | undefined;
  /** Times of the device pushes made for a binding since `since`. */
  devicePushesSince(bindingId: string, since: string): string[];
  /**
   * The device deliveries and binding facts of a page of the person's inbox, by message id, in
   * one read (projections/messages/deliveryQueries.ts); other people's messages are left out.
   */
  inboxDeliveries(
    recipientId: string,
    messageIds: readonly string[],
  ): ReadonlyMap<string, InboxDeliveryFacts>;
}

/** Never-tried deliveries the lag looks through for one not in flight (a worker has 64 at most). */
const FRESH_LOOKED_AT = 200;

export const messageQueries = (db: ReadModelDb): MessageQueries => {
  const byId = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE message_id = ?');
  const deliveries = db.prepare<[string], DeliveryRow>(
    'SELECT * FROM message_deliveries WHERE message_id = ? ORDER BY channel',
  );
  const inboxEntry = db.prepare<[string, string], MessageRow>(
    `SELECT * FROM messages m WHERE m.recipient_id = ? AND m.message_id = ? AND m.inbox_at IS NOT NULL
       AND m.archived_at IS NULL AND m.status <> 'recalled' AND ${NOT_COMPLAINED}`,
  );
  const held = db.prepare<[number], MessageRow>(
    "SELECT * FROM messages WHERE status = 'held' ORDER BY created_at, message_id LIMIT ?",
  );
  const due = db.prepare<[string, number], MessageRow>(
    "SELECT * FROM messages WHERE status = 'scheduled' AND deliver_at <= ? ORDER BY deliver_at LIMIT ?",
  );
  // Pending device deliveries with what a channel needs, read through the pending index.
  const pendingDeliveries = `SELECT m.*, d.*, d.rowid AS delivery_seq, a.name AS app_name
     FROM message_deliveries d INDEXED BY deliveries_waiting
       JOIN messages m USING (message_id) JOIN apps a ON a.app_id = m.app_id
     WHERE d.status = 'pending' AND d.channel <> 'inbox'`;
  const freshDeliveries = db.prepare<[number, number], DueDelivery>(
    `${pendingDeliveries} AND d.retry_at IS NULL AND d.rowid > ? ORDER BY d.rowid LIMIT ?`,
  );
  const retriesDue = db.prepare<[string, number], DueDelivery>(
    `${pendingDeliveries} AND d.retry_at IS NOT NULL AND d.retry_at <= ? ORDER BY d.retry_at LIMIT ?`,
  );
  // By the table's key, not through the pending index.
  const pendingDelivery = db.prepare<[string, string], DueDelivery>(
    `SELECT m.*, d.*, d.rowid AS delivery_seq, a.name AS app_name
     FROM message_deliveries d JOIN messages m USING (message_id) JOIN apps a ON a.app_id = m.app_id
     WHERE d.message_id = ? AND d.channel = ? AND d.status = 'pending' AND d.channel <> 'inbox'`,
  );
  // The waiting index holds never-tried deliveries first (retry_at NULL), in insertion order.
  const oldestFresh = db.prepare<
    [string, number],
    { due: string; message_id: string; channel: string }
  >(
    `SELECT m.updated_at AS due, d.message_id, d.channel
     FROM message_deliveries d INDEXED BY deliveries_waiting JOIN messages m USING (message_id)
     WHERE d.status = 'pending' AND d.retry_at IS NULL AND d.channel <> 'inbox'
       AND m.updated_at >= ?
     ORDER BY d.retry_at, d.rowid LIMIT ?`,
  );
  const pushes = db.prepare<[string, string], { at: string }>(
    'SELECT at FROM device_pushes WHERE binding_id = ? AND at > ? ORDER BY at',
  );
  return {
    byId: (messageId) => byId.get(messageId),
    deliveries: (messageId) => deliveries.all(messageId),
    inboxEntry: (recipientId, messageId) => inboxEntry.get(recipientId, messageId),
    held: (limit) => held.all(limit),
    due: (now, limit) => due.all(now, limit),
    freshDeliveries: (afterSeq, limit) => freshDeliveries.all(afterSeq, limit),
    retriesDue: (now, limit) => retriesDue.all(now, limit),
    pendingDelivery: (messageId, channel) => pendingDelivery.get(messageId, channel),
    oldestFreshDelivery: (since, skip) => {
      if (skip === undefined) return oldestFresh.get(since, 1)?.due;
      // Read one by one, up to more than a worker ever has in flight: the first not in flight
      // is the answer; if every one looked at is in flight, the last is the best bound.
      let last: string | undefined;
      let looked = 0;
      for (const row of oldestFresh.iterate(since, FRESH_LOOKED_AT)) {
        looked += 1;
        last = row.due;
        if (!skip(row.message_id, row.channel)) return row.due;
      }
      return looked === FRESH_LOOKED_AT ? last : undefined;
    },
    devicePushesSince: (bindingId, since) => pushes.all(bindingId, since).map((row) => row.at),
    inboxDeliveries: inboxDeliveryFacts(db),
    inbox: (filter) => {
      const conditions = [
        'm.recipient_id = @recipientId',
        'm.inbox_at IS NOT NULL',
        'm.archived_at IS NULL',
        "m.status <> 'recalled'",
        NOT_COMPLAINED,
      ];
      if (filter.unread === true) conditions.push('m.read_at IS NULL');
      if (filter.unread === false) conditions.push('m.read_at IS NOT NULL');
      if (filter.thread !== undefined) conditions.push('m.thread = @thread');
      if (filter.appId !== undefined) conditions.push('m.app_id = @appId');
      if (filter.after !== undefined) {
        conditions.push(
          '(m.inbox_at < @afterAt OR (m.inbox_at = @afterAt AND m.message_id < @afterId))',
        );
      }
      return db
        .prepare<Record<string, unknown>, InboxRow>(
          `SELECT m.*, a.name AS app_name FROM messages m JOIN apps a ON a.app_id = m.app_id
           WHERE ${conditions.join(' AND ')} ORDER BY m.inbox_at DESC, m.message_id DESC LIMIT @limit`,
        )
        .all({
          recipientId: filter.recipientId,
          thread: filter.thread ?? null,
          appId: filter.appId ?? null,
          afterAt: filter.after?.inboxAt ?? null,
          afterId: filter.after?.messageId ?? null,
          limit: filter.limit,
        });
    },
  };
};

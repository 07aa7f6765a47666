import type { MessageEvent } from '../../domain/message/messageEvents.js';
import { messageEventTypes } from '../../domain/message/messageEvents.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';
import type { RecipientDataErased } from '../../domain/recipient/recipientEvents.js';
import { DATA_ERASED_EVENT, ERASED } from '../../domain/shared/hashChain.js';

/** A row of the `messages` read model: status for the app, inbox entry for the person. */
export interface MessageRow {
  readonly message_id: string;
  readonly app_id: string;
  readonly binding_id: string;
  readonly recipient_id: string;
  readonly title: string | null;
  readonly subtitle: string | null;
  readonly body: string;
  readonly url: string | null;
  readonly thread: string | null;
  readonly level: 'active' | 'timeSensitive' | 'passive' | null;
  readonly deliver_at: string | null;
  /** The aggregate's status (submitted, held, rejected, approved, scheduled, released, delivered, …). */
  readonly status: string;
  readonly moderation_policy: string | null;
  readonly moderation_reason: string | null;
  readonly suppressed_reason: string | null;
  /** JSON array of the channels the router chose. */
  readonly routed_channels: string | null;
  readonly inbox_only: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  /** When it reached the inbox; null until then. */
  readonly inbox_at: string | null;
  readonly read_at: string | null;
  readonly archived_at: string | null;
  /** The correlation id of the submission: the delivery records carry it on. */
  readonly correlation_id: string | null;
  /** The id of the MessageRouted event: each delivery attempt's record names it as its cause. */
  readonly routed_by: string | null;
  /**
   * For a device push deferred by quiet hours: when they end. It stays once they ended, beside
   * `push_outcome`; the push waits while `push_outcome` is null.
   */
  readonly push_deferred_until: string | null;
  /** What became of a deferred push when quiet hours ended. */
  readonly push_outcome: 'released' | 'merged' | 'dropped' | null;
  /** A released deferred push that stands for this many messages of the app (a summary push). */
  readonly push_summary_of: number | null;
  /** The message whose summary push a merged deferred push went into. */
  readonly push_merged_into: string | null;
}

/** A row of `message_deliveries`: one channel's delivery of one message. */
export interface DeliveryRow {
  readonly message_id: string;
  readonly channel: string;
  readonly status: 'pending' | 'delivered' | 'failed' | 'abandoned';
  readonly attempts: number;
  readonly last_error: string | null;
  /** When the next attempt is due; null means now. */
  readonly retry_at: string | null;
  readonly delivered_at: string | null;
}

/**
 * Messages, their per-channel deliveries and the device pushes per binding. Serves the message
 * status route, the inbox, the due queue (scheduled messages), the held queue, the delivery queue
 * (device channels waiting for an attempt) and the push budget.
 */
export const messagesProjection: Projection = {
  name: 'messages',
  version: 3,
  // An erasure of a person's data erases the contents of the messages addressed to them.
  eventTypes: [...messageEventTypes, DATA_ERASED_EVENT],
  tables: ['messages', 'message_deliveries', 'device_pushes'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS messages (
      message_id        TEXT PRIMARY KEY,
      app_id            TEXT NOT NULL,
      binding_id        TEXT NOT NULL,
      recipient_id      TEXT NOT NULL,
      title             TEXT,
      subtitle          TEXT,
      body              TEXT NOT NULL,
      url               TEXT,
      thread            TEXT,
      level             TEXT,
      deliver_at        TEXT,
      status            TEXT NOT NULL,
      moderation_policy TEXT,
      moderation_reason TEXT,
      suppressed_reason TEXT,
      routed_channels   TEXT,
      inbox_only        TEXT,
      created_at        TEXT NOT NULL,
      updated_at        TEXT NOT NULL,
      inbox_at          TEXT,
      read_at           TEXT,
      archived_at       TEXT,
      correlation_id    TEXT,
      routed_by         TEXT,
      push_deferred_until TEXT,
      push_outcome      TEXT,
      push_summary_of   INTEGER,
      push_merged_into  TEXT
    );
    CREATE INDEX IF NOT EXISTS messages_push_deferred ON messages (push_deferred_until, binding_id)
      WHERE push_deferred_until IS NOT NULL AND push_outcome IS NULL;
    CREATE INDEX IF NOT EXISTS messages_push_released ON messages (binding_id, push_deferred_until)
      WHERE push_outcome = 'released';
    CREATE INDEX IF NOT EXISTS messages_inbox ON messages (recipient_id, inbox_at DESC, message_id DESC)
      WHERE inbox_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS messages_due ON messages (deliver_at) WHERE status = 'scheduled';
    CREATE INDEX IF NOT EXISTS messages_held ON messages (created_at) WHERE status = 'held';
    CREATE TABLE IF NOT EXISTS message_deliveries (
      message_id   TEXT NOT NULL,
      channel      TEXT NOT NULL,
      status       TEXT NOT NULL,
      attempts     INTEGER NOT NULL,
      last_error   TEXT,
      retry_at     TEXT,
      delivered_at TEXT,
      PRIMARY KEY (message_id, channel)
    );
    CREATE INDEX IF NOT EXISTS deliveries_waiting ON message_deliveries (retry_at) WHERE status = 'pending';
    CREATE TABLE IF NOT EXISTS device_pushes (
      message_id TEXT PRIMARY KEY,
      binding_id TEXT NOT NULL,
      at         TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS device_pushes_by_binding ON device_pushes (binding_id, at);`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<MessageEvent | RecipientDataErased>([
      ...messageEventTypes,
      DATA_ERASED_EVENT,
    ]);
    const erasedUnlessNull = (column: string) =>
      `${column} = CASE WHEN ${column} IS NULL THEN NULL ELSE '${ERASED}' END`;
    const set = (assignments: string) =>
      db.prepare(
        `UPDATE messages SET ${assignments}, updated_at = @at WHERE message_id = @messageId`,
      );
    const statements = {
      submit: db.prepare(
        `INSERT INTO messages (message_id, app_id, binding_id, recipient_id, title, subtitle, body, url, thread,
           level, deliver_at, status, created_at, updated_at, correlation_id)
         VALUES (@messageId, @appId, @bindingId, @recipientId, @title, @subtitle, @body, @url, @thread, @level,
           @deliverAt, 'submitted', @at, @at, @correlationId)
         ON CONFLICT (message_id) DO NOTHING`,
      ),
      status: set('status = @status'),
      moderated: set('status = @status, moderation_policy = @policy, moderation_reason = @reason'),
      scheduled: set("status = 'scheduled', deliver_at = @deliverAt"),
      suppressed: set("status = 'suppressed', suppressed_reason = @reason"),
      routed: set(
        'routed_channels = @channels, inbox_only = @inboxOnly, routed_by = @routedBy, push_deferred_until = @deferredUntil',
      ),
      // The end of the quiet hours stays: the releases of one binding's night are found by it.
      pushReleased: set(
        `routed_channels = @channels, push_outcome = 'released', push_summary_of = @summaryOf`,
      ),
      pushMerged: set(`push_outcome = 'merged', push_merged_into = @into`),
      pushDropped: set(`push_outcome = 'dropped'`),
      recalled: set(`status = 'recalled', push_deferred_until = NULL`),
      delivered: set("status = CASE WHEN status IN ('recalled') THEN status ELSE 'delivered' END"),
      inbox: set('inbox_at = @at'),
      read: set('read_at = @at'),
      archived: set('archived_at = @at'),
      deliveryPlanned: db.prepare(
        `INSERT INTO message_deliveries (message_id, channel, status, attempts) VALUES (@messageId, @channel, 'pending', 0)
         ON CONFLICT (message_id, channel) DO NOTHING`,
      ),
      deliveryDone: db.prepare(
        `INSERT INTO message_deliveries (message_id, channel, status, attempts, delivered_at)
         VALUES (@messageId, @channel, 'delivered', @attempt, @at)
         ON CONFLICT (message_id, channel) DO UPDATE SET status = 'delivered',
           attempts = max(attempts, excluded.attempts), delivered_at = excluded.delivered_at, retry_at = NULL`,
      ),
      deliveryFailed: db.prepare(
        `UPDATE message_deliveries SET status = @status, attempts = @attempt, last_error = @error, retry_at = @retryAt
         WHERE message_id = @messageId AND channel = @channel`,
      ),
      deliveryAbandoned: db.prepare(
        `UPDATE message_deliveries SET status = 'abandoned', attempts = @attempts, last_error = @lastError, retry_at = NULL
         WHERE message_id = @messageId AND channel = @channel`,
      ),
      routedChannels: db.prepare<{ messageId: string }, { routed_channels: string | null }>(
        'SELECT routed_channels FROM messages WHERE message_id = @messageId',
      ),
      devicePush: db.prepare(
        `INSERT INTO device_pushes (message_id, binding_id, at)
         SELECT message_id, binding_id, @at FROM messages WHERE message_id = @messageId
         ON CONFLICT (message_id) DO NOTHING`,
      ),
      // The person's messages keep their status for the apps that sent them; their contents,
      // what moderation and channels said about them, and the inbox entries go.
      eraseMessages: db.prepare(
        `UPDATE messages SET body = '${ERASED}', ${['title', 'subtitle', 'url', 'thread', 'moderation_reason'].map(erasedUnlessNull).join(', ')},
           inbox_at = NULL WHERE recipient_id = @recipientId`,
      ),
      eraseDeliveries: db.prepare(
        `UPDATE message_deliveries SET ${erasedUnlessNull('last_error')}
         WHERE message_id IN (SELECT message_id FROM messages WHERE recipient_id = @recipientId)`,
      ),
    };
    return (recorded) => {
      const event = read(recorded);
      const at = recorded.metadata.occurredAt;
      switch (event.type) {
        case 'MessageSubmitted': {
          const d = event.data;
          statements.submit.run({
            messageId: d.messageId,
            appId: d.appId,
            bindingId: d.bindingId,
            recipientId: d.recipientId,
            title: d.title ?? null,
            subtitle: d.subtitle ?? null,
            body: d.body,
            url: d.url ?? null,
            thread: d.thread ?? null,
            level: d.level ?? null,
            deliverAt: d.deliverAt ?? null,
            at,
            correlationId: recorded.metadata.correlationId,
          });
          return;
        }
        case 'MessageApproved':
          statements.moderated.run({
            messageId: event.data.messageId,
            status: 'approved',
            policy: event.data.policy,
            reason: null,
            at,
          });
          return;
        case 'MessageRejected':
          statements.moderated.run({ ...event.data, status: 'rejected', at });
          return;
        case 'MessageHeldForReview':
          statements.moderated.run({ ...event.data, status: 'held', at });
          return;
        case 'MessageScheduled':
          statements.scheduled.run({ ...event.data, at });
          return;
        case 'MessageReleased':
          statements.status.run({ messageId: event.data.messageId, status: 'released', at });
          return;
        case 'MessageSuppressed':
          statements.suppressed.run({ ...event.data, at });
          return;
        case 'MessageRouted': {
          const { messageId, channels, inboxOnly, deferred } = event.data;
          statements.routed.run({
            messageId,
            channels: JSON.stringify(channels),
            inboxOnly: inboxOnly ?? null,
            routedBy: recorded.id,
            deferredUntil: deferred?.until ?? null,
            at,
          });
          for (const channel of channels) statements.deliveryPlanned.run({ messageId, channel });
          if (channels.some((channel) => channel !== 'inbox'))
            statements.devicePush.run({ messageId, at });
          return;
        }
        case 'MessageDelivered': {
          const { messageId, channel, attempt } = event.data;
          statements.deliveryDone.run({ messageId, channel, attempt, at });
          statements.delivered.run({ messageId, at });
          if (channel === 'inbox') statements.inbox.run({ messageId, at });
          return;
        }
        case 'MessageDeliveryFailed': {
          const { messageId, channel, attempt, error, retryAt } = event.data;
          statements.deliveryFailed.run({
            messageId,
            channel,
            attempt,
            error,
            retryAt: retryAt ?? null,
            status: retryAt === undefined ? 'failed' : 'pending',
          });
          return;
        }
        case 'MessageDeliveryAbandoned':
          statements.deliveryAbandoned.run(event.data);
          return;
        case 'MessageRead':
          statements.read.run({ messageId: event.data.messageId, at });
          return;
        case 'MessageArchived':
          statements.archived.run({ messageId: event.data.messageId, at });
          return;
        case 'MessageCancelled':
          statements.status.run({ messageId: event.data.messageId, status: 'cancelled', at });
          return;
        case 'MessageRecalled':
          statements.recalled.run({ messageId: event.data.messageId, at });
          return;
        case 'MessagePushReleased': {
          const { messageId, channels, summaryOf } = event.data;
          const row = statements.routedChannels.get({ messageId });
          const routed =
            row?.routed_channels === undefined || row.routed_channels === null
              ? ['inbox']
              : (JSON.parse(row.routed_channels) as string[]);
          statements.pushReleased.run({
            messageId,
            channels: JSON.stringify([...routed, ...channels.filter((c) => !routed.includes(c))]),
            summaryOf: summaryOf ?? null,
            at,
          });
          for (const channel of channels) statements.deliveryPlanned.run({ messageId, channel });
          statements.devicePush.run({ messageId, at });
          return;
        }
        case 'MessagePushMerged':
          statements.pushMerged.run({ ...event.data, at });
          return;
        case 'MessagePushDropped':
          statements.pushDropped.run({ messageId: event.data.messageId, at });
          return;
        case 'RecipientDataErased':
          statements.eraseDeliveries.run(event.data);
          statements.eraseMessages.run(event.data);
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

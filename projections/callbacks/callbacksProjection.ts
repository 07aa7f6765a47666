import type { CallbackEvent } from '../../domain/callback/callbackEvents.js';
import { callbackEventNames } from '../../domain/callback/callbackEvents.js';
import type { CallbackEventType } from '../../domain/callback/callbackEventTypes.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';

/** A row of the `callback_deliveries` read model: one event for an app's callback. */
export interface CallbackDeliveryRow {
  readonly delivery_id: string;
  readonly app_id: string;
  readonly event_type: CallbackEventType;
  /** When the event it reports happened. */
  readonly occurred_at: string;
  /** JSON of the event's `data`. */
  readonly data: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  /** When the next attempt is due; null unless pending. */
  readonly next_attempt_at: string | null;
  /** When the current 24 h window of retries started: queued, or retried by the app. */
  readonly window_start: string;
  /** The HTTP status of the last attempt, when it was answered. */
  readonly last_status: number | null;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/**
 * Callback deliveries: the queue the callback worker takes due attempts from, and the list an
 * app reads (`GET /v1/app/callback/deliveries`).
 */
export const callbacksProjection: Projection = {
  name: 'callbacks',
  version: 1,
  eventTypes: callbackEventNames,
  tables: ['callback_deliveries'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS callback_deliveries (
      delivery_id     TEXT PRIMARY KEY,
      app_id          TEXT NOT NULL,
      event_type      TEXT NOT NULL,
      occurred_at     TEXT NOT NULL,
      data            TEXT NOT NULL,
      status          TEXT NOT NULL,
      attempts        INTEGER NOT NULL,
      next_attempt_at TEXT,
      window_start    TEXT NOT NULL,
      last_status     INTEGER,
      last_error      TEXT,
      delivered_at    TEXT,
      created_at      TEXT NOT NULL,
      updated_at      TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS callback_deliveries_due
      ON callback_deliveries (app_id, next_attempt_at) WHERE status = 'pending';
    CREATE INDEX IF NOT EXISTS callback_deliveries_by_app
      ON callback_deliveries (app_id, created_at);`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<CallbackEvent>(callbackEventNames);
    const statements = {
      queue: db.prepare(
        `INSERT INTO callback_deliveries (delivery_id, app_id, event_type, occurred_at, data,
           status, attempts, next_attempt_at, window_start, created_at, updated_at)
         VALUES (@deliveryId, @appId, @eventType, @occurredAt, @data, 'pending', 0, @at, @at, @at, @at)
         ON CONFLICT (delivery_id) DO NOTHING`,
      ),
      delivered: db.prepare(
        `UPDATE callback_deliveries SET status = 'delivered', attempts = @attempt,
           next_attempt_at = NULL, last_status = @status, last_error = NULL, delivered_at = @at,
           updated_at = @at
         WHERE delivery_id = @deliveryId`,
      ),
      failed: db.prepare(
        `UPDATE callback_deliveries SET
           status = CASE WHEN @retryAt IS NULL THEN 'failed' ELSE 'pending' END,
           attempts = @attempt, next_attempt_at = @retryAt, last_status = @status,
           last_error = @error, updated_at = @at
         WHERE delivery_id = @deliveryId`,
      ),
      retry: db.prepare(
        `UPDATE callback_deliveries SET status = 'pending', next_attempt_at = @at,
           window_start = @at, updated_at = @at
         WHERE delivery_id = @deliveryId`,
      ),
    };
    return (recorded) => {
      const event = read(recorded);
      const at = recorded.metadata.occurredAt;
      switch (event.type) {
        case 'CallbackQueued':
          statements.queue.run({
            deliveryId: event.data.deliveryId,
            appId: event.data.appId,
            eventType: event.data.eventType,
            occurredAt: event.data.occurredAt,
            data: JSON.stringify(event.data.data),
            at,
          });
          return;
        case 'CallbackDelivered':
          statements.delivered.run({
            deliveryId: event.data.deliveryId,
            attempt: event.data.attempt,
            status: event.data.status,
            at,
          });
          return;
        case 'CallbackFailed':
          statements.failed.run({
            deliveryId: event.data.deliveryId,
            attempt: event.data.attempt,
            status: event.data.status ?? null,
            error: event.data.error,
            retryAt: event.data.retryAt ?? null,
            at,
          });
          return;
        case 'CallbackRetryRequested':
          statements.retry.run({ deliveryId: event.data.deliveryId, at });
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

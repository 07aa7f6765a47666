import type { ReadModelDb } from '../readModelDb.js';
import type { CallbackDeliveryRow } from './callbacksProjection.js';

export type CallbackDeliveryStatus = CallbackDeliveryRow['status'];

/** Reads of the callback deliveries read model. */
export interface CallbackQueries {
  byId(deliveryId: string): CallbackDeliveryRow | undefined;
  /** The apps with a pending delivery due at `now` (ISO), the one due longest first. */
  dueApps(now: string): string[];
  /** One app's pending deliveries due at `now`, the longest due first. */
  dueOfApp(appId: string, now: string, limit: number): CallbackDeliveryRow[];
  /** An app's deliveries, newest first, in one status or all. */
  ofApp(
    appId: string,
    status: CallbackDeliveryStatus | undefined,
    limit: number,
  ): CallbackDeliveryRow[];
}

export const callbackQueries = (db: ReadModelDb): CallbackQueries => {
  const byId = db.prepare<[string], CallbackDeliveryRow>(
    'SELECT * FROM callback_deliveries WHERE delivery_id = ?',
  );
  const dueApps = db.prepare<[string], { app_id: string }>(
    `SELECT app_id FROM callback_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
     GROUP BY app_id ORDER BY MIN(next_attempt_at) LIMIT 1000`,
  );
  const dueOfApp = db.prepare<[string, string, number], CallbackDeliveryRow>(
    `SELECT * FROM callback_deliveries
     WHERE status = 'pending' AND app_id = ? AND next_attempt_at <= ?
     ORDER BY next_attempt_at, delivery_id LIMIT ?`,
  );
  const ofApp = db.prepare<[string, number], CallbackDeliveryRow>(
    `SELECT * FROM callback_deliveries WHERE app_id = ?
     ORDER BY created_at DESC, delivery_id DESC LIMIT ?`,
  );
  const ofAppIn = db.prepare<[string, string, number], CallbackDeliveryRow>(
    `SELECT * FROM callback_deliveries WHERE app_id = ? AND status = ?
     ORDER BY created_at DESC, delivery_id DESC LIMIT ?`,
  );
  return {
    byId: (deliveryId) => byId.get(deliveryId),
    dueApps: (now) => dueApps.all(now).map((row) => row.app_id),
    dueOfApp: (appId, now, limit) => dueOfApp.all(appId, now, limit),
    ofApp: (appId, status, limit) =>
      status === undefined ? ofApp.all(appId, limit) : ofAppIn.all(appId, status, limit),
  };
};

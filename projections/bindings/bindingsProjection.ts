import type { BindingEvent } from '../../domain/binding/bindingEvents.js';
import { bindingEventTypes } from '../../domain/binding/bindingEvents.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';

/** A row of the `bindings` read model. */
export interface BindingRow {
  readonly binding_id: string;
  readonly app_id: string;
  readonly recipient_id: string;
  readonly openid: string;
  readonly level: 'strong' | 'weak' | 'none';
  /** Hash of the current binding key; the previous keys are gone from here. */
  readonly key_hash: string;
  readonly muted_until: string | null;
  readonly blocked: 0 | 1;
  /** JSON array of the device ids the person chose for this app; null means all their devices. */
  readonly devices: string | null;
  readonly status: 'active' | 'revoked';
  readonly authorized_at: string;
  readonly updated_at: string;
  readonly revision: number;
}

/**
 * Bindings between people and apps, looked up by key hash (an app pushing with `key`), by app and
 * openid (an app pushing with `openid`, `GET /v1/bindings`), and by person (their app list).
 */
export const bindingsProjection: Projection = {
  name: 'bindings',
  // 2: the `devices` column (the person's choice of devices for the app).
  version: 2,
  eventTypes: bindingEventTypes,
  tables: ['bindings'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS bindings (
      binding_id    TEXT PRIMARY KEY,
      app_id        TEXT NOT NULL,
      recipient_id  TEXT NOT NULL,
      openid        TEXT NOT NULL,
      level         TEXT NOT NULL,
      key_hash      TEXT NOT NULL UNIQUE,
      muted_until   TEXT,
      blocked       INTEGER NOT NULL,
      devices       TEXT,
      status        TEXT NOT NULL,
      authorized_at TEXT NOT NULL,
      updated_at    TEXT NOT NULL,
      revision      INTEGER NOT NULL,
      UNIQUE (app_id, openid)
    );
    CREATE INDEX IF NOT EXISTS bindings_by_recipient ON bindings (recipient_id, authorized_at);`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<BindingEvent>(bindingEventTypes);
    const touch = 'updated_at = @at, revision = @revision';
    const statements = {
      authorize: db.prepare(
        `INSERT INTO bindings (binding_id, app_id, recipient_id, openid, level, key_hash, muted_until,
           blocked, status, authorized_at, updated_at, revision)
         VALUES (@bindingId, @appId, @recipientId, @openid, @level, @keyHash, NULL, 0, 'active', @at, @at, @revision)
         ON CONFLICT (binding_id) DO NOTHING`,
      ),
      reauthorize: db.prepare(
        `UPDATE bindings SET recipient_id = @recipientId, level = @level, key_hash = @keyHash, muted_until = NULL,
           blocked = 0, devices = NULL, status = 'active', authorized_at = @at, ${touch} WHERE binding_id = @bindingId`,
      ),
      level: db.prepare(
        `UPDATE bindings SET level = @level, ${touch} WHERE binding_id = @bindingId`,
      ),
      mute: db.prepare(
        `UPDATE bindings SET muted_until = @until, ${touch} WHERE binding_id = @bindingId`,
      ),
      unmute: db.prepare(
        `UPDATE bindings SET muted_until = NULL, ${touch} WHERE binding_id = @bindingId`,
      ),
      block: db.prepare(`UPDATE bindings SET blocked = 1, ${touch} WHERE binding_id = @bindingId`),
      unblock: db.prepare(
        `UPDATE bindings SET blocked = 0, ${touch} WHERE binding_id = @bindingId`,
      ),
      devices: db.prepare(
        `UPDATE bindings SET devices = @devices, ${touch} WHERE binding_id = @bindingId`,
      ),
      revoke: db.prepare(
        `UPDATE bindings SET status = 'revoked', ${touch} WHERE binding_id = @bindingId`,
      ),
    };
    return (recorded) => {
      const event = read(recorded);
      const facts = { at: recorded.metadata.occurredAt, revision: recorded.revision };
      switch (event.type) {
        case 'BindingAuthorized':
          statements.authorize.run({ ...event.data, ...facts });
          return;
        case 'BindingReauthorized':
          statements.reauthorize.run({ ...event.data, ...facts });
          return;
        case 'BindingLevelChanged':
          statements.level.run({ ...event.data, ...facts });
          return;
        case 'BindingMuted':
          statements.mute.run({ ...event.data, ...facts });
          return;
        case 'BindingUnmuted':
          statements.unmute.run({ ...event.data, ...facts });
          return;
        case 'BindingBlocked':
          statements.block.run({ ...event.data, ...facts });
          return;
        case 'BindingUnblocked':
          statements.unblock.run({ ...event.data, ...facts });
          return;
        case 'BindingDevicesChosen':
          statements.devices.run({
            ...event.data,
            devices: event.data.devices === null ? null : JSON.stringify(event.data.devices),
            ...facts,
          });
          return;
        case 'BindingRevoked':
          statements.revoke.run({ ...event.data, ...facts });
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

import type { RecipientEvent } from '../../domain/recipient/recipientEvents.js';
import { recipientEventTypes } from '../../domain/recipient/recipientEvents.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';
import { ERASED } from '../../domain/shared/hashChain.js';
import {
  LEGACY_BARK_DEVICE_ID,
  legacyBarkFingerprint,
} from '../../domain/recipient/recipientDevices.js';

/** A row of the `recipients` read model. */
export interface RecipientRow {
  readonly recipient_id: string;
  readonly username: string;
  readonly password_hash: string;
  readonly registered_at: string;
}

/** A row of the `devices` read model: one device of one person. */
export interface DeviceRow {
  readonly recipient_id: string;
  readonly device_id: string;
  readonly kind: string;
  readonly name: string;
  /** JSON object of the non-secret settings. */
  readonly settings: string;
  /** JSON object of the secret settings, each sealed (never in clear). */
  readonly secrets: string;
  /** JSON object of the secrets the legacy Bark events wrote in clear (`{}` for newer devices). */
  readonly clear_secrets: string;
  readonly fingerprint: string;
  /** Why the channel refused the device for good; null while it works. */
  readonly broken: string | null;
  readonly added_at: string;
  /** The device's place in the person's list: the order they added them in. */
  readonly ordinal: number;
}

/** A row of the `sessions` read model: an open login, found by the hash of its cookie. */
export interface SessionRow {
  readonly session_hash: string;
  readonly recipient_id: string;
  readonly expires_at: string;
}

/**
 * A row of the `preferences` read model: what one person chose (docs/api.md, "Preferences"); a
 * person without a row chose nothing yet.
 */
export interface PreferencesRow {
  readonly recipient_id: string;
  /** `zh-CN`, `en`, or null: from the browser. */
  readonly locale: string | null;
  /** An IANA zone, or null: not chosen. */
  readonly time_zone: string | null;
  /** JSON `{ start, end, allowTimeSensitive }`, or null: off. */
  readonly quiet_hours: string | null;
  /** JSON `{ at, deviceId }`, or null: off. */
  readonly digest: string | null;
}

/**
 * People (looked up by username at login), their devices (read by routing's delivery worker and
 * the devices routes), their open sessions (looked up per request) and their preferences.
 * Version 3 moved the Bark columns of `recipients` into `devices`, version 4 added
 * `preferences`: a data folder of an older version rebuilds it.
 */
export const recipientsProjection: Projection = {
  name: 'recipients',
  version: 4,
  eventTypes: recipientEventTypes,
  tables: ['recipients', 'sessions', 'devices', 'preferences'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS recipients (
      recipient_id    TEXT PRIMARY KEY,
      username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash   TEXT NOT NULL,
      registered_at   TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS devices (
      recipient_id  TEXT NOT NULL,
      device_id     TEXT NOT NULL,
      kind          TEXT NOT NULL,
      name          TEXT NOT NULL,
      settings      TEXT NOT NULL,
      secrets       TEXT NOT NULL,
      clear_secrets TEXT NOT NULL,
      fingerprint   TEXT NOT NULL,
      broken        TEXT,
      added_at      TEXT NOT NULL,
      ordinal       INTEGER NOT NULL,
      PRIMARY KEY (recipient_id, device_id)
    );
    CREATE TABLE IF NOT EXISTS sessions (
      session_hash TEXT PRIMARY KEY,
      recipient_id TEXT NOT NULL,
      expires_at   TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_by_recipient ON sessions (recipient_id);
    CREATE TABLE IF NOT EXISTS preferences (
      recipient_id TEXT PRIMARY KEY,
      locale       TEXT,
      time_zone    TEXT,
      quiet_hours  TEXT,
      digest       TEXT
    );
    -- The digest step's reads (recipientQueries.ts): only the people with a digest, by schedule.
    CREATE INDEX IF NOT EXISTS preferences_digest
      ON preferences (time_zone, json_extract(digest, '$.at')) WHERE digest IS NOT NULL;`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<RecipientEvent>(recipientEventTypes);
    const statements = {
      register: db.prepare(
        `INSERT INTO recipients (recipient_id, username, password_hash, registered_at)
         VALUES (@recipientId, @username, @passwordHash, @at) ON CONFLICT (recipient_id) DO NOTHING`,
      ),
      // A legacy Bark device set again keeps its place and its time of adding, as in the aggregate.
      addDevice: db.prepare(
        `INSERT INTO devices (recipient_id, device_id, kind, name, settings, secrets, clear_secrets,
           fingerprint, broken, added_at, ordinal)
         VALUES (@recipientId, @deviceId, @kind, @name, @settings, @secrets, @clearSecrets, @fingerprint,
           NULL, @addedAt,
           (SELECT coalesce(max(ordinal), 0) + 1 FROM devices WHERE recipient_id = @recipientId))
         ON CONFLICT (recipient_id, device_id) DO UPDATE SET name = excluded.name,
           settings = excluded.settings, secrets = excluded.secrets,
           clear_secrets = excluded.clear_secrets, fingerprint = excluded.fingerprint, broken = NULL`,
      ),
      updateDevice: db.prepare(
        `UPDATE devices SET name = @name, settings = @settings, secrets = @secrets, clear_secrets = '{}',
           fingerprint = @fingerprint, broken = NULL
         WHERE recipient_id = @recipientId AND device_id = @deviceId`,
      ),
      removeDevice: db.prepare(
        'DELETE FROM devices WHERE recipient_id = @recipientId AND device_id = @deviceId',
      ),
      deviceBroken: db.prepare(
        'UPDATE devices SET broken = @reason WHERE recipient_id = @recipientId AND device_id = @deviceId',
      ),
      legacyBarkBroken: db.prepare(
        `UPDATE devices SET broken = @reason WHERE recipient_id = @recipientId AND device_id = '${LEGACY_BARK_DEVICE_ID}'
           AND json_extract(clear_secrets, '$.deviceKey') = @deviceKey`,
      ),
      startSession: db.prepare(
        `INSERT INTO sessions (session_hash, recipient_id, expires_at) VALUES (@sessionHash, @recipientId, @expiresAt)
         ON CONFLICT (session_hash) DO NOTHING`,
      ),
      // Expired sessions of the same person go when a new one starts, as in the aggregate.
      pruneSessions: db.prepare(
        'DELETE FROM sessions WHERE recipient_id = @recipientId AND expires_at <= @startedAt',
      ),
      endSession: db.prepare('DELETE FROM sessions WHERE session_hash = @sessionHash'),
      setPreferences: db.prepare(
        `INSERT INTO preferences (recipient_id, locale, time_zone, quiet_hours, digest)
         VALUES (@recipientId, @locale, @timeZone, @quietHours, @digest)
         ON CONFLICT (recipient_id) DO UPDATE SET locale = excluded.locale,
           time_zone = excluded.time_zone, quiet_hours = excluded.quiet_hours, digest = excluded.digest`,
      ),
      erasePreferences: db.prepare('DELETE FROM preferences WHERE recipient_id = @recipientId'),
      eraseRecipient: db.prepare('DELETE FROM recipients WHERE recipient_id = @recipientId'),
      eraseDevices: db.prepare('DELETE FROM devices WHERE recipient_id = @recipientId'),
      eraseSessions: db.prepare('DELETE FROM sessions WHERE recipient_id = @recipientId'),
    };
    return (recorded) => {
      const event = read(recorded);
      switch (event.type) {
        case 'RecipientRegistered':
          // A deleted person's account (its username erased) is deleted again further on: it
          // must not take the place of the next erased username meanwhile.
          if (event.data.username === ERASED) return;
          statements.register.run({ ...event.data, at: recorded.metadata.occurredAt });
          return;
        case 'RecipientBarkDeviceSet': {
          const { recipientId, serverUrl, deviceKey } = event.data;
          statements.addDevice.run({
            recipientId,
            deviceId: LEGACY_BARK_DEVICE_ID,
            kind: 'bark',
            name: 'Bark',
            settings: JSON.stringify({ serverUrl }),
            secrets: '{}',
            clearSecrets: JSON.stringify({ deviceKey }),
            fingerprint: legacyBarkFingerprint(serverUrl, deviceKey),
            addedAt: recorded.metadata.occurredAt,
          });
          return;
        }
        case 'RecipientBarkDeviceRemoved':
          statements.removeDevice.run({ ...event.data, deviceId: LEGACY_BARK_DEVICE_ID });
          return;
        case 'RecipientBarkDeviceBroken':
          statements.legacyBarkBroken.run(event.data);
          return;
        case 'RecipientDeviceAdded':
          statements.addDevice.run({
            ...event.data,
            settings: JSON.stringify(event.data.settings),
            secrets: JSON.stringify(event.data.secrets),
            clearSecrets: '{}',
          });
          return;
        case 'RecipientDeviceUpdated':
          statements.updateDevice.run({
            ...event.data,
            settings: JSON.stringify(event.data.settings),
            secrets: JSON.stringify(event.data.secrets),
          });
          return;
        case 'RecipientDeviceRemoved':
          statements.removeDevice.run(event.data);
          return;
        case 'RecipientDeviceBroken':
          statements.deviceBroken.run(event.data);
          return;
        case 'RecipientSessionStarted':
          statements.pruneSessions.run(event.data);
          statements.startSession.run(event.data);
          return;
        case 'RecipientSessionEnded':
          statements.endSession.run(event.data);
          return;
        case 'RecipientPreferencesSet': {
          const { locale, timeZone, quietHours, digest } = event.data.preferences;
          statements.setPreferences.run({
            recipientId: event.data.recipientId,
            locale,
            timeZone,
            quietHours: quietHours === null ? null : JSON.stringify(quietHours),
            digest: digest === null ? null : JSON.stringify(digest),
          });
          return;
        }
        case 'RecipientErased':
          statements.erasePreferences.run(event.data);
          // Deleted: no account, session or device is left (the username stays taken: its stream
          // is the deleted account's).
          statements.eraseSessions.run(event.data);
          statements.eraseDevices.run(event.data);
          statements.eraseRecipient.run(event.data);
          return;
        case 'RecipientDataErased':
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

import type { RecipientEvent } from '../../domain/recipient/recipientEvents.js';
import { recipientEventTypes } from '../../domain/recipient/recipientEvents.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';

/** A row of the `recipients` read model. */
export interface RecipientRow {
  readonly recipient_id: string;
  readonly username: string;
  readonly password_hash: string;
  readonly bark_server_url: string | null;
  readonly bark_device_key: string | null;
  /** Why Bark refused the device key for good; null while it works (or there is none). */
  readonly bark_broken: string | null;
  readonly registered_at: string;
}

/** A row of the `sessions` read model: an open login, found by the hash of its cookie. */
export interface SessionRow {
  readonly session_hash: string;
  readonly recipient_id: string;
  readonly expires_at: string;
}

/** People (looked up by username at login) and their open sessions (looked up per request). */
export const recipientsProjection: Projection = {
  name: 'recipients',
  version: 2,
  eventTypes: recipientEventTypes,
  tables: ['recipients', 'sessions'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS recipients (
      recipient_id    TEXT PRIMARY KEY,
      username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash   TEXT NOT NULL,
      bark_server_url TEXT,
      bark_device_key TEXT,
      bark_broken     TEXT,
      registered_at   TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS sessions (
      session_hash TEXT PRIMARY KEY,
      recipient_id TEXT NOT NULL,
      expires_at   TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_by_recipient ON sessions (recipient_id);`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<RecipientEvent>(recipientEventTypes);
    const statements = {
      register: db.prepare(
        `INSERT INTO recipients (recipient_id, username, password_hash, registered_at)
         VALUES (@recipientId, @username, @passwordHash, @at) ON CONFLICT (recipient_id) DO NOTHING`,
      ),
      setBark: db.prepare(
        'UPDATE recipients SET bark_server_url = @serverUrl, bark_device_key = @deviceKey, bark_broken = NULL WHERE recipient_id = @recipientId',
      ),
      removeBark: db.prepare(
        'UPDATE recipients SET bark_server_url = NULL, bark_device_key = NULL, bark_broken = NULL WHERE recipient_id = @recipientId',
      ),
      barkBroken: db.prepare(
        'UPDATE recipients SET bark_broken = @reason WHERE recipient_id = @recipientId AND bark_device_key = @deviceKey',
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
    };
    return (recorded) => {
      const event = read(recorded);
      switch (event.type) {
        case 'RecipientRegistered':
          statements.register.run({ ...event.data, at: recorded.metadata.occurredAt });
          return;
        case 'RecipientBarkDeviceSet':
          statements.setBark.run(event.data);
          return;
        case 'RecipientBarkDeviceRemoved':
          statements.removeBark.run(event.data);
          return;
        case 'RecipientBarkDeviceBroken':
          statements.barkBroken.run(event.data);
          return;
        case 'RecipientSessionStarted':
          statements.pruneSessions.run(event.data);
          statements.startSession.run(event.data);
          return;
        case 'RecipientSessionEnded':
          statements.endSession.run(event.data);
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

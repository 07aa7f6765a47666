import type { StoredDevice } from '../../domain/recipient/recipientDevices.js';
import {
  DEFAULT_PREFERENCES,
  isLocale,
  type Digest,
  type Preferences,
} from '../../domain/recipient/recipientPreferences.js';
import type { ReadModelDb } from '../readModelDb.js';
import type {
  DeviceRow,
  PreferencesRow,
  RecipientRow,
  SessionRow,
} from './recipientsProjection.js';

/** A person's account as the `recipients` read model holds it; their devices are read apart. */
export type RecipientAccount = Pick<
  RecipientRow,
  'recipient_id' | 'username' | 'password_hash' | 'registered_at'
>;

/**
 * One device of a person as the read model holds it: the aggregate's own shape, with the time it
 * was added (for the legacy Bark device, the time of its first event).
 */
export type DeviceView = Omit<StoredDevice, 'addedAt'> & { readonly createdAt: string };

/** Reads of the `recipients`, `devices` and `sessions` read models. */
export interface RecipientQueries {
  byId(recipientId: string): RecipientAccount | undefined;
  byUsername(username: string): RecipientAccount | undefined;
  /** The person's devices in the order they added them; none without an account. */
  devices(recipientId: string): readonly DeviceView[];
  /** One device of the person, or undefined (someone else's device is undefined too). */
  device(recipientId: string, deviceId: string): DeviceView | undefined;
  /** The open, unexpired session with this hash, with its person. */
  session(sessionHash: string, now: string): (SessionRow & { username: string }) | undefined;
  /** What the person chose; {@link DEFAULT_PREFERENCES} for one who chose nothing yet. */
  preferences(recipientId: string): Preferences;
}

/** A daily digest time: `at` (`HH:MM`) in `timeZone` (null: the person chose none, so UTC). */
export interface DigestSchedule {
  readonly timeZone: string | null;
  readonly at: string;
}

/** A person who chose a daily digest, with all they chose. */
export interface DigestSubscriber {
  readonly recipientId: string;
  readonly preferences: Preferences & { readonly digest: Digest };
}

const ACCOUNT = 'recipient_id, username, password_hash, registered_at';

/** A device row read back as the generic view (the only place that knows the columns). */
const deviceOf = (row: DeviceRow): DeviceView => ({
  deviceId: row.device_id,
  kind: row.kind,
  name: row.name,
  settings: JSON.parse(row.settings) as DeviceView['settings'],
  secrets: JSON.parse(row.secrets) as DeviceView['secrets'],
  clearSecrets: JSON.parse(row.clear_secrets) as DeviceView['clearSecrets'],
  fingerprint: row.fingerprint,
  ...(row.broken === null ? {} : { broken: row.broken }),
  createdAt: row.added_at,
});

/** A preferences row read back (the only place that knows its columns). */
const preferencesOf = (row: PreferencesRow): Preferences => ({
  locale: isLocale(row.locale) ? row.locale : null,
  timeZone: row.time_zone,
  quietHours:
    row.quiet_hours === null ? null : (JSON.parse(row.quiet_hours) as Preferences['quietHours']),
  digest: row.digest === null ? null : (JSON.parse(row.digest) as Preferences['digest']),
});

/** The queries over the embedded read-model database. */
export const recipientQueries = (db: ReadModelDb): RecipientQueries => {
  const byId = db.prepare<[string], RecipientAccount>(
    `SELECT ${ACCOUNT} FROM recipients WHERE recipient_id = ?`,
  );
  const byUsername = db.prepare<[string], RecipientAccount>(
    `SELECT ${ACCOUNT} FROM recipients WHERE username = ?`,
  );
  const devices = db.prepare<[string], DeviceRow>(
    'SELECT * FROM devices WHERE recipient_id = ? ORDER BY ordinal',
  );
  const device = db.prepare<[string, string], DeviceRow>(
    'SELECT * FROM devices WHERE recipient_id = ? AND device_id = ?',
  );
  const session = db.prepare<[string, string], SessionRow & { username: string }>(
    `SELECT s.*, r.username FROM sessions s JOIN recipients r USING (recipient_id)
     WHERE s.session_hash = ? AND s.expires_at > ?`,
  );
  const preferences = db.prepare<[string], PreferencesRow>(
    'SELECT * FROM preferences WHERE recipient_id = ?',
  );
  return {
    byId: (recipientId) => byId.get(recipientId),
    byUsername: (username) => byUsername.get(username),
    devices: (recipientId) => devices.all(recipientId).map(deviceOf),
    device: (recipientId, deviceId) => {
      const row = device.get(recipientId, deviceId);
      return row === undefined ? undefined : deviceOf(row);
    },
    session: (sessionHash, now) => session.get(sessionHash, now),
    preferences: (recipientId) => {
      const row = preferences.get(recipientId);
      return row === undefined ? DEFAULT_PREFERENCES : preferencesOf(row);
    },
  };
};

/** Reads of the `preferences` read model for the daily digest (application/digest). */
export interface DigestSubscriberQueries {
  /** Every daily digest time someone chose, each (time zone, time) once. */
  digestSchedules(): readonly DigestSchedule[];
  /** The people whose daily digest is at `schedule`, with all they chose. */
  digestsAt(schedule: DigestSchedule): readonly DigestSubscriber[];
}

/** The digest's queries over the embedded read-model database. */
export const digestSubscriberQueries = (db: ReadModelDb): DigestSubscriberQueries => {
  // `digest` is JSON `{ at, deviceId }`. Distinct schedules are few (at most 1,440 per time
  // zone), so the digest step reads these each minute, and a schedule's people only when due.
  const schedules = db.prepare<[], DigestSchedule>(
    `SELECT DISTINCT time_zone AS timeZone, json_extract(digest, '$.at') AS at
     FROM preferences WHERE digest IS NOT NULL`,
  );
  const subscribers = db.prepare<[string | null, string], PreferencesRow>(
    `SELECT * FROM preferences
     WHERE digest IS NOT NULL AND time_zone IS ? AND json_extract(digest, '$.at') = ?`,
  );
  return {
    digestSchedules: () => schedules.all(),
    digestsAt: ({ timeZone, at }) =>
      subscribers.all(timeZone, at).flatMap((row) => {
        const chosen = preferencesOf(row);
        return chosen.digest === null
          ? []
          : [{ recipientId: row.recipient_id, preferences: { ...chosen, digest: chosen.digest } }];
      }),
  };
};

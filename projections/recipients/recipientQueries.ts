import { devicesOf, type Device } from '../../domain/recipient/recipientDevices.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { RecipientRow, SessionRow } from './recipientsProjection.js';

/**
 * A person's account as the `recipients` read model holds it, without the device columns: their
 * devices are read through {@link RecipientQueries.devices}, whatever their kind.
 */
export type RecipientAccount = Pick<
  RecipientRow,
  'recipient_id' | 'username' | 'password_hash' | 'registered_at'
>;

/** Reads of the `recipients` and `sessions` read models. */
export interface RecipientQueries {
  byId(recipientId: string): RecipientAccount | undefined;
  byUsername(username: string): RecipientAccount | undefined;
  /**
   * The person's devices, one generic view each (kind, settings, broken); none for a person
   * without devices or without an account.
   */
  devices(recipientId: string): readonly Device[];
  /** The open, unexpired session with this hash, with its person. */
  session(sessionHash: string, now: string): (SessionRow & { username: string }) | undefined;
}

const ACCOUNT = 'recipient_id, username, password_hash, registered_at';

type DeviceColumns = Pick<RecipientRow, 'bark_server_url' | 'bark_device_key' | 'bark_broken'>;

/** The row's device columns read as the devices they store (the only place that knows them). */
const devicesOfRow = (row: DeviceColumns | undefined): readonly Device[] =>
  row?.bark_server_url == null || row.bark_device_key === null
    ? []
    : devicesOf({
        bark: {
          serverUrl: row.bark_server_url,
          deviceKey: row.bark_device_key,
          ...(row.bark_broken === null ? {} : { broken: row.bark_broken }),
        },
      });

export const recipientQueries = (db: ReadModelDb): RecipientQueries => {
  const byId = db.prepare<[string], RecipientAccount>(
    `SELECT ${ACCOUNT} FROM recipients WHERE recipient_id = ?`,
  );
  const byUsername = db.prepare<[string], RecipientAccount>(
    `SELECT ${ACCOUNT} FROM recipients WHERE username = ?`,
  );
  const devices = db.prepare<[string], DeviceColumns>(
    'SELECT bark_server_url, bark_device_key, bark_broken FROM recipients WHERE recipient_id = ?',
  );
  const session = db.prepare<[string, string], SessionRow & { username: string }>(
    `SELECT s.*, r.username FROM sessions s JOIN recipients r USING (recipient_id)
     WHERE s.session_hash = ? AND s.expires_at > ?`,
  );
  return {
    byId: (recipientId) => byId.get(recipientId),
    byUsername: (username) => byUsername.get(username),
    devices: (recipientId) => devicesOfRow(devices.get(recipientId)),
    session: (sessionHash, now) => session.get(sessionHash, now),
  };
};

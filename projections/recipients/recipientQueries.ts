import type { ReadModelDb } from '../readModelDb.js';
import type { RecipientRow, SessionRow } from './recipientsProjection.js';

/** Reads of the `recipients` and `sessions` read models. */
export interface RecipientQueries {
  byId(recipientId: string): RecipientRow | undefined;
  byUsername(username: string): RecipientRow | undefined;
  /** The open, unexpired session with this hash, with its person. */
  session(sessionHash: string, now: string): (SessionRow & { username: string }) | undefined;
}

export const recipientQueries = (db: ReadModelDb): RecipientQueries => {
  const byId = db.prepare<[string], RecipientRow>(
    'SELECT * FROM recipients WHERE recipient_id = ?',
  );
  const byUsername = db.prepare<[string], RecipientRow>(
    'SELECT * FROM recipients WHERE username = ?',
  );
  const session = db.prepare<[string, string], SessionRow & { username: string }>(
    `SELECT s.*, r.username FROM sessions s JOIN recipients r USING (recipient_id)
     WHERE s.session_hash = ? AND s.expires_at > ?`,
  );
  return {
    byId: (recipientId) => byId.get(recipientId),
    byUsername: (username) => byUsername.get(username),
    session: (sessionHash, now) => session.get(sessionHash, now),
  };
};

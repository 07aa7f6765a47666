import type { ReadModelDb } from '../readModelDb.js';
import type { ComplaintRow } from './complaintsProjection.js';

export type ComplaintStatus = ComplaintRow['status'];

/** Reads of the complaints read model. */
export interface ComplaintQueries {
  byId(complaintId: string): ComplaintRow | undefined;
  /** Complaints in a status, oldest first (the operator's queue). */
  withStatus(status: ComplaintStatus, limit: number): ComplaintRow[];
  ofRecipient(recipientId: string): ComplaintRow[];
  /** Upheld complaints against an app, newest first. */
  upheldAgainst(appId: string): ComplaintRow[];
}

export const complaintQueries = (db: ReadModelDb): ComplaintQueries => {
  const byId = db.prepare<[string], ComplaintRow>(
    'SELECT * FROM complaints WHERE complaint_id = ?',
  );
  const withStatus = db.prepare<[string, number], ComplaintRow>(
    'SELECT * FROM complaints WHERE status = ? ORDER BY filed_at, complaint_id LIMIT ?',
  );
  const ofRecipient = db.prepare<[string], ComplaintRow>(
    'SELECT * FROM complaints WHERE recipient_id = ? ORDER BY filed_at DESC, complaint_id',
  );
  const upheld = db.prepare<[string], ComplaintRow>(
    "SELECT * FROM complaints WHERE app_id = ? AND status = 'upheld' ORDER BY decided_at DESC, complaint_id",
  );
  return {
    byId: (complaintId) => byId.get(complaintId),
    withStatus: (status, limit) => withStatus.all(status, limit),
    ofRecipient: (recipientId) => ofRecipient.all(recipientId),
    upheldAgainst: (appId) => upheld.all(appId),
  };
};

import type { ReadModelDb } from '../readModelDb.js';
import type { ComplaintRow } from './complaintsProjection.js';

export type ComplaintStatus = ComplaintRow['status'];

/** A complaint as a surge counts it: which one, by whom, when. */
export type CountedComplaint = Pick<ComplaintRow, 'complaint_id' | 'recipient_id' | 'filed_at'>;

/** Reads of the complaints read model. */
export interface ComplaintQueries {
  byId(complaintId: string): ComplaintRow | undefined;
  /** Complaints in a status, oldest first (the operator's queue). */
  withStatus(status: ComplaintStatus, limit: number): ComplaintRow[];
  ofRecipient(recipientId: string): ComplaintRow[];
  /** Upheld complaints against an app, newest first. */
  upheldAgainst(appId: string): ComplaintRow[];
  /**
   * Complaints against an app filed from `since` to `until` (both included) that still count
   * towards a surge, oldest first: withdrawn and dismissed ones do not (the person took theirs
   * back, or an operator found it unjustified).
   */
  countingAgainst(appId: string, since: string, until: string): CountedComplaint[];
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
  const counting = db.prepare<[string, string, string], CountedComplaint>(
    `SELECT complaint_id, recipient_id, filed_at FROM complaints
     WHERE app_id = ? AND filed_at >= ? AND filed_at <= ? AND status IN ('open', 'upheld')
     ORDER BY filed_at`,
  );
  return {
    byId: (complaintId) => byId.get(complaintId),
    withStatus: (status, limit) => withStatus.all(status, limit),
    ofRecipient: (recipientId) => ofRecipient.all(recipientId),
    upheldAgainst: (appId) => upheld.all(appId),
    countingAgainst: (appId, since, until) => counting.all(appId, since, until),
  };
};

import type { ComplaintRow } from '../../projections/complaints/complaintsProjection.js';

/** A complaint as the API shows it to the person who filed it (and, with more, to operators). */
export interface ComplaintFacts {
  readonly complaintId: string;
  readonly messageId: string;
  readonly appId: string;
  readonly category: ComplaintRow['category'];
  readonly reason: string;
  readonly status: ComplaintRow['status'];
  readonly severity: ComplaintRow['severity'];
  /** The operator's note on the decision. */
  readonly note: string | null;
  readonly filedAt: string;
  readonly decidedAt: string | null;
}

/** A complaints read-model row as {@link ComplaintFacts}. */
export const complaintFactsOf = (row: ComplaintRow): ComplaintFacts => ({
  complaintId: row.complaint_id,
  messageId: row.message_id,
  appId: row.app_id,
  category: row.category,
  reason: row.reason,
  status: row.status,
  severity: row.severity,
  note: row.note,
  filedAt: row.filed_at,
  decidedAt: row.decided_at,
});

import type { ComplaintEvent } from '../../domain/complaint/complaintEvents.js';
import { complaintEventTypes } from '../../domain/complaint/complaintEvents.js';
import type { ReadModelDb } from '../readModelDb.js';
import type { Projection } from '../projection.js';
import { eventReader } from '../storedEvent.js';
import type { RecipientDataErased } from '../../domain/recipient/recipientEvents.js';
import { DATA_ERASED_EVENT, ERASED } from '../../domain/shared/hashChain.js';

/** A row of the `complaints` read model. */
export interface ComplaintRow {
  readonly complaint_id: string;
  readonly message_id: string;
  readonly app_id: string;
  readonly recipient_id: string;
  readonly category: 'spam' | 'fraud' | 'abuse' | 'other';
  readonly reason: string;
  readonly status: 'open' | 'upheld' | 'dismissed' | 'withdrawn';
  readonly severity: 'minor' | 'major' | 'severe' | null;
  readonly note: string | null;
  readonly filed_at: string;
  readonly decided_at: string | null;
}

/** Complaints as operators review them and as an app's standing counts them. */
export const complaintsProjection: Projection = {
  name: 'complaints',
  version: 1,
  // An erasure of a person's data erases the texts of the complaints they wrote.
  eventTypes: [...complaintEventTypes, DATA_ERASED_EVENT],
  tables: ['complaints'],
  setup: (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS complaints (
      complaint_id TEXT PRIMARY KEY,
      message_id   TEXT NOT NULL,
      app_id       TEXT NOT NULL,
      recipient_id TEXT NOT NULL,
      category     TEXT NOT NULL,
      reason       TEXT NOT NULL,
      status       TEXT NOT NULL,
      severity     TEXT,
      note         TEXT,
      filed_at     TEXT NOT NULL,
      decided_at   TEXT
    );
    CREATE INDEX IF NOT EXISTS complaints_by_app ON complaints (app_id, status);
    CREATE INDEX IF NOT EXISTS complaints_by_status ON complaints (status, filed_at);
    -- Every inbox row is checked for an open complaint of its person (messageQueries.ts,
    -- NOT_COMPLAINED): without this the check scans every complaint, once per row of a page.
    -- IF NOT EXISTS: a folder made before it gets it at its next start, without a rebuild.
    CREATE INDEX IF NOT EXISTS complaints_by_message ON complaints (message_id, recipient_id);`);
  },
  bind: (db: ReadModelDb) => {
    const read = eventReader<ComplaintEvent | RecipientDataErased>([
      ...complaintEventTypes,
      DATA_ERASED_EVENT,
    ]);
    const statements = {
      // Filing again after a withdrawal reopens the same complaint (same stream, same id).
      file: db.prepare(
        `INSERT INTO complaints (complaint_id, message_id, app_id, recipient_id, category, reason, status,
           severity, note, filed_at, decided_at)
         VALUES (@complaintId, @messageId, @appId, @recipientId, @category, @reason, 'open', NULL, NULL, @at, NULL)
         ON CONFLICT (complaint_id) DO UPDATE SET category = excluded.category, reason = excluded.reason,
           status = 'open', severity = NULL, note = NULL, filed_at = excluded.filed_at, decided_at = NULL`,
      ),
      decide: db.prepare(
        `UPDATE complaints SET status = @status, severity = @severity, note = @note, decided_at = @at
         WHERE complaint_id = @complaintId`,
      ),
      erase: db.prepare(
        `UPDATE complaints SET reason = '${ERASED}' WHERE recipient_id = @recipientId`,
      ),
    };
    return (recorded) => {
      const event = read(recorded);
      const at = recorded.metadata.occurredAt;
      switch (event.type) {
        case 'ComplaintFiled':
          statements.file.run({ ...event.data, at });
          return;
        case 'ComplaintUpheld':
          statements.decide.run({
            complaintId: event.data.complaintId,
            status: 'upheld',
            severity: event.data.severity,
            note: event.data.note ?? null,
            at,
          });
          return;
        case 'ComplaintDismissed':
          statements.decide.run({
            complaintId: event.data.complaintId,
            status: 'dismissed',
            severity: null,
            note: event.data.note ?? null,
            at,
          });
          return;
        case 'ComplaintWithdrawn':
          statements.decide.run({
            complaintId: event.data.complaintId,
            status: 'withdrawn',
            severity: null,
            note: null,
            at,
          });
          return;
        case 'RecipientDataErased':
          statements.erase.run(event.data);
          return;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    };
  },
};

/** Counts of an app's complaints by outcome, as `GET /v1/admin/apps/:appId` reports them. */
export const complaintCounts = (
  db: ReadModelDb,
): ((appId: string) => { open: number; upheld: number; dismissed: number }) => {
  const statement = db.prepare<[string], { status: string; n: number }>(
    'SELECT status, count(*) AS n FROM complaints WHERE app_id = ? GROUP BY status',
  );
  return (appId) => {
    const counts = { open: 0, upheld: 0, dismissed: 0 };
    for (const row of statement.all(appId)) {
      if (row.status === 'open' || row.status === 'upheld' || row.status === 'dismissed')
        counts[row.status] = row.n;
    }
    return counts;
  };
};

import { SYSTEM_APP_ID } from '../../domain/app/systemApp.js';
import type { ReadModelDb } from '../readModelDb.js';

/** One of the newest messages of an app in a digest. */
export interface DigestHeadline {
  readonly messageId: string;
  readonly title: string | null;
  /** The start of its body (at most 200 characters). */
  readonly body: string;
  readonly inboxAt: string;
}

/** One app's weak messages in a digest's window. */
export interface DigestApp {
  readonly appId: string;
  readonly appName: string;
  /** How many of its weak messages the window holds. */
  readonly count: number;
  /** Its newest ones, newest first. */
  readonly newest: readonly DigestHeadline[];
}

/** Reads of the messages read model for the daily digest (application/digest). */
export interface DigestQueries {
  /**
   * The weak messages (`inbox_only = 'weak'`: inbox only because the person set the app to weak)
   * that reached the person's inbox in `[from, until)` and are still there (not archived,
   * recalled or complained about), by app: the apps with the most first (then the most recent),
   * each with its count and its `perApp` newest. The built-in app's own messages (test pushes,
   * digests) are left out.
   */
  weakMessages(
    recipientId: string,
    from: string,
    until: string,
    perApp: number,
  ): readonly DigestApp[];
}

interface DigestRow {
  readonly app_id: string;
  readonly app_name: string;
  readonly app_count: number;
  readonly message_id: string;
  readonly title: string | null;
  readonly body: string;
  readonly inbox_at: string;
}

export const digestQueries = (db: ReadModelDb): DigestQueries => {
  // Through the inbox index (recipient_id, inbox_at): only the person's messages of the window
  // are read, and only the newest few of each app leave the database.
  const weak = db.prepare<
    {
      recipientId: string;
      from: string;
      until: string;
      perApp: number;
      systemAppId: string;
    },
    DigestRow
  >(
    `SELECT app_id, app_name, app_count, message_id, title, body, inbox_at FROM (
       SELECT m.app_id, a.name AS app_name, m.message_id, m.title, substr(m.body, 1, 200) AS body,
         m.inbox_at,
         count(*) OVER (PARTITION BY m.app_id) AS app_count,
         max(m.inbox_at) OVER (PARTITION BY m.app_id) AS app_newest,
         row_number() OVER (PARTITION BY m.app_id ORDER BY m.inbox_at DESC, m.message_id DESC) AS place
       FROM messages m INDEXED BY messages_inbox JOIN apps a ON a.app_id = m.app_id
       WHERE m.recipient_id = @recipientId AND m.inbox_at >= @from AND m.inbox_at < @until
         AND m.inbox_only = 'weak' AND m.app_id <> @systemAppId
         AND m.archived_at IS NULL AND m.status <> 'recalled'
         AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.message_id = m.message_id
           AND c.recipient_id = m.recipient_id AND c.status <> 'withdrawn'))
     WHERE place <= @perApp
     ORDER BY app_count DESC, app_newest DESC, app_id, place`,
  );
  return {
    weakMessages: (recipientId, from, until, perApp) => {
      const apps = new Map<string, DigestApp & { newest: DigestHeadline[] }>();
      for (const row of weak.all({
        recipientId,
        from,
        until,
        perApp,
        systemAppId: SYSTEM_APP_ID,
      })) {
        const headline: DigestHeadline = {
          messageId: row.message_id,
          title: row.title,
          body: row.body,
          inboxAt: row.inbox_at,
        };
        const app = apps.get(row.app_id);
        if (app === undefined) {
          apps.set(row.app_id, {
            appId: row.app_id,
            appName: row.app_name,
            count: row.app_count,
            newest: [headline],
          });
        } else {
          app.newest.push(headline);
        }
      }
      // The rows come app by app, in the apps' order: the map keeps it.
      return [...apps.values()];
    },
  };
};

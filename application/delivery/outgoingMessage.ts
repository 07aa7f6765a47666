import type { OutgoingMessage } from '../../channels/channel.js';
import type { Locale } from '../../domain/recipient/recipientPreferences.js';
import { translateCount } from '../i18n/catalogue.js';

/** The fields of a read-model row of the message and its app that a push is made of. */
export interface OutgoingRow {
  message_id: string;
  app_id: string;
  app_name: string;
  recipient_id: string;
  title: string | null;
  subtitle: string | null;
  body: string;
  url: string | null;
  thread: string | null;
  level: 'active' | 'timeSensitive' | 'passive' | null;
  /** A deferred push released for this many of the app's messages (quiet hours ended). */
  push_summary_of?: number | null;
}

/** The start of a message as the summary names it: its title, else the start of its body. */
const LATEST_MAX = 80;

/**
 * What a channel is given to deliver, from a read-model row of the message and its app. A push
 * that stands for several messages that waited for the end of quiet hours is a summary in the
 * person's language (`localeOf`, asked only then): the app's name as the title, how many and the latest one's title
 * as the body, with the latest message's id (a recall of it withdraws the summary too) and link.
 */
export const outgoing = (
  row: OutgoingRow,
  localeOf: () => Locale = () => 'en',
): OutgoingMessage => {
  const summaryOf = row.push_summary_of ?? 1;
  const base = {
    messageId: row.message_id,
    appId: row.app_id,
    appName: row.app_name,
    recipientId: row.recipient_id,
    ...(row.url === null ? {} : { url: row.url }),
    ...(row.thread === null ? {} : { thread: row.thread }),
    ...(row.level === null ? {} : { level: row.level }),
  };
  if (summaryOf > 1) {
    const latest = row.title ?? row.body;
    return {
      ...base,
      title: row.app_name,
      body: translateCount(localeOf(), 'quietSummary.body', summaryOf, {
        latest: latest.length > LATEST_MAX ? `${latest.slice(0, LATEST_MAX - 1)}…` : latest,
      }),
    };
  }
  return {
    ...base,
    body: row.body,
    ...(row.title === null ? {} : { title: row.title }),
    ...(row.subtitle === null ? {} : { subtitle: row.subtitle }),
  };
};

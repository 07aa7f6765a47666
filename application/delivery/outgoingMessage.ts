import type { OutgoingMessage } from '../../channels/channel.js';

/** What a channel is given to deliver, from a read-model row of the message and its app. */
export const outgoing = (row: {
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
}): OutgoingMessage => ({
  messageId: row.message_id,
  appId: row.app_id,
  appName: row.app_name,
  recipientId: row.recipient_id,
  body: row.body,
  ...(row.title === null ? {} : { title: row.title }),
  ...(row.subtitle === null ? {} : { subtitle: row.subtitle }),
  ...(row.url === null ? {} : { url: row.url }),
  ...(row.thread === null ? {} : { thread: row.thread }),
  ...(row.level === null ? {} : { level: row.level }),
});

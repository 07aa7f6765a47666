import type { OutgoingMessage, RecallTarget } from '../channel.js';

/** The event types a receiver gets (docs/webhook.md); once published they are never renamed. */
export type WebhookEventType = 'message.created' | 'message.recalled';

/** `data` of a `message.created` event: the message as the app sent it, empty fields left out. */
export interface MessageCreatedData {
  readonly messageId: string;
  readonly appId: string;
  readonly appName: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly body: string;
  readonly url?: string;
  readonly thread?: string;
  readonly level?: 'active' | 'timeSensitive' | 'passive';
}

/** `data` of a `message.recalled` event: which message the app took back, none of its content. */
export interface MessageRecalledData {
  readonly messageId: string;
  readonly appId: string;
  readonly thread?: string;
}

/**
 * An event as render builds it. The body's `timestamp` is added by send, at the time of the
 * attempt, because render has no clock and a retry hours later must not look hours old.
 */
export type WebhookEvent =
  | { readonly id: string; readonly type: 'message.created'; readonly data: MessageCreatedData }
  | { readonly id: string; readonly type: 'message.recalled'; readonly data: MessageRecalledData };

const present = (text: string | undefined): text is string => text !== undefined && text !== '';

const levels: ReadonlySet<string> = new Set(['active', 'timeSensitive', 'passive']);

/**
 * The `webhook-id` of a message's delivery, `msg_<messageId>`: the same on every retry, so the
 * receiver can drop a repeat. A recall is another event, `rcl_<messageId>`.
 */
export const webhookIdOf = (type: WebhookEventType, messageId: string): string => {
  switch (type) {
    case 'message.created':
      return `msg_${messageId}`;
    case 'message.recalled':
      return `rcl_${messageId}`;
    default: {
      const _exhaustive: never = type;
      return _exhaustive;
    }
  }
};

/** The `message.created` event of a message. Pure. */
export const createdEvent = (message: OutgoingMessage): WebhookEvent => ({
  id: webhookIdOf('message.created', message.messageId),
  type: 'message.created',
  data: {
    messageId: message.messageId,
    appId: message.appId,
    appName: message.appName,
    ...(present(message.title) ? { title: message.title } : {}),
    ...(present(message.subtitle) ? { subtitle: message.subtitle } : {}),
    body: message.body,
    ...(present(message.url) ? { url: message.url } : {}),
    ...(message.thread !== undefined && message.thread.trim() !== ''
      ? { thread: message.thread }
      : {}),
    ...(message.level !== undefined && levels.has(message.level) ? { level: message.level } : {}),
  },
});

/** The `message.recalled` event of a message. Pure. */
export const recalledEvent = (target: RecallTarget): WebhookEvent => ({
  id: webhookIdOf('message.recalled', target.messageId),
  type: 'message.recalled',
  data: {
    messageId: target.messageId,
    appId: target.appId,
    ...(target.thread !== undefined && target.thread.trim() !== ''
      ? { thread: target.thread }
      : {}),
  },
});

/**
 * The exact body bytes of an attempt at `at`: `{ id, type, timestamp, data }` with `timestamp` in
 * ISO 8601 (UTC, milliseconds), the same instant as the `webhook-timestamp` header.
 */
export const bodyOf = (event: WebhookEvent, at: Date): string =>
  JSON.stringify({ id: event.id, type: event.type, timestamp: at.toISOString(), data: event.data });

import { createHash } from 'node:crypto';
import type { CallbackData } from '../../domain/callback/callbackEvents.js';
import type { CallbackEventType } from '../../domain/callback/callbackEventTypes.js';

/**
 * The id of the callback that reports the stored event `eventId`: `msg_` and 24 base64url
 * characters of its SHA-256. It is the `webhook-id` of every attempt and the body's `id`, the
 * same however often the event is seen, so a receiver can drop repeats by it.
 */
export const callbackDeliveryId = (eventId: string): string =>
  `msg_${createHash('sha256').update(eventId, 'utf8').digest('base64url').slice(0, 24)}`;

/** The body of a callback, as docs/api.md "App callbacks" defines it. */
export interface CallbackBody {
  readonly type: CallbackEventType;
  readonly id: string;
  readonly occurredAt: string;
  readonly data: CallbackData;
}

/** The exact bytes POSTed (and signed): the body as JSON, members in this order. */
export const callbackBodyText = (body: CallbackBody): string =>
  JSON.stringify({ type: body.type, id: body.id, occurredAt: body.occurredAt, data: body.data });

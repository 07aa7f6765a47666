import * as t from 'io-ts';
import { parseDeliveryTarget } from '../../../domain/delivery/deliveryTarget.js';
import { INBOX_CHANNEL } from '../../../domain/message/messageEvents.js';
import type { DeliveryRow } from '../../../projections/messages/messagesProjection.js';

/**
 * One delivery of a message as the API shows it: `channel` is the kind (`inbox`, `bark`, …) and,
 * for a device, `deviceId` names which of the person's devices (an extension of docs/api.md).
 */
export const DeliveryView = t.intersection(
  [
    t.type({ channel: t.string, status: t.string, attempts: t.number }),
    t.partial({
      deviceId: t.string,
      lastError: t.string,
      deliveredAt: t.string,
      retryAt: t.string,
    }),
  ],
  'Delivery',
);

/** A delivery row as {@link DeliveryView}. */
export const deliveryView = (row: DeliveryRow): t.TypeOf<typeof DeliveryView> => {
  const target = parseDeliveryTarget(row.channel);
  return {
    ...(target === INBOX_CHANNEL
      ? { channel: INBOX_CHANNEL }
      : { channel: target.kind, deviceId: target.deviceId }),
    status: row.status,
    attempts: row.attempts,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.delivered_at === null ? {} : { deliveredAt: row.delivered_at }),
    ...(row.retry_at === null ? {} : { retryAt: row.retry_at }),
  };
};

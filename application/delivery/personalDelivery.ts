import { parseDeliveryTarget } from '../../domain/delivery/deliveryTarget.js';
import { INBOX_CHANNEL } from '../../domain/message/messageEvents.js';
import type { DeliveryRow } from '../../projections/messages/messagesProjection.js';

/** When a delivery delivered, failed last and tries next, as far as each is known. */
export interface DeliveryTimes {
  readonly lastError?: string;
  readonly deliveredAt?: string;
  readonly retryAt?: string;
}

/**
 * One delivery of a message as the person it went to sees it (their test pushes, their export):
 * `channel` is the kind (`inbox`, `bark`, …) and, for a device, `deviceId` names which of their
 * devices.
 */
export interface PersonalDelivery extends DeliveryTimes {
  readonly channel: string;
  readonly deviceId?: string;
  readonly status: DeliveryRow['status'];
  readonly attempts: number;
}

/** The times of a delivery row, each only when there is one. */
export const deliveryTimesOf = (row: DeliveryRow): DeliveryTimes => ({
  ...(row.last_error === null ? {} : { lastError: row.last_error }),
  ...(row.delivered_at === null ? {} : { deliveredAt: row.delivered_at }),
  ...(row.retry_at === null ? {} : { retryAt: row.retry_at }),
});

/** A delivery row as {@link PersonalDelivery}. */
export const personalDeliveryOf = (row: DeliveryRow): PersonalDelivery => {
  const target = parseDeliveryTarget(row.channel);
  return {
    ...(target === INBOX_CHANNEL
      ? { channel: INBOX_CHANNEL }
      : { channel: target.kind, deviceId: target.deviceId }),
    status: row.status,
    attempts: row.attempts,
    ...deliveryTimesOf(row),
  };
};

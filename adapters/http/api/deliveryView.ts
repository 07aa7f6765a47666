import * as t from 'io-ts';
import { parseDeliveryTarget } from '../../../domain/delivery/deliveryTarget.js';
import { INBOX_CHANNEL } from '../../../domain/message/messageEvents.js';
import { deviceReference } from '../../../application/delivery/deviceReference.js';
import {
  deliveryTimesOf,
  personalDeliveryOf,
} from '../../../application/delivery/personalDelivery.js';
import type { DeliveryRow } from '../../../projections/messages/messagesProjection.js';

const DeliveryFacts = t.type({ channel: t.string, status: t.string, attempts: t.number });
const DeliveryTimes = t.partial({ lastError: t.string, deliveredAt: t.string, retryAt: t.string });

/**
 * One delivery of a message as the person sees it (their test pushes): `channel` is the kind
 * (`inbox`, `bark`, …) and, for a device, `deviceId` names which of their devices.
 */
export const DeliveryView = t.intersection(
  [DeliveryFacts, t.partial({ deviceId: t.string }), DeliveryTimes],
  'Delivery',
);

/**
 * One delivery of a message as its app sees it (`GET /v1/messages/:id`): `channel` is the kind
 * and, for a device, `device` is an opaque reference to it (an extension of docs/api.md), never
 * the person's device id.
 */
export const AppDeliveryView = t.intersection(
  [DeliveryFacts, t.partial({ device: t.string }), DeliveryTimes],
  'AppDelivery',
);

/** A delivery row as {@link DeliveryView}, for the person whose devices they are. */
export const deliveryView: (row: DeliveryRow) => t.TypeOf<typeof DeliveryView> = personalDeliveryOf;

/** A delivery row as {@link AppDeliveryView}, for the app of the binding `bindingId`. */
export const appDeliveryView =
  (bindingId: string) =>
  (row: DeliveryRow): t.TypeOf<typeof AppDeliveryView> => {
    const target = parseDeliveryTarget(row.channel);
    return {
      ...(target === INBOX_CHANNEL
        ? { channel: INBOX_CHANNEL }
        : { channel: target.kind, device: deviceReference(bindingId, target.deviceId) }),
      status: row.status,
      attempts: row.attempts,
      ...deliveryTimesOf(row),
    };
  };

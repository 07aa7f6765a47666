import { INBOX_CHANNEL } from '../message/messageEvents.js';

/** A device delivery target read back: the channel kind that serves it and the device it goes to. */
export interface DeviceTarget {
  readonly kind: string;
  readonly deviceId: string;
}

/**
 * Where one delivery of a message goes, as the Message events name it in their `channel` field
 * (MessageRouted.channels, MessageDelivered.channel, …): the person's inbox, or one device.
 */
export type DeliveryTarget = typeof INBOX_CHANNEL | DeviceTarget;

/**
 * The target of one device: `<kind>:<deviceId>`. A device whose id is its kind (the Bark device
 * of the logs written before devices were generic, id `bark`) keeps the bare kind it was always
 * routed under, so its deliveries read the same before and after an upgrade. Kinds hold no
 * colon (channels/registry.ts), so the first colon always separates the two.
 */
export const deviceTarget = (kind: string, deviceId: string): string =>
  kind === deviceId ? kind : `${kind}:${deviceId}`;

/**
 * Reads a target of the Message events: `inbox`, `<kind>:<deviceId>`, or a bare kind (the old
 * logs' `bark`), which names the device of that kind whose id is the kind itself. The only
 * place that parses targets; everything else asks here.
 */
export const parseDeliveryTarget = (target: string): DeliveryTarget => {
  if (target === INBOX_CHANNEL) return INBOX_CHANNEL;
  const colon = target.indexOf(':');
  return colon < 0
    ? { kind: target, deviceId: target }
    : { kind: target.slice(0, colon), deviceId: target.slice(colon + 1) };
};

/** The channel kind of a target: `inbox` for the inbox, the device's kind otherwise. */
export const kindOfTarget = (target: string): string => {
  const parsed = parseDeliveryTarget(target);
  return parsed === INBOX_CHANNEL ? INBOX_CHANNEL : parsed.kind;
};

import * as t from 'io-ts';
import { parseDeliveryTarget } from '../../../domain/delivery/deliveryTarget.js';
import { INBOX_CHANNEL } from '../../../domain/message/messageEvents.js';
import type {
  DeviceDelivery,
  InboxDeliveryFacts,
} from '../../../projections/messages/deliveryQueries.js';
import type { MessageRow } from '../../../projections/messages/messagesProjection.js';
import type { DeviceView } from '../../../projections/recipients/recipientQueries.js';

/** Why no device push went out for an inbox message (docs/api.md, "Person's preferences"). */
export const NoPushReason = t.keyof(
  {
    weak: null,
    muted: null,
    quiet_hours: null,
    push_budget: null,
    no_device: null,
    device_broken: null,
  },
  'NoPushReason',
);
export type NoPushReason = t.TypeOf<typeof NoPushReason>;

/** One device push of an inbox message; `name` (an extension) while the device still exists. */
export const InboxDeviceDelivery = t.intersection(
  [
    t.type({
      deviceId: t.string,
      kind: t.string,
      status: t.keyof({ pending: null, delivered: null, failed: null, abandoned: null }),
    }),
    t.partial({ at: t.string, name: t.string }),
  ],
  'InboxDeviceDelivery',
);

/** A device of the person that a channel refused for good (projections/recipients `broken`). */
const BrokenDevice = t.type(
  { deviceId: t.string, kind: t.string, name: t.string },
  'InboxBrokenDevice',
);

/**
 * Where an inbox message was pushed, and, when it was not, why. Beyond docs/api.md's
 * `{ devices, reason? }` (extensions, each only with its reason): `mutedUntil`, the end of the
 * app's mute; `quietUntil`, when the push held back by quiet hours follows; `quietOutcome`, what
 * became of it once they ended when it did not go out itself (`merged` into one summary push of
 * the app's newest waiting message, or `dropped` because the app was muted, blocked or unbound
 * meanwhile); `brokenDevices`, the devices that no longer take pushes.
 */
export const InboxDelivery = t.intersection(
  [
    t.type({ devices: t.array(InboxDeviceDelivery) }),
    t.partial({
      reason: NoPushReason,
      mutedUntil: t.string,
      quietUntil: t.string,
      quietOutcome: t.keyof({ merged: null, dropped: null }),
      brokenDevices: t.array(BrokenDevice),
    }),
  ],
  'InboxDelivery',
);
export type InboxDelivery = t.TypeOf<typeof InboxDelivery>;

/**
 * The quiet-hours columns of `messages`: `push_deferred_until`, when the quiet hours a push
 * waited for end, and `push_outcome` once they ended (`released`, `merged`, `dropped`).
 */
export type QuietHoursColumns = Pick<MessageRow, 'push_deferred_until' | 'push_outcome'>;

type Explanation = Omit<InboxDelivery, 'devices'>;

const brokenView = (device: DeviceView): t.TypeOf<typeof BrokenDevice> => ({
  deviceId: device.deviceId,
  kind: device.kind,
  name: device.name,
});

/**
 * The router found no device to push to: when the person does have devices for this app (the
 * binding's chosen ones, else all) and every one of them is broken, the fix is to repair one,
 * not to add one.
 */
const noDevice = (
  facts: InboxDeliveryFacts | undefined,
  devices: readonly DeviceView[],
): Explanation => {
  const chosen = facts?.chosenDevices ?? null;
  const relevant =
    chosen === null ? devices : devices.filter((device) => chosen.includes(device.deviceId));
  return relevant.length > 0 && relevant.every((device) => device.broken !== undefined)
    ? { reason: 'device_broken', brokenDevices: relevant.map(brokenView) }
    : { reason: 'no_device' };
};

/** Every push was given up, and (some of) those devices are now marked broken: that is why. */
const abandonedOnBroken = (
  pushes: readonly { readonly deviceId: string; readonly status: string }[],
  devices: ReadonlyMap<string, DeviceView>,
): Explanation => {
  if (pushes.length === 0 || pushes.some((push) => push.status !== 'abandoned')) return {};
  const broken = [...new Set(pushes.map((push) => push.deviceId))].flatMap((deviceId) => {
    const device = devices.get(deviceId);
    return device?.broken === undefined ? [] : [brokenView(device)];
  });
  return broken.length === 0 ? {} : { reason: 'device_broken', brokenDevices: broken };
};

/** Quiet hours held the push back: waiting still, or what became of it when they ended. */
const quietHours = (message: QuietHoursColumns, released: () => Explanation): Explanation => {
  switch (message.push_outcome) {
    case 'released':
      return released();
    case 'merged':
    case 'dropped':
      return { reason: 'quiet_hours', quietOutcome: message.push_outcome };
    default: {
      const until = message.push_deferred_until;
      return { reason: 'quiet_hours', ...(until === null ? {} : { quietUntil: until }) };
    }
  }
};

const pushView = (
  row: DeviceDelivery,
  devices: ReadonlyMap<string, DeviceView>,
): t.TypeOf<typeof InboxDeviceDelivery> | undefined => {
  const target = parseDeliveryTarget(row.channel);
  if (target === INBOX_CHANNEL) return undefined;
  const at = row.delivered_at ?? row.retry_at;
  const name = devices.get(target.deviceId)?.name;
  return {
    deviceId: target.deviceId,
    kind: target.kind,
    status: row.status,
    ...(at === null ? {} : { at }),
    ...(name === undefined ? {} : { name }),
  };
};

/**
 * The `delivery` of one inbox item: its device pushes, and why there was none. The router's
 * `inbox_only` says why it chose the inbox only (`over_budget` is the API's `push_budget`), read
 * together with what is true now: a `no_device` person whose devices are all broken is
 * `device_broken`, as is a message whose every push was abandoned on a device now broken.
 */
export const inboxDelivery = (
  message: Pick<MessageRow, 'inbox_only'> & QuietHoursColumns,
  facts: InboxDeliveryFacts | undefined,
  devices: readonly DeviceView[],
): InboxDelivery => {
  const byId = new Map(devices.map((device) => [device.deviceId, device]));
  const pushes = (facts?.devices ?? []).flatMap((row) => pushView(row, byId) ?? []);
  const pushed = (): Explanation => abandonedOnBroken(pushes, byId);
  const explanation = ((): Explanation => {
    switch (message.inbox_only) {
      case 'weak':
        return { reason: 'weak' };
      case 'muted': {
        const until = facts?.mutedUntil ?? null;
        return { reason: 'muted', ...(until === null ? {} : { mutedUntil: until }) };
      }
      case 'over_budget':
        return { reason: 'push_budget' };
      case 'no_device':
        return noDevice(facts, devices);
      case 'quiet_hours':
        return quietHours(message, pushed);
      default:
        // Routed to devices (or an inbox-only reason this build does not know).
        return pushed();
    }
  })();
  return { devices: pushes, ...explanation };
};

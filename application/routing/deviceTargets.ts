import type { ChannelRegistry } from '../../channels/registry.js';
import { deviceTarget } from '../../domain/delivery/deliveryTarget.js';
import type { StoredDevice } from '../../domain/recipient/recipientDevices.js';

/** Which of the person's devices a message may reach, besides being working ones. */
export interface DeviceChoice {
  /** The devices the binding names (`PATCH /v1/me/apps/:id` `devices`); absent means all. */
  readonly chosen?: readonly string[];
  /** The one device the message itself names (a device's test push); it overrides `chosen`. */
  readonly only?: string;
}

/**
 * The delivery targets of a strong message: one per device of the person that works (not marked
 * broken), whose channel this server has, and that the choice lets through, in the person's
 * order. A device of a kind the server does not have (a plugin taken out) is left out, as a
 * broken one is, so the router never plans a delivery that no channel could make.
 */
export const deviceTargetsOf = (
  devices: readonly StoredDevice[],
  channels: ChannelRegistry,
  choice: DeviceChoice = {},
): readonly string[] =>
  devices
    .filter(
      (device) =>
        device.broken === undefined &&
        channels.get(device.kind) !== undefined &&
        (choice.only === undefined
          ? choice.chosen === undefined || choice.chosen.includes(device.deviceId)
          : choice.only === device.deviceId),
    )
    .map((device) => deviceTarget(device.kind, device.deviceId));

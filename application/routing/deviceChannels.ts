import type { ChannelRegistry } from '../../channels/registry.js';
import type { Device } from '../../domain/recipient/recipientDevices.js';

/**
 * The device channels a strong message goes to: the kind of every device of the person that works
 * and whose channel this server has, once per kind, in the person's order. A device of a kind the
 * server does not have (a plugin taken out) is left out, as a broken one is, so the router never
 * plans a delivery that no channel could make.
 */
export const deviceChannelsOf = (
  devices: readonly Device[],
  channels: ChannelRegistry,
): readonly string[] => [
  ...new Set(
    devices
      .filter((device) => device.broken === undefined && channels.get(device.kind) !== undefined)
      .map((device) => device.kind),
  ),
];

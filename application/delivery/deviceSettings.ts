import type { Channel } from '../../channels/channel.js';
import type { DeviceSettings } from '../../domain/recipient/recipientDevices.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';

/**
 * The person's settings for the device a channel serves, from the recipients read model: `{}` for
 * a channel that declares no settings (it needs no device of theirs), undefined when the person
 * has no device of that kind or the channel refused it for good.
 */
export const deviceSettings = (
  recipients: RecipientQueries,
  channel: Channel,
  recipientId: string,
): DeviceSettings | undefined => {
  if (channel.settings.length === 0) return {};
  const device = recipients.devices(recipientId).find(({ kind }) => kind === channel.kind);
  return device === undefined || device.broken !== undefined ? undefined : device.settings;
};

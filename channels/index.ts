import { barkChannel } from './bark/barkChannel.js';
import type { Channel } from './channel.js';
import { inboxChannel } from './inbox/inboxChannel.js';
import { createChannelRegistry } from './registry.js';
import { webhookChannel } from './webhook/webhookChannel.js';
import type { ChannelRegistry } from './registry.js';

/**
 * The channels every Tidings instance has, in the order they are listed. Channels that need the
 * operator's settings are not here: `sms` joins only when its gateway is configured
 * (`createSmsChannel(settings.sms)`, channels/sms/smsChannel.ts).
 */
export const builtInChannels: readonly Channel[] = [inboxChannel, barkChannel, webhookChannel];

/**
 * A registry of the built-in channels followed by `plugins`. A plugin that declares a built-in
 * kind (or two plugins of one kind) is refused with the kind named, like any duplicate.
 */
export const createBuiltInRegistry = (plugins: readonly Channel[] = []): ChannelRegistry =>
  createChannelRegistry([...builtInChannels, ...plugins]);

/** The registry of the built-in channels alone. */
export const builtInRegistry: ChannelRegistry = createBuiltInRegistry();

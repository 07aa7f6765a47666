import { barkChannel } from './bark/barkChannel.js';
import type { Channel } from './channel.js';
import { inboxChannel } from './inbox/inboxChannel.js';
import { ntfyChannel } from './ntfy/ntfyChannel.js';
import { createChannelRegistry } from './registry.js';
import type { ChannelRegistry } from './registry.js';

/** The channels every Tidings instance has, in the order they are listed. */
export const builtInChannels: readonly Channel[] = [inboxChannel, barkChannel, ntfyChannel];

/**
 * A registry of the built-in channels followed by `plugins`. A plugin that declares a built-in
 * kind (or two plugins of one kind) is refused with the kind named, like any duplicate.
 */
export const createBuiltInRegistry = (plugins: readonly Channel[] = []): ChannelRegistry =>
  createChannelRegistry([...builtInChannels, ...plugins]);

/** The registry of the built-in channels alone. */
export const builtInRegistry: ChannelRegistry = createBuiltInRegistry();

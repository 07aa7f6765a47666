import type { ChannelContext } from '../channels/channel.js';
import type { ChannelRegistry } from '../channels/registry.js';

/** The delivery channels and what they are given to send with (docs/plugins.md). */
export interface ChannelSetup {
  readonly channels: ChannelRegistry;
  readonly context: ChannelContext;
}

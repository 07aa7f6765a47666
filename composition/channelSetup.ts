import type { ChannelContext } from '../channels/channel.js';
import type { ChannelRegistry } from '../channels/registry.js';
import type { SecretBox } from '../application/shared/secretBox.js';

/** The delivery channels and what they are given to send with (docs/plugins.md). */
export interface ChannelSetup {
  readonly channels: ChannelRegistry;
  readonly context: ChannelContext;
  /** Seals devices' secret settings when they are saved and opens them just before a push. */
  readonly secrets: SecretBox;
}

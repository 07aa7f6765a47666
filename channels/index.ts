import { barkChannel } from './bark/barkChannel.js';
import type { Channel } from './channel.js';
import { inboxChannel } from './inbox/inboxChannel.js';
import { ntfyChannel } from './ntfy/ntfyChannel.js';
import { createChannelRegistry } from './registry.js';
import { createSmsChannel, type SmsChannelOptions } from './sms/smsChannel.js';
import { webhookChannel } from './webhook/webhookChannel.js';
import type { ChannelRegistry } from './registry.js';

/**
 * The channels every Tidings instance has, in the order they are listed. Channels that need the
 * operator's settings are not here: `sms` joins only when its gateway is configured
 * (`createSmsChannel(settings.sms)`, channels/sms/smsChannel.ts).
 */
export const builtInChannels: readonly Channel[] = [
  inboxChannel,
  barkChannel,
  ntfyChannel,
  webhookChannel,
];

/**
 * The kinds Tidings keeps for its own channels (PLUGINS.md: inbox, bark, ntfy, email, sms,
 * webhook), whether or not the operator configured the ones that need it: a plugin may declare
 * none of them, so a device made for a built-in kind never changes meaning when SMTP or an SMS
 * gateway is set up later.
 */
export const builtInKinds: readonly string[] = ['inbox', 'bark', 'ntfy', 'email', 'sms', 'webhook'];

/** What the operator configured for the built-in channels that need it (the server's settings are one). */
export interface ConfiguredChannelOptions {
  /** The SMS gateway (`TIDINGS_SMS_GATEWAY_URL`, `TIDINGS_SMS_GATEWAY_TOKEN`). */
  readonly sms?: SmsChannelOptions;
}

/**
 * The built-in channels that exist only when configured: `sms` when a gateway is set, nothing
 * otherwise. The server passes them with the plugins:
 * `createBuiltInRegistry([...configuredChannels(settings), ...plugins])`.
 */
export const configuredChannels = (options: ConfiguredChannelOptions): readonly Channel[] =>
  options.sms === undefined ? [] : [createSmsChannel(options.sms)];

/**
 * A registry of the built-in channels followed by `plugins`. A plugin that declares a built-in
 * kind (or two plugins of one kind) is refused with the kind named, like any duplicate.
 */
export const createBuiltInRegistry = (plugins: readonly Channel[] = []): ChannelRegistry =>
  createChannelRegistry([...builtInChannels, ...plugins]);

/** The registry of the built-in channels alone. */
export const builtInRegistry: ChannelRegistry = createBuiltInRegistry();

import * as E from 'fp-ts/lib/Either.js';
import type {
  Channel,
  ChannelContext,
  SendOutcome,
  SettingValues,
} from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import { maskSecretValues, secretValuesOf } from '../../channels/secretMask.js';
import { INBOX_CHANNEL } from '../../domain/message/messageEvents.js';
import { parseDeliveryTarget } from '../../domain/delivery/deliveryTarget.js';
import type {
  DeviceView,
  RecipientQueries,
} from '../../projections/recipients/recipientQueries.js';
import type { SecretBox } from '../shared/secretBox.js';
import { openSettings } from '../devices/deviceValues.js';

/** A device delivery target resolved: the channel, the device, and its settings opened. */
export interface ResolvedDevice {
  readonly channel: Channel;
  readonly device: DeviceView;
  /** Every setting in clear, secrets included: hand it to the channel, never to a log. */
  readonly settings: SettingValues;
}

/** What resolving a target needs: the channels, the person's devices, and the secrets' key. */
export interface DeviceLookup {
  readonly channels: ChannelRegistry;
  readonly recipients: RecipientQueries;
  readonly secrets: SecretBox;
}

/**
 * The channel and the device a delivery target (`<kind>:<deviceId>`, domain/delivery) names, as
 * they are now, with the device's secrets opened just before they are used; or why there is
 * nothing to send to: no channel of that kind, the device removed or broken since the routing,
 * or secrets this server's key cannot open.
 */
export const deviceOfTarget = (
  lookup: DeviceLookup,
  recipientId: string,
  target: string,
): E.Either<string, ResolvedDevice> => {
  const parsed = parseDeliveryTarget(target);
  if (parsed === INBOX_CHANNEL) return E.left('the inbox is not a device');
  const channel = lookup.channels.get(parsed.kind);
  if (channel === undefined) return E.left(`no channel of kind ${parsed.kind} is installed`);
  // These reasons become the delivery's lastError, which the app reads: they name the kind of
  // device, never its id (an id seen by two apps would link one person across them).
  const device = lookup.recipients.device(recipientId, parsed.deviceId);
  if (device === undefined) return E.left(`the person's ${parsed.kind} device was removed`);
  if (device.broken !== undefined) {
    return E.left(`the person's ${parsed.kind} device is marked broken`);
  }
  try {
    return E.right({ channel, device, settings: openSettings(device, lookup.secrets) });
  } catch {
    // A key that does not match the log (a data folder restored without its key file): only
    // saving the device again helps. The error itself is not passed on: it may quote the value.
    return E.left(
      `the secrets of the person's ${parsed.kind} device cannot be opened with this server's key; the person must save the device again`,
    );
  }
};

/**
 * Renders a request with the device's opened settings and sends it: a channel that throws
 * instead of answering counts as a failed attempt, and the reason of whatever comes back has the
 * device's secrets masked, as given and percent-encoded: an answer or a library error may quote
 * the request, and the reason goes into the log (where the app reads it) and the server's log.
 */
export const sendToDevice = async (
  resolved: ResolvedDevice,
  render: (channel: Channel, settings: SettingValues) => unknown,
  context: ChannelContext,
): Promise<SendOutcome> => {
  const { channel, settings } = resolved;
  let outcome: SendOutcome;
  try {
    outcome = await channel.send(render(channel, settings), context);
  } catch (error) {
    outcome = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
  return outcome.kind === 'delivered'
    ? outcome
    : { ...outcome, reason: maskSecretValues(outcome.reason, secretValuesOf(channel, settings)) };
};

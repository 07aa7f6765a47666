import * as E from 'fp-ts/lib/Either.js';
import type { Channel, SettingValues } from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import type { SettingProblem } from '../../channels/settingsValidation.js';
import { INBOX_CHANNEL } from '../../domain/message/messageEvents.js';
import { domainError } from '../../domain/shared/domainError.js';
import type {
  DeviceView,
  RecipientQueries,
} from '../../projections/recipients/recipientQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Refusal } from '../shared/refusal.js';
import type { SecretBox } from '../shared/secretBox.js';

/**
 * The save-time half of the outbound guard: why `url` may not be reached (a sentence and the
 * guard's reason), or undefined when it may. The HTTP adapter gives the SSRF guard's.
 */
export type DestinationCheck = (
  url: string,
) => Promise<{ readonly detail: string; readonly reason: string } | undefined>;

/** What saving and removing devices need. */
export interface DeviceDeps {
  /** The command bus that waits for the read models: the saved device is read back at once. */
  readonly commands: CommandBus;
  readonly recipients: RecipientQueries;
  readonly channels: ChannelRegistry;
  readonly secrets: SecretBox;
  readonly ids: Ids;
  readonly checkDestination: DestinationCheck;
  /** Random bytes for a generated setting (a webhook's signing secret). */
  readonly randomBytes: (size: number) => Uint8Array;
}

/** A device as saved, and a generated secret to show once, when one was made. */
export interface SavedDevice {
  readonly device: DeviceView;
  readonly secret?: string;
}

/** 400 `validation_failed` naming each field. */
export const invalidSettings = (problems: readonly SettingProblem[]): Refusal =>
  domainError('validation_failed', problems.map((p) => `${p.path} ${p.message}`).join('; '), {
    errors: problems,
  });

/** The channel of a device kind; the inbox is not a device kind, and neither is a missing one. */
export const deviceChannel = (
  channels: ChannelRegistry,
  kind: string,
): E.Either<Refusal, Channel> => {
  const channel = kind === INBOX_CHANNEL ? undefined : channels.get(kind);
  return channel === undefined
    ? E.left(
        invalidSettingsAt(
          '/kind',
          `is not a device kind of this server (${deviceKinds(channels)})`,
        ),
      )
    : E.right(channel);
};

const invalidSettingsAt = (path: string, message: string): Refusal =>
  invalidSettings([{ path, message }]);

/** The kinds a person can add a device of: every registered channel but the inbox. */
export const deviceKinds = (channels: ChannelRegistry): string =>
  channels.kinds.filter((kind) => kind !== INBOX_CHANNEL).join(', ');

/**
 * Every `url` setting through the outbound guard (docs/plugins.md): the first refused one is
 * 400 `forbidden_destination` naming its field. The delivery checks again at connect time.
 */
export const checkDestinations = async (
  check: DestinationCheck,
  channel: Channel,
  values: SettingValues,
): Promise<E.Either<Refusal, void>> => {
  for (const setting of channel.settings) {
    const value = values[setting.name];
    if (setting.type !== 'url' || typeof value !== 'string') continue;
    const refused = await check(value);
    if (refused !== undefined) {
      return E.left({
        code: 'forbidden_destination',
        message: refused.detail,
        details: {
          reason: refused.reason,
          errors: [{ path: `/settings/${setting.name}`, message: refused.detail }],
        },
      });
    }
  }
  return E.right(undefined);
};

/** The device just written, read back (the bus waited for the read model). */
export const readBack = (
  recipients: RecipientQueries,
  recipientId: string,
  deviceId: string,
): DeviceView => {
  const device = recipients.device(recipientId, deviceId);
  if (device === undefined)
    throw new Error(`device ${deviceId} is missing right after it was saved`);
  return device;
};

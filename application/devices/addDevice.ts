import * as E from 'fp-ts/lib/Either.js';
import { validateSettings } from '../../channels/settingsValidation.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import {
  checkDestinations,
  deviceChannel,
  invalidSettings,
  readBack,
  type DeviceDeps,
  type SavedDevice,
} from './deviceDeps.js';
import { sealValues } from './deviceValues.js';

/** What a person asks to add (`POST /v1/me/devices`). */
export interface NewDevice {
  readonly kind: string;
  /** Shown in their device list; the channel's own name when absent. */
  readonly name?: string;
  readonly settings: unknown;
}

/** The longest device name. */
export const MAX_DEVICE_NAME = 64;

/**
 * Adds a device (docs/api.md "Devices"): the settings are checked against what the channel
 * declares, every `url` setting passes the outbound guard, a generated setting is made, the
 * secret ones are sealed before they reach a command, and the new id comes from `Ids`
 * (`dev_` and 22 base64url characters). Answers the device and, once, a generated secret.
 */
export const addDevice =
  (deps: DeviceDeps) =>
  async (
    recipientId: string,
    request: NewDevice,
    call: Invocation,
  ): Promise<E.Either<Refusal, SavedDevice>> => {
    const channel = deviceChannel(deps.channels, request.kind);
    if (E.isLeft(channel)) return channel;
    const valid = validateSettings(channel.right, request.settings, undefined, deps.randomBytes);
    if (E.isLeft(valid)) return E.left(invalidSettings(valid.left));
    const { values, generated } = valid.right;
    const guarded = await checkDestinations(deps.checkDestination, channel.right, values);
    if (E.isLeft(guarded)) return guarded;
    const deviceId = deps.ids.random('dev_');
    const added = await deps.commands.execute(
      'recipient',
      recipientId,
      {
        type: 'AddDevice',
        data: {
          recipientId,
          deviceId,
          kind: channel.right.kind,
          name: request.name ?? channel.right.name.slice(0, MAX_DEVICE_NAME),
          ...sealValues(channel.right, values, deps.secrets),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(added)) return added;
    const device = readBack(deps.recipients, recipientId, deviceId);
    return E.right(generated === undefined ? { device } : { device, secret: generated.value });
  };

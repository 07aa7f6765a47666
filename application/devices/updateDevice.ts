import * as E from 'fp-ts/lib/Either.js';
import { validateSettings } from '../../channels/settingsValidation.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import {
  checkDestinations,
  invalidSettings,
  readBack,
  type DeviceDeps,
  type SavedDevice,
} from './deviceDeps.js';
import { openEachSetting, sealValues } from './deviceValues.js';

/** What a person changes about a device (`PATCH /v1/me/devices/:deviceId`). */
export interface DeviceChange {
  readonly name?: string;
  /** Merged over the stored settings: one left out, or a secret sent as `********`, is kept. */
  readonly settings?: unknown;
}

/**
 * Saves a device again: the given settings over the stored ones, checked and guarded as when it
 * was added, sealed anew. Saving a broken device clears the mark (the person says it works);
 * saving it unchanged otherwise writes nothing. Another person's device is `not_found`.
 *
 * A secret sealed under another key (the data folder's key was replaced) is refused unless the
 * change gives it again (`validation_failed` naming it); a generated one is made anew and
 * answered once as `secret`.
 */
export const updateDevice =
  (deps: DeviceDeps) =>
  async (
    recipientId: string,
    deviceId: string,
    change: DeviceChange,
    call: Invocation,
  ): Promise<E.Either<Refusal, SavedDevice>> => {
    const device = deps.recipients.device(recipientId, deviceId);
    if (device === undefined) {
      return E.left(domainError('not_found', `no device ${deviceId}`, { deviceId }));
    }
    const channel = deps.channels.get(device.kind);
    if (channel === undefined) {
      return E.left(
        domainError('illegal_state', `this server has no channel of kind ${device.kind} any more`),
      );
    }
    // Secrets sealed under another key (device-secrets.key replaced) cannot be kept: the person
    // must enter each again, and a generated one is made anew.
    const previous = openEachSetting(device, deps.secrets);
    const valid = validateSettings(
      channel,
      change.settings ?? {},
      previous.values,
      deps.randomBytes,
      previous.unreadable,
    );
    if (E.isLeft(valid)) return E.left(invalidSettings(valid.left));
    const { values, generated } = valid.right;
    const guarded = await checkDestinations(deps.checkDestination, channel, values);
    if (E.isLeft(guarded)) return guarded;
    const updated = await deps.commands.execute(
      'recipient',
      recipientId,
      {
        type: 'UpdateDevice',
        data: {
          recipientId,
          deviceId,
          name: change.name ?? device.name,
          ...sealValues(channel, values, deps.secrets),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(updated)) return updated;
    const saved = readBack(deps.recipients, recipientId, deviceId);
    return E.right(
      generated === undefined ? { device: saved } : { device: saved, secret: generated.value },
    );
  };

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
import { openSettings, sealValues } from './deviceValues.js';

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
    let previous;
    try {
      previous = openSettings(device, deps.secrets);
    } catch {
      // Secrets sealed under another key: the person must type them again, as for a new device.
      previous = { ...device.settings };
    }
    const valid = validateSettings(channel, change.settings ?? {}, previous, deps.randomBytes);
    if (E.isLeft(valid)) return E.left(invalidSettings(valid.left));
    const { values } = valid.right;
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
    return E.right({ device: readBack(deps.recipients, recipientId, deviceId) });
  };

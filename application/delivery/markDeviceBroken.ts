import * as E from 'fp-ts/lib/Either.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../domain/shared/logger.js';
import type { CommandBus } from '../commandBus.js';

/** A channel's refusal of a person's device for good (`device_unknown`, docs/plugins.md). */
export interface DeviceRefusal {
  readonly recipientId: string;
  readonly deviceId: string;
  /** The channel kind that refused the device (for the logs). */
  readonly kind: string;
  /** The fingerprint of the device configuration the refused push used. */
  readonly fingerprint: string;
  readonly reason: string;
  readonly now: Date;
}

/**
 * Marks the device a channel refused for good as broken (docs/plugins.md: `device_unknown`),
 * whatever its kind: the router then leaves it out until the person saves it again. Only the
 * configuration this push used is marked (the fingerprint says which), so a device saved again
 * meanwhile stays as it is. A failure to record that is logged; the next refused push tries again.
 */
export const markDeviceBroken = async (
  commands: CommandBus,
  logger: Logger,
  { recipientId, deviceId, kind, fingerprint, reason, now }: DeviceRefusal,
): Promise<void> => {
  const facts = { recipientId, deviceId, channel: kind };
  try {
    const result = await commands.execute(
      'recipient',
      recipientId,
      {
        type: 'MarkDeviceBroken',
        data: { recipientId, deviceId, fingerprint, reason },
        metadata: { now: now.toISOString() },
      },
      { commandId: `device-broken:${randomUUID()}`, actor: { kind: 'system', id: 'delivery' } },
    );
    if (E.isLeft(result)) {
      logger.warn('could not mark the device broken', { ...facts, code: result.left.code });
    } else if (result.right.events.length > 0) {
      logger.info('the channel refused the device for good; marked broken', { ...facts, reason });
    }
  } catch (error) {
    logger.error('could not mark the device broken', { ...facts, error });
  }
};

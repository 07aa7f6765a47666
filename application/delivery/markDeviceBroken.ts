import * as E from 'fp-ts/lib/Either.js';
import { randomUUID } from 'node:crypto';
import type { DeviceSettings } from '../../domain/recipient/recipientDevices.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { CommandBus } from '../commandBus.js';

/** A channel's refusal of a person's device for good (`device_unknown`, docs/plugins.md). */
export interface DeviceRefusal {
  readonly recipientId: string;
  /** The channel kind that refused the device. */
  readonly kind: string;
  /** The settings the refused push used: they name the device. */
  readonly settings: DeviceSettings;
  readonly reason: string;
  readonly now: Date;
}

/**
 * Marks the device a channel refused for good as broken (docs/plugins.md: `device_unknown`),
 * whatever its kind: the router then sends the person's strong messages to the inbox
 * only until they save the device again. Only the device this push used is marked, so one set
 * meanwhile stays as it is. A failure to record that is logged; the next refused push tries again.
 */
export const markDeviceBroken = async (
  commands: CommandBus,
  logger: Logger,
  { recipientId, kind, settings, reason, now }: DeviceRefusal,
): Promise<void> => {
  try {
    const result = await commands.execute(
      'recipient',
      recipientId,
      {
        type: 'MarkDeviceBroken',
        data: { recipientId, kind, settings, reason },
        metadata: { now: now.toISOString() },
      },
      { commandId: `device-broken:${randomUUID()}`, actor: { kind: 'system', id: 'delivery' } },
    );
    if (E.isLeft(result)) {
      logger.warn('could not mark the device broken', {
        recipientId,
        channel: kind,
        code: result.left.code,
      });
    } else if (result.right.events.length > 0) {
      logger.info('the channel refused the device for good; marked broken', {
        recipientId,
        channel: kind,
        reason,
      });
    }
  } catch (error) {
    logger.error('could not mark the device broken', { recipientId, channel: kind, error });
  }
};

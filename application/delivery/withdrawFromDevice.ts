import * as E from 'fp-ts/lib/Either.js';
import type { ChannelContext, RecallTarget } from '../../channels/channel.js';
import type { Logger } from '../../domain/shared/logger.js';
import { deviceOfTarget, sendToDevice, type DeviceLookup } from './deviceOfTarget.js';

/**
 * Takes a delivered message back from the device of one delivery target: the channel's recall
 * request (Bark: `delete=1` with the notification's id), if the channel can take messages back
 * and the person still has the device. A failure is logged and not retried: the notification is
 * already on the phone, and the inbox is the truth.
 */
export const withdrawFromDevice = async (
  lookup: DeviceLookup,
  target: string,
  message: RecallTarget,
  context: ChannelContext,
  logger: Logger,
): Promise<void> => {
  const resolved = deviceOfTarget(lookup, message.recipientId, target);
  if (E.isLeft(resolved)) return;
  const { channel, device } = resolved.right;
  if (channel.renderRecall === undefined) return;
  const outcome = await sendToDevice(
    resolved.right,
    (recalling, settings) => recalling.renderRecall?.(message, settings),
    context,
  );
  if (outcome.kind !== 'delivered') {
    logger.warn('recall not confirmed by the channel', {
      messageId: message.messageId,
      channel: channel.kind,
      deviceId: device.deviceId,
      outcome,
    });
  }
};

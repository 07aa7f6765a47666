import type { Channel, ChannelContext, RecallTarget, SendOutcome } from '../../channels/channel.js';
import type { Logger } from '../../domain/shared/logger.js';

/**
 * Takes a delivered message back from a device: the channel's recall request (Bark: `delete=1`
 * with the notification's id), if the channel can take messages back and the person still has the
 * device. A failure is logged and not retried: the notification is already on the phone,
 * and the inbox is the truth.
 */
export const withdrawFromDevice = async (
  channel: Channel,
  message: RecallTarget,
  settings: unknown,
  context: ChannelContext,
  logger: Logger,
): Promise<void> => {
  if (channel.renderRecall === undefined || settings === undefined) return;
  let outcome: SendOutcome;
  try {
    outcome = await channel.send(channel.renderRecall(message, settings), context);
  } catch (error) {
    outcome = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
  if (outcome.kind !== 'delivered') {
    logger.warn('recall not confirmed by the channel', {
      messageId: message.messageId,
      channel: channel.kind,
      outcome,
    });
  }
};

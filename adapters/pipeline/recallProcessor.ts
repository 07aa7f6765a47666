import type { ChannelContext } from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { Reactor } from '../../projections/processor.js';
import type { Logger } from '../logging/logger.js';
import { deviceSettings, outgoing, withdrawFromDevice } from './deliveryWorker.js';

export interface RecallProcessorOptions {
  readonly messages: MessageQueries;
  readonly apps: AppQueries;
  readonly recipients: RecipientQueries;
  readonly channels: ChannelRegistry;
  readonly context: ChannelContext;
  readonly logger: Logger;
}

/**
 * Takes a recalled message off the person's devices: for each device channel that delivered it,
 * the channel's recall request (Bark: `delete=1` with the same notification id). The inbox side
 * needs nothing here: the inbox read model hides recalled messages. Device channels that had not
 * delivered yet were given up by the recall itself, and a push already on its way when the recall
 * landed is withdrawn by the delivery worker. A recall that fails is logged and not retried for
 * ever: the notification is already on the phone, and the inbox is the truth.
 */
export const recallProcessor = (options: RecallProcessorOptions): Reactor => ({
  name: 'recall',
  eventTypes: ['MessageRecalled'],
  handle: async (recorded: RecordedEvent) => {
    const { messageId } = recorded.data as { messageId: string };
    const row = options.messages.byId(messageId);
    if (row === undefined) return;
    const app = options.apps.byId(row.app_id);
    const message = outgoing({ ...row, app_name: app?.name ?? row.app_id });
    for (const delivery of options.messages.deliveries(messageId)) {
      if (delivery.channel === 'inbox' || delivery.status !== 'delivered') continue;
      const channel = options.channels.get(delivery.channel);
      if (channel === undefined) continue;
      await withdrawFromDevice(
        channel,
        message,
        deviceSettings(options.recipients, delivery.channel, row.recipient_id),
        options.context,
        options.logger,
      );
    }
  },
});

import type { ChannelContext } from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import type { SecretBox } from '../shared/secretBox.js';
import type { EventStore, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { Reactor } from '../processing/processor.js';
import type { Logger } from '../../domain/shared/logger.js';
import { withdrawFromDevice } from './withdrawFromDevice.js';
import { loadState } from '../processing/streamState.js';

export interface RecallProcessorOptions {
  readonly store: EventStore;
  /** The process's folded states (see StateCache). */
  readonly cache?: StateCache;
  readonly apps: AppQueries;
  readonly recipients: RecipientQueries;
  readonly channels: ChannelRegistry;
  /** Opens the devices' secret settings just before the recall request. */
  readonly secrets: SecretBox;
  readonly context: ChannelContext;
  readonly logger: Logger;
}

/**
 * Takes a recalled message off the person's devices: for each device target that delivered it,
 * the channel's recall request (Bark: `delete=1` with the same notification id). Which channels
 * delivered comes from the Message aggregate itself, not from a read model that may not have
 * caught up with the last delivery yet. The inbox side needs nothing here: the inbox read model
 * hides recalled messages. Device channels that had not delivered yet were given up by the recall
 * itself, and a push already on its way when the recall landed is withdrawn by the delivery
 * worker. A recall that fails is logged and not retried for ever: the notification is already on
 * the phone, and the inbox is the truth.
 */
export const recallProcessor = (options: RecallProcessorOptions): Reactor => ({
  name: 'recall',
  eventTypes: ['MessageRecalled'],
  handle: async (recorded: RecordedEvent) => {
    const { messageId } = recorded.data as { messageId: string };
    const message = await loadState(options.store, 'message', messageId, options.cache);
    if (message.status === 'empty') return;
    const { appId, recipientId, thread } = message.submission;
    const target = {
      messageId,
      appId,
      appName: options.apps.byId(appId)?.name ?? appId,
      recipientId,
      ...(thread === undefined ? {} : { thread }),
    };
    // One device at a time: a recall is rare, and each is one short request.
    for (const delivered of message.deliveredDeviceChannels) {
      await withdrawFromDevice(options, delivered, target, options.context, options.logger);
    }
  },
});

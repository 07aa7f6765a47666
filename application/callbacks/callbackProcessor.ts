import * as E from 'fp-ts/lib/Either.js';
import type { AppPenalized, AppSuspended } from '../../domain/app/appEvents.js';
import type {
  BindingAuthorized,
  BindingReauthorized,
  BindingRevoked,
} from '../../domain/binding/bindingEvents.js';
import type { CallbackData } from '../../domain/callback/callbackEvents.js';
import type { CallbackEventType } from '../../domain/callback/callbackEventTypes.js';
import { parseDeliveryTarget } from '../../domain/delivery/deliveryTarget.js';
import { OPERATOR_POLICY } from '../../domain/message/messageDecider.js';
import type {
  MessageDelivered,
  MessageDeliveryAbandoned,
  MessageRejected,
} from '../../domain/message/messageEvents.js';
import { INBOX_CHANNEL } from '../../domain/message/messageEvents.js';
import type { EventStore, RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { CommandBus } from '../commandBus.js';
import { deviceReference } from '../delivery/deviceReference.js';
import type { Reactor } from '../processing/processor.js';
import { reactionContext } from '../processing/reaction.js';
import { loadState } from '../processing/streamState.js';
import { callbackDeliveryId } from './callbackEvent.js';

export interface CallbackProcessorOptions {
  readonly store: EventStore;
  readonly cache?: StateCache;
  readonly commands: CommandBus;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** What one stored event tells an app: the callback type, for which app, and its data. */
interface Report {
  readonly appId: string;
  readonly type: CallbackEventType;
  readonly data: CallbackData;
}

/** The stored events a callback reports, and nothing else. */
export const callbackSourceTypes = [
  'BindingAuthorized',
  'BindingReauthorized',
  'BindingRevoked',
  'MessageDelivered',
  'MessageDeliveryAbandoned',
  'MessageRejected',
  'AppPenalized',
  'AppSuspended',
  'AppBanned',
  'AppReinstated',
  'AppSuspensionLifted',
] as const;

/**
 * Why a message was rejected, as its app may read it: the limits' and WeChat's reasons name a
 * field, a limit or a label; the denylist's quotes the term it found, which is the message's
 * contents, and an operator's is free text that may quote it too, so those two say only who
 * decided.
 */
const rejectionReason = ({ policy, reason }: MessageRejected['data']): string => {
  if (policy === 'denylist') return 'contains a denied term';
  if (policy === OPERATOR_POLICY) return 'rejected by an operator';
  return reason;
};

/**
 * Queues the callbacks of apps (docs/api.md, "App callbacks"): each stored event in
 * {@link callbackSourceTypes} becomes one `QueueCallback` for its app, when the app has a
 * callback for that type that it registered before the event happened. The data is built here,
 * field by field, from ids, levels and reasons Tidings wrote: never a message's contents, never
 * who complained. The delivery id comes from the event's id, so seeing an event again queues
 * nothing new.
 */
export const callbackProcessor = (options: CallbackProcessorOptions): Reactor => {
  const now = options.now ?? (() => new Date());

  const binding = async (bindingId: string) => {
    const state = await loadState(options.store, 'binding', bindingId, options.cache);
    return state.status === 'empty' ? undefined : state;
  };
  const message = async (messageId: string) => {
    const state = await loadState(options.store, 'message', messageId, options.cache);
    return state.status === 'empty' ? undefined : state.submission;
  };
  /** `channel` as its kind and, for a device, the app's opaque reference to it. */
  const channelOf = (bindingId: string, target: string): CallbackData => {
    const parsed = parseDeliveryTarget(target);
    return parsed === INBOX_CHANNEL
      ? { channel: INBOX_CHANNEL }
      : { channel: parsed.kind, device: deviceReference(bindingId, parsed.deviceId) };
  };

  const reportOf = async (recorded: RecordedEvent): Promise<Report | undefined> => {
    switch (recorded.type) {
      case 'BindingAuthorized': {
        const { appId, bindingId, openid, level } = (recorded as unknown as BindingAuthorized).data;
        return { appId, type: 'binding.authorized', data: { bindingId, openid, level } };
      }
      case 'BindingReauthorized': {
        const { bindingId, level } = (recorded as unknown as BindingReauthorized).data;
        const facts = await binding(bindingId);
        return facts === undefined
          ? undefined
          : {
              appId: facts.appId,
              type: 'binding.authorized',
              data: { bindingId, openid: facts.openid, level },
            };
      }
      case 'BindingRevoked': {
        const { bindingId } = (recorded as unknown as BindingRevoked).data;
        const facts = await binding(bindingId);
        return facts === undefined
          ? undefined
          : {
              appId: facts.appId,
              type: 'binding.revoked',
              data: { bindingId, openid: facts.openid },
            };
      }
      case 'MessageDelivered': {
        const { messageId, channel } = (recorded as unknown as MessageDelivered).data;
        const submission = await message(messageId);
        return submission === undefined
          ? undefined
          : {
              appId: submission.appId,
              type: 'message.delivered',
              data: { messageId, ...channelOf(submission.bindingId, channel) },
            };
      }
      case 'MessageDeliveryAbandoned': {
        const { messageId, channel, lastError } = (recorded as unknown as MessageDeliveryAbandoned)
          .data;
        const submission = await message(messageId);
        return submission === undefined
          ? undefined
          : {
              appId: submission.appId,
              type: 'message.failed',
              data: { messageId, ...channelOf(submission.bindingId, channel), lastError },
            };
      }
      case 'MessageRejected': {
        const rejected = (recorded as unknown as MessageRejected).data;
        const submission = await message(rejected.messageId);
        return submission === undefined
          ? undefined
          : {
              appId: submission.appId,
              type: 'message.rejected',
              data: { messageId: rejected.messageId, reason: rejectionReason(rejected) },
            };
      }
      case 'AppPenalized': {
        const { appId, scoreAfter, points } = (recorded as unknown as AppPenalized).data;
        return { appId, type: 'app.penalized', data: { score: scoreAfter, points } };
      }
      case 'AppSuspended': {
        const { appId, until, reason } = (recorded as unknown as AppSuspended).data;
        return { appId, type: 'app.suspended', data: { until, reason } };
      }
      case 'AppBanned': {
        const { appId, reason } = recorded.data as { appId: string; reason: string };
        return { appId, type: 'app.banned', data: { reason } };
      }
      case 'AppReinstated':
      case 'AppSuspensionLifted': {
        const { appId, scoreAfter } = recorded.data as { appId: string; scoreAfter: number };
        return { appId, type: 'app.reinstated', data: { score: scoreAfter } };
      }
      default:
        return undefined;
    }
  };

  return {
    name: 'callbacks',
    eventTypes: callbackSourceTypes,
    handle: async (recorded) => {
      const report = await reportOf(recorded);
      if (report === undefined) return;
      const app = await loadState(options.store, 'app', report.appId, options.cache);
      const callback = app.status === 'empty' ? undefined : app.callback;
      if (
        callback === undefined ||
        !callback.events.includes(report.type) ||
        recorded.metadata.occurredAt < callback.since
      ) {
        return;
      }
      const deliveryId = callbackDeliveryId(recorded.id);
      const result = await options.commands.execute(
        'callback',
        deliveryId,
        {
          type: 'QueueCallback',
          data: {
            deliveryId,
            appId: report.appId,
            eventType: report.type,
            occurredAt: recorded.metadata.occurredAt,
            data: report.data,
          },
          metadata: { now: now().toISOString() },
        },
        reactionContext('callbacks', recorded),
      );
      if (E.isLeft(result)) {
        if (result.left.code === 'conflict') throw new Error(result.left.message);
        options.logger.warn('callback not queued', { deliveryId, code: result.left.code });
      }
    },
  };
};

import * as E from 'fp-ts/lib/Either.js';
import type { MessageCommand } from '../../domain/message/messageCommands.js';
import type { MessageSubmitted } from '../../domain/message/messageEvents.js';
import { moderate, type ModerationPolicy } from '../../domain/moderation/policy.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Processor } from '../processing/processor.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import { reactionContext } from '../processing/reaction.js';

export interface ModerationProcessorOptions {
  readonly commands: CommandBus;
  readonly policies: readonly ModerationPolicy[];
  /** The app's own user id of a binding, for checkers that need it (WeChat). */
  readonly openidOf: (bindingId: string) => string | undefined;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Messages moderated at once; external checkers make this worth more than 1. Default 32. */
  readonly concurrency?: number;
}

/**
 * The moderation stage: every submitted message gets a verdict from the policy chain, recorded as
 * MessageApproved (and MessageScheduled, in the same append, when it is for later),
 * MessageRejected or MessageHeldForReview.
 */
export const moderationProcessor = (options: ModerationProcessorOptions): Processor => {
  const now = options.now ?? (() => new Date());
  const moderateOne = async (recorded: RecordedEvent): Promise<void> => {
    const { data } = recorded as unknown as MessageSubmitted;
    const openid = options.openidOf(data.bindingId);
    const outcome = await moderate(options.policies, {
      messageId: data.messageId,
      appId: data.appId,
      body: data.body,
      ...(openid === undefined ? {} : { openid }),
      ...(data.title === undefined ? {} : { title: data.title }),
      ...(data.subtitle === undefined ? {} : { subtitle: data.subtitle }),
      ...(data.url === undefined ? {} : { url: data.url }),
    });
    const at = now().toISOString();
    const metadata = { now: at };
    const { messageId } = data;
    const commands: MessageCommand[] =
      outcome.kind === 'approve'
        ? approvalCommands(messageId, outcome.policy, data.deliverAt, at)
        : outcome.kind === 'reject'
          ? [
              {
                type: 'RejectMessage',
                data: { messageId, policy: outcome.policy, reason: outcome.reason },
                metadata,
              },
            ]
          : [
              {
                type: 'HoldMessage',
                data: { messageId, policy: outcome.policy, reason: outcome.reason },
                metadata,
              },
            ];
    const result = await options.commands.execute(
      'message',
      messageId,
      commands,
      reactionContext('moderation', recorded),
    );
    if (E.isLeft(result)) {
      if (result.left.code === 'conflict') throw new Error(result.left.message);
      // Refused by the aggregate (e.g. cancelled meanwhile): nothing to do, but worth a line.
      options.logger.warn('moderation verdict not recorded', { messageId, code: result.left.code });
    }
  };
  return {
    name: 'moderation',
    eventTypes: ['MessageSubmitted'],
    processBatch: (batch) => forEachConcurrently(batch, options.concurrency ?? 32, moderateOne),
  };
};

/**
 * Approving a message, and scheduling it in the same step when it is for later: used by the
 * moderation stage and, with an operator's `ApproveHeldMessage`, by an operator's approval, so
 * both leave a message in the same state.
 */
export const approvalCommands = (
  messageId: string,
  policy: string,
  deliverAt: string | undefined,
  now: string,
): MessageCommand[] =>
  withScheduling(
    { type: 'ApproveMessage', data: { messageId, policy }, metadata: { now } },
    deliverAt,
  );

/** An approval, followed by scheduling the message when its `deliverAt` is still ahead. */
export const withScheduling = (
  approval: Extract<MessageCommand, { type: 'ApproveMessage' | 'ApproveHeldMessage' }>,
  deliverAt: string | undefined,
): MessageCommand[] => {
  const { metadata } = approval;
  const { messageId } = approval.data;
  return deliverAt !== undefined && Date.parse(deliverAt) > Date.parse(metadata.now)
    ? [approval, { type: 'ScheduleMessage', data: { messageId }, metadata }]
    : [approval];
};

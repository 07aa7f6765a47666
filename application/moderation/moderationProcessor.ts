import * as E from 'fp-ts/lib/Either.js';
import type { MessageCommand } from '../../domain/message/messageCommands.js';
import type { MessageSubmission, MessageSubmitted } from '../../domain/message/messageEvents.js';
import {
  moderate,
  type ModerationInput,
  type ModerationOutcome,
  type ModerationPolicy,
} from '../../domain/moderation/policy.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Processor } from '../processing/processor.js';
import type { CommandBus } from '../commandBus.js';
import type { Logger } from '../../domain/shared/logger.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import { reactionContext } from '../processing/reaction.js';
import { withoutSettled } from '../processing/settledInBatch.js';

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

/** The events of a verdict: once one is on record, the message is moderated. */
const VERDICTS: ReadonlySet<string> = new Set([
  'MessageApproved',
  'MessageRejected',
  'MessageHeldForReview',
]);

/**
 * The moderation stage: every submitted message gets a verdict from the policy chain, recorded as
 * MessageApproved (and MessageScheduled, in the same append, when it is for later),
 * MessageRejected or MessageHeldForReview.
 *
 * A message moderated in its submission's own command (local policies only, see
 * application/messages/submitMessage.ts) has its verdict right after its MessageSubmitted: the
 * stage reads the verdicts too and passes over a submission whose verdict follows it in the same
 * batch (one split from it by a batch boundary is moderated again, which the aggregate answers
 * as a no-op).
 */
export const moderationProcessor = (options: ModerationProcessorOptions): Processor => {
  const now = options.now ?? (() => new Date());
  const moderateOne = async (recorded: RecordedEvent): Promise<void> => {
    const { data } = recorded as unknown as MessageSubmitted;
    const openid = options.openidOf(data.bindingId);
    const outcome = await moderate(options.policies, moderationInputOf(data, openid));
    const { messageId } = data;
    const commands = verdictCommands(messageId, outcome, data.deliverAt, now().toISOString());
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
    eventTypes: ['MessageSubmitted', ...VERDICTS],
    processBatch: (batch) =>
      forEachConcurrently(
        withoutSettled(batch, (event) => VERDICTS.has(event.type)),
        options.concurrency ?? 32,
        moderateOne,
      ),
  };
};

/** What the policies see of a submission. */
export const moderationInputOf = (
  submission: MessageSubmission,
  openid: string | undefined,
): ModerationInput => ({
  messageId: submission.messageId,
  appId: submission.appId,
  body: submission.body,
  ...(openid === undefined ? {} : { openid }),
  ...(submission.title === undefined ? {} : { title: submission.title }),
  ...(submission.subtitle === undefined ? {} : { subtitle: submission.subtitle }),
  ...(submission.url === undefined ? {} : { url: submission.url }),
});

/**
 * The commands that record a verdict: the approval (with the scheduling when the message is for
 * later), the rejection or the hold. Used by this stage and by a submission moderated in its own
 * command, so both record the same events.
 */
export const verdictCommands = (
  messageId: string,
  outcome: ModerationOutcome,
  deliverAt: string | undefined,
  now: string,
): MessageCommand[] => {
  const metadata = { now };
  switch (outcome.kind) {
    case 'approve':
      return approvalCommands(messageId, outcome.policy, deliverAt, now);
    case 'reject':
      return [
        {
          type: 'RejectMessage',
          data: { messageId, policy: outcome.policy, reason: outcome.reason },
          metadata,
        },
      ];
    case 'hold':
      return [
        {
          type: 'HoldMessage',
          data: { messageId, policy: outcome.policy, reason: outcome.reason },
          metadata,
        },
      ];
  }
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

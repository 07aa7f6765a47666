import type { MessageCommand, SubmitMessage } from '../../domain/message/messageCommands.js';
import { moderateNow, type SyncModerationPolicy } from '../../domain/moderation/policy.js';
import { moderationInputOf, verdictCommands } from '../moderation/moderationProcessor.js';
import type { DeliveryRouting, RoutingDecision } from '../routing/deliveryRouting.js';

/**
 * Moderation and routing decided in a submission's own command (issue 17's first lever): with
 * local policies only (limits, the denylist: no external checker), on a node that routes itself
 * (one node: the push budget is this process's), a message due now is moderated and routed
 * before its submission is appended, and MessageSubmitted, its verdict and, when approved, its
 * MessageRouted and inbox delivery are one append — the events the separate stages would have
 * recorded, in the same order, without the two commands, appends and read-model rounds between.
 */
export interface InlineStages {
  readonly policies: readonly SyncModerationPolicy[];
  readonly routing: DeliveryRouting;
}

/** The submission's commands with its verdict and routing, and how to settle the push budget. */
export interface InlineSubmission {
  readonly commands: readonly MessageCommand[];
  readonly settle: RoutingDecision['settle'];
}

/**
 * Decides a due submission's verdict and, when approved, its routing. The caller has checked that
 * the message is new and the binding lets it through (an active binding, not blocked, level not
 * `none`); the app's standing is checked by the aggregate first, which refuses the whole command.
 */
export const inlineSubmission = async (
  stages: InlineStages,
  submit: SubmitMessage,
): Promise<InlineSubmission> => {
  const { data, metadata } = submit;
  const outcome = moderateNow(stages.policies, moderationInputOf(data, undefined));
  const verdict = verdictCommands(data.messageId, outcome, undefined, metadata.now);
  if (outcome.kind !== 'approve')
    return { commands: [submit, ...verdict], settle: () => undefined };
  const routing = await stages.routing.decide(data, new Date(metadata.now));
  return { commands: [submit, ...verdict, routing.command], settle: routing.settle };
};

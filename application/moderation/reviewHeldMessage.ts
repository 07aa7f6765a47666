import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import { withScheduling } from './moderationProcessor.js';

/** What an operator's review of a held message needs. */
export interface ReviewHeldMessageDeps {
  readonly commands: CommandBus;
  readonly messages: MessageQueries;
}

/**
 * Approves a message a policy held (docs/api.md, "Operator"): it is then delivered, or scheduled
 * if it is for later, like any approved message. A message that is not held now (never held,
 * decided already, cancelled or suppressed since) is refused with `illegal_state` by the Message
 * aggregate, and nothing is written.
 */
export const approveHeldMessage =
  (deps: ReviewHeldMessageDeps) =>
  async (messageId: string, call: Invocation): Promise<E.Either<Refusal, void>> => {
    const row = deps.messages.byId(messageId);
    if (row === undefined) return E.left(domainError('not_found', `no message ${messageId}`));
    const approved = await deps.commands.execute(
      'message',
      row.message_id,
      withScheduling(
        {
          type: 'ApproveHeldMessage',
          data: { messageId: row.message_id },
          metadata: { now: call.now },
        },
        row.deliver_at ?? undefined,
      ),
      call.commandContext(),
    );
    return E.isLeft(approved) ? approved : E.right(undefined);
  };

/** Rejects a message a policy held, with the operator's reason; only a held message. */
export const rejectHeldMessage =
  (deps: ReviewHeldMessageDeps) =>
  async (messageId: string, reason: string, call: Invocation): Promise<E.Either<Refusal, void>> => {
    const row = deps.messages.byId(messageId);
    if (row === undefined) return E.left(domainError('not_found', `no message ${messageId}`));
    const rejected = await deps.commands.execute(
      'message',
      row.message_id,
      {
        type: 'RejectHeldMessage',
        data: { messageId: row.message_id, reason },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(rejected) ? rejected : E.right(undefined);
  };

import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import { apiStatusOf, type MessageQueries } from '../../projections/messages/messageQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What withdrawing a message needs. */
export interface WithdrawMessageDeps {
  readonly commands: CommandBus;
  readonly messages: MessageQueries;
}

/** How a message was withdrawn: cancelled before delivery, or recalled after it. */
export type Withdrawal = 'cancelled' | 'recalled';

/**
 * Withdraws an app's own message (docs/api.md `DELETE /v1/messages/:id`): cancels one not yet
 * delivered, recalls a delivered one from the inbox and the devices. Another app's message
 * answers like a missing one.
 */
export const withdrawMessage =
  (deps: WithdrawMessageDeps) =>
  async (
    appId: string,
    messageId: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, Withdrawal>> => {
    const row = deps.messages.byId(messageId);
    if (row === undefined || row.app_id !== appId) {
      return E.left(domainError('not_found', `no message ${messageId}`));
    }
    const metadata = { now: call.now };
    const withdraw = (recall: boolean) =>
      deps.commands.execute(
        'message',
        row.message_id,
        recall
          ? { type: 'RecallMessage', data: { messageId: row.message_id, appId }, metadata }
          : { type: 'CancelMessage', data: { messageId: row.message_id, appId }, metadata },
        call.commandContext(),
      );
    const status = apiStatusOf(row, call.now);
    let recall = status === 'delivered' || status === 'recalled';
    let result = await withdraw(recall);
    // The read model may not show the latest routing yet; the aggregate's refusal names its own
    // status, which decides.
    if (!recall && E.isLeft(result) && refusedAsDelivered(result.left)) {
      recall = true;
      result = await withdraw(recall);
    }
    if (E.isLeft(result)) return result;
    return E.right(recall ? 'recalled' : 'cancelled');
  };

/** Whether a cancel was refused because the message is delivered (or recalled) by now. */
const refusedAsDelivered = (refusal: Refusal): boolean =>
  refusal.code === 'illegal_state' &&
  (refusal.details?.['state'] === 'delivered' || refusal.details?.['state'] === 'recalled');

import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import { complaintIdFor } from './complaintId.js';

/** What filing a complaint needs. */
export interface FileComplaintDeps {
  readonly commands: CommandBus;
  readonly messages: MessageQueries;
  readonly ids: Pick<Ids, 'derived'>;
}

/** What a person says about a message. */
export interface ComplaintText {
  readonly category: 'spam' | 'fraud' | 'abuse' | 'other';
  readonly reason: string;
}

/**
 * Files a person's complaint about a message they received (docs/api.md), one per person and
 * message; answers its id. Anyone else's message answers like a missing one.
 */
export const fileComplaint =
  (deps: FileComplaintDeps) =>
  async (
    recipientId: string,
    messageId: string,
    text: ComplaintText,
    call: Invocation,
  ): Promise<E.Either<Refusal, string>> => {
    const message = deps.messages.byId(messageId);
    if (
      message === undefined ||
      message.recipient_id !== recipientId ||
      message.inbox_at === null
    ) {
      return E.left(domainError('not_found', `no message ${messageId} in your inbox`));
    }
    const complaintId = complaintIdFor(deps.ids, messageId, recipientId);
    const filed = await deps.commands.execute(
      'complaint',
      complaintId,
      {
        type: 'FileComplaint',
        data: { complaintId, messageId, appId: message.app_id, recipientId, ...text },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(filed) ? filed : E.right(complaintId);
  };

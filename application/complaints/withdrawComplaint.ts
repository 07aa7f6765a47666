import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { ComplaintQueries } from '../../projections/complaints/complaintQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What withdrawing a complaint needs. */
export interface WithdrawComplaintDeps {
  readonly commands: CommandBus;
  readonly complaints: ComplaintQueries;
}

/** Withdraws a person's own open complaint; anyone else's answers like a missing one. */
export const withdrawComplaint =
  (deps: WithdrawComplaintDeps) =>
  async (
    recipientId: string,
    complaintId: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, void>> => {
    const row = deps.complaints.byId(complaintId);
    if (row === undefined || row.recipient_id !== recipientId) {
      return E.left(domainError('not_found', `no complaint ${complaintId}`));
    }
    const withdrawn = await deps.commands.execute(
      'complaint',
      row.complaint_id,
      {
        type: 'WithdrawComplaint',
        data: { complaintId: row.complaint_id, recipientId },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(withdrawn) ? withdrawn : E.right(undefined);
  };

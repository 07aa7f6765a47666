import * as E from 'fp-ts/lib/Either.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What logging out needs. */
export interface LogOutDeps {
  readonly commands: CommandBus;
  readonly recipients: Pick<RecipientQueries, 'session'>;
  readonly ids: Pick<Ids, 'hash'>;
}

/**
 * Ends the session with this id (EndSession), if it is open and unexpired; no session, or one
 * already over, changes nothing.
 */
export const logOut =
  (deps: LogOutDeps) =>
  async (sessionId: string | undefined, call: Invocation): Promise<E.Either<Refusal, void>> => {
    const session =
      sessionId === undefined
        ? undefined
        : deps.recipients.session(deps.ids.hash(sessionId), call.now);
    if (session === undefined) return E.right(undefined);
    const ended = await deps.commands.execute(
      'recipient',
      session.recipient_id,
      {
        type: 'EndSession',
        data: { recipientId: session.recipient_id, sessionHash: session.session_hash },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(ended) ? ended : E.right(undefined);
  };

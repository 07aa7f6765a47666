import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { PenaltyLadder } from '../../domain/reputation/penaltyLadder.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What reinstating an app needs. */
export interface ReinstateAppDeps {
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly ladder: PenaltyLadder;
}

/**
 * Lifts an app's suspension or ban (an operator's decision, with an optional note): the app comes
 * back with at least the suspension threshold.
 */
export const reinstateApp =
  (deps: ReinstateAppDeps) =>
  async (
    appId: string,
    note: string | undefined,
    call: Invocation,
  ): Promise<E.Either<Refusal, void>> => {
    if (deps.apps.byId(appId) === undefined) {
      return E.left(domainError('not_found', `no app ${appId}`));
    }
    const reinstated = await deps.commands.execute(
      'app',
      appId,
      {
        type: 'ReinstateApp',
        data: {
          appId,
          recoverTo: deps.ladder.suspendBelow,
          ...(note === undefined ? {} : { note }),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(reinstated) ? reinstated : E.right(undefined);
  };

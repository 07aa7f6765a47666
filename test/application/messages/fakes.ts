import * as E from 'fp-ts/lib/Either.js';
import type { CommandContext, CommandError } from '../../../domain/shared/commandHandler.js';
import type { CommandBus } from '../../../application/commandBus.js';
import type { Ids } from '../../../application/shared/ids.js';
import type { Invocation } from '../../../application/shared/invocation.js';

/** A command the fake bus was given. */
export interface Executed {
  readonly aggregate: string;
  readonly id: string;
  readonly command: unknown;
  readonly context: CommandContext;
}

/**
 * A command bus that records what it is asked and answers from `answer` (by default: taken, with
 * the state `{ status: 'submitted' }`).
 */
export const fakeCommands = (
  answer: (command: { readonly type: string }) => E.Either<CommandError, { status: string }> = () =>
    E.right({ status: 'submitted' }),
): CommandBus & { readonly executed: Executed[] } => {
  const executed: Executed[] = [];
  return {
    executed,
    execute: (aggregate, id, command, context) => {
      executed.push({ aggregate, id, command, context });
      const state = answer(command as { readonly type: string });
      return Promise.resolve(
        E.map((s: { status: string }) => ({ events: [], nextRevision: 0, state: s }))(
          state,
        ) as never,
      );
    },
  };
};

/** Ids that say where they came from, so a test can tell a derived id from a fresh one. */
export const fakeIds: Ids = {
  ordered: (prefix) => `${prefix}ordered`,
  random: (prefix) => `${prefix}random`,
  derived: (prefix, ...parts) => `${prefix}derived(${parts.join(',')})`,
  secret: (prefix) => `${prefix}secret`,
  hash: (secret) => `hash(${secret})`,
};

/** A call at `now`, whose command contexts carry the command id they were given. */
export const callAt = (now: string): Invocation => ({
  now,
  commandContext: (commandId, actor) => ({
    commandId: commandId ?? 'fresh',
    actor: actor ?? { kind: 'app', id: 'app_1' },
    correlationId: 'req_1',
  }),
});

import * as E from 'fp-ts/lib/Either.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/**
 * Removes one of the person's devices; nothing more is pushed to it. Another person's device, or
 * one already removed, is `not_found`.
 */
export const removeDevice =
  (deps: { readonly commands: CommandBus }) =>
  async (
    recipientId: string,
    deviceId: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, void>> => {
    const removed = await deps.commands.execute(
      'recipient',
      recipientId,
      { type: 'RemoveDevice', data: { recipientId, deviceId }, metadata: { now: call.now } },
      call.commandContext(),
    );
    return E.isLeft(removed) ? removed : E.right(undefined);
  };

import * as E from 'fp-ts/lib/Either.js';
import type { CommandBus } from '../commandBus.js';
import type { Position } from '../../domain/shared/eventStore.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { AuthAttempts } from '../auth/authAttempts.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { PasswordHasher } from '../shared/passwordHasher.js';
import { unauthorized, type Refusal } from '../shared/refusal.js';

/** What deleting an account needs. */
export interface EraseRecipientDeps {
  readonly commands: CommandBus;
  /**
   * Resolves once the erasure processor has carried out every deletion up to `position` (the
   * log's head when undefined): revoked the bindings and erased the data.
   */
  readonly erased: (position: Position | undefined) => Promise<void>;
}

/** Who deletes the account: the person, or an operator with a reason. */
export type Erasure =
  { readonly by: 'self' } | { readonly by: 'operator'; readonly reason: string };

/**
 * Deletes a person's account and waits until their data is erased (docs/audit.md, "Erasure"):
 * records the deletion (RecipientErased), after which the account takes no command, and lets the
 * erasure processor revoke the bindings and erase the data, so that when this answers, every
 * read model and the log hold `[erased]` where the data was. Deleting a deleted account waits
 * for its erasure and changes nothing; an account that never existed is `not_found`.
 */
export const eraseRecipient =
  (deps: EraseRecipientDeps) =>
  async (
    recipientId: string,
    erasure: Erasure,
    call: Invocation,
  ): Promise<E.Either<Refusal, void>> => {
    const result = await deps.commands.execute(
      'recipient',
      recipientId,
      {
        type: 'EraseRecipient',
        data: {
          recipientId,
          by: erasure.by,
          ...(erasure.by === 'operator' ? { reason: erasure.reason } : {}),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(result)) return result;
    await deps.erased(result.right.position);
    return E.right(undefined);
  };

/** What a person's deletion of their own account needs besides the erasure. */
export interface DeleteOwnAccountDeps {
  readonly recipients: Pick<RecipientQueries, 'byId'>;
  readonly passwords: Pick<PasswordHasher, 'verify'>;
  readonly attempts: AuthAttempts;
  readonly erase: ReturnType<typeof eraseRecipient>;
}

/**
 * `DELETE /v1/me`: the password is asked again, with the failure budgets of logging in (a stolen
 * session cookie alone cannot delete the account, nor guess the password faster than a login).
 */
export const deleteOwnAccount =
  (deps: DeleteOwnAccountDeps) =>
  async (
    recipientId: string,
    password: string,
    ip: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, void>> => {
    const row = deps.recipients.byId(recipientId);
    if (row === undefined) return E.left(unauthorized('the account no longer exists'));
    const taking = deps.attempts.take(ip, row.username);
    const attempt = isPromise(taking) ? await taking : taking;
    if (E.isLeft(attempt)) return attempt;
    if (!(await deps.passwords.verify(password, row.password_hash))) {
      return E.left(unauthorized('wrong password'));
    }
    const given = deps.attempts.succeeded(ip, row.username);
    if (isPromise(given)) await given;
    return deps.erase(recipientId, { by: 'self' }, call);
  };

import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { PasswordHasher } from '../shared/passwordHasher.js';
import type { RateLimiter } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';
import type { AuthAttempts } from './authAttempts.js';
import type { StartedSession, StartSession } from './startSession.js';
import { recipientIdFor } from './username.js';

/** What registering needs. */
export interface RegisterRecipientDeps {
  readonly commands: CommandBus;
  readonly ids: Pick<Ids, 'derived'>;
  readonly passwords: Pick<PasswordHasher, 'hash'>;
  /** New accounts per client address, successful ones included (each costs a password hash). */
  readonly registrations: RateLimiter;
  readonly attempts: AuthAttempts;
  readonly startSession: StartSession;
}

/** A username and its password, as a person typed them. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Creates a person's account and logs them in (docs/api.md `POST /v1/auth/register`): takes from
 * the address's registration budget, then an attempt, hashes the password and registers
 * (RegisterRecipient); a taken name answers `already_exists`.
 */
export const registerRecipient =
  (deps: RegisterRecipientDeps) =>
  async (
    { username, password }: Credentials,
    ip: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, StartedSession>> => {
    const accounting = deps.registrations.take(ip);
    const account = isPromise(accounting) ? await accounting : accounting;
    if (!account.allowed) {
      return E.left(
        rateLimited('too many new accounts from this address', account.retryAfterSeconds),
      );
    }
    const taking = deps.attempts.take(ip, username);
    const attempt = isPromise(taking) ? await taking : taking;
    if (E.isLeft(attempt)) return attempt;
    const recipientId = recipientIdFor(deps.ids, username);
    const registered = await deps.commands.execute(
      'recipient',
      recipientId,
      {
        type: 'RegisterRecipient',
        data: { recipientId, username, passwordHash: await deps.passwords.hash(password) },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    // Probing for taken names costs the same budget as guessing passwords (the attempt's tokens
    // stay taken); so does any other refusal.
    if (E.isLeft(registered)) {
      return registered.left.code === 'already_exists'
        ? E.left(domainError('already_exists', `the username ${username} is taken`))
        : registered;
    }
    const given = deps.attempts.succeeded(ip, username);
    if (isPromise(given)) await given;
    return deps.startSession(recipientId, username, call);
  };

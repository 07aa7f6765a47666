import * as E from 'fp-ts/lib/Either.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { PasswordHasher } from '../shared/passwordHasher.js';
import { unauthorized, type Refusal } from '../shared/refusal.js';
import type { AuthAttempts } from './authAttempts.js';
import type { Credentials } from './registerRecipient.js';
import type { StartedSession, StartSession } from './startSession.js';
import { recipientIdFor } from './username.js';

/** What logging in needs. */
export interface LogInDeps {
  readonly recipients: Pick<RecipientQueries, 'byId'>;
  readonly ids: Pick<Ids, 'derived'>;
  readonly passwords: Pick<PasswordHasher, 'verify'>;
  readonly attempts: AuthAttempts;
  readonly startSession: StartSession;
}

/**
 * Logs a person in (docs/api.md `POST /v1/auth/login`): takes an attempt, checks the password
 * and starts a session; a wrong name or password answers `unauthorized`, alike.
 */
export const logIn =
  (deps: LogInDeps) =>
  async (
    { username, password }: Credentials,
    ip: string,
    call: Invocation,
  ): Promise<E.Either<Refusal, StartedSession>> => {
    // Not awaited when already there: parallel guesses are each counted before any hashes.
    const taking = deps.attempts.take(ip, username);
    const attempt = isPromise(taking) ? await taking : taking;
    if (E.isLeft(attempt)) return attempt;
    const row = deps.recipients.byId(recipientIdFor(deps.ids, username));
    // Hash even for an unknown name, so the answer time does not tell which names exist.
    const ok = await deps.passwords.verify(password, row?.password_hash);
    if (row === undefined || !ok) return E.left(unauthorized('wrong username or password'));
    // The person proved who they are: earlier failures on this name no longer count.
    const given = deps.attempts.succeeded(ip, username);
    if (isPromise(given)) await given;
    return deps.startSession(row.recipient_id, row.username, call);
  };

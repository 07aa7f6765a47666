import * as E from 'fp-ts/lib/Either.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What starting a session needs. */
export interface StartSessionDeps {
  readonly commands: CommandBus;
  readonly ids: Pick<Ids, 'secret' | 'hash'>;
  /** How long a login lasts. */
  readonly sessionTtlMs: number;
}

/** A person logged in: the session id is shown once (the cookie), only its hash is kept. */
export interface StartedSession {
  readonly recipientId: string;
  readonly username: string;
  readonly sessionId: string;
}

/** Starts a session of a person who proved who they are. */
export type StartSession = (
  recipientId: string,
  username: string,
  call: Invocation,
) => Promise<E.Either<Refusal, StartedSession>>;

/** Starts a session (StartSession) that expires a session length from now. */
export const startSession =
  (deps: StartSessionDeps): StartSession =>
  async (recipientId, username, call) => {
    const sessionId = deps.ids.secret('tss_');
    const expiresAt = new Date(Date.parse(call.now) + deps.sessionTtlMs).toISOString();
    const started = await deps.commands.execute(
      'recipient',
      recipientId,
      {
        type: 'StartSession',
        data: { recipientId, sessionHash: deps.ids.hash(sessionId), expiresAt },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(started) ? started : E.right({ recipientId, username, sessionId });
  };

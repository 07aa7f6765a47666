import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { hashPassword, verifyPassword } from '../../security/passwords.js';
import { derivedId, hashSecret, newSecret } from '../../security/secrets.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError, rateLimited } from '../problem.js';
import {
  cookie,
  defineRoute,
  orProblem,
  SESSION_COOKIE,
  type Route,
  type RouteContext,
  type Caller,
} from '../routing.js';
import { commandContext, type ApiDeps } from './deps.js';

const Username = boundedString('Username', {
  minLength: 3,
  maxLength: 32,
  pattern: /^[\p{L}\p{N}_.-]+$/u,
  description: 'letters (any script), digits, _ . -',
});
const Password = boundedString('Password', { minLength: 8, maxLength: 256 });
const Credentials = strictObject('Credentials', { username: Username, password: Password });
const Account = t.type({ recipientId: t.string, username: t.string }, 'Account');

/**
 * The recipient id of a username. Derived, so two registrations of one name race for one stream
 * and exactly one wins; case and Unicode width do not make a different person.
 */
export const recipientIdFor = (username: string): string =>
  derivedId('rcp_', username.normalize('NFKC').toLowerCase());

/** The cookie that carries a session id (docs/api.md: HttpOnly, SameSite=Lax; Secure over https). */
const sessionCookie = (value: string, maxAgeSeconds: number, secure: boolean): string =>
  [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`]
    .concat(secure ? ['Secure'] : [])
    .join('; ');

/** Register, log in and log out (docs/api.md, "Recipient"). */
export const authRoutes = (deps: ApiDeps): Route[] => {
  const secureCookies = (request: { secure: boolean }): boolean =>
    request.secure || deps.publicUrl.startsWith('https://');

  const nameKey = (username: string): string => username.normalize('NFKC').toLowerCase();

  /**
   * Takes an attempt from the address's and the username's failure budgets before the (slow)
   * password work, and refuses while either is spent: counted up front, parallel guesses cannot
   * all pass a look at a budget that only a finished failure would lower. A successful attempt
   * gives its tokens back ({@link attemptSucceeded}).
   */
  const takeAttempt = (ip: string, username: string): void => {
    const byIp = deps.authFailures.byIp.take(ip);
    const byName = byIp.allowed ? deps.authFailures.byUsername.take(nameKey(username)) : byIp;
    if (byIp.allowed && !byName.allowed) deps.authFailures.byIp.give(ip);
    const refused = byIp.allowed ? byName : byIp;
    if (!refused.allowed) {
      throw rateLimited('too many failed attempts', refused.retryAfterSeconds);
    }
  };
  /** The attempt was not a failure: its address token comes back, the username starts afresh. */
  const attemptSucceeded = (ip: string, username: string): void => {
    deps.authFailures.byIp.give(ip);
    deps.authFailures.byUsername.reset(nameKey(username));
  };

  /** Starts a session for a person and answers with its cookie. */
  const startSession = async (
    request: RouteContext<unknown, unknown, unknown, Caller>,
    recipientId: string,
    username: string,
    status: number,
  ) => {
    const sessionId = newSecret('tss_');
    const expiresAt = new Date(Date.parse(request.now) + deps.sessionTtlMs).toISOString();
    orProblem(
      await deps.commands.execute(
        'recipient',
        recipientId,
        {
          type: 'StartSession',
          data: { recipientId, sessionHash: hashSecret(sessionId), expiresAt },
          metadata: { now: request.now },
        },
        commandContext(request),
      ),
    );
    return {
      status,
      body: { recipientId, username },
      cookies: [
        sessionCookie(sessionId, Math.floor(deps.sessionTtlMs / 1000), secureCookies(request)),
      ],
    };
  };

  return [
    defineRoute(
      {
        method: 'post',
        path: '/v1/auth/register',
        tag: 'recipient',
        summary: 'Create an account and log in',
        auth: 'none',
        body: Credentials,
        errors: ['already_exists', 'rate_limited'],
        responses: { 201: { description: 'Registered; the session cookie is set', body: Account } },
      },
      async (request) => {
        const { username, password } = request.body;
        const account = deps.registrations.take(request.ip);
        if (!account.allowed) {
          throw rateLimited('too many new accounts from this address', account.retryAfterSeconds);
        }
        takeAttempt(request.ip, username);
        const recipientId = recipientIdFor(username);
        const registered = await deps.commands.execute(
          'recipient',
          recipientId,
          {
            type: 'RegisterRecipient',
            data: {
              recipientId,
              username,
              passwordHash: await hashPassword(password, deps.passwordCost),
            },
            metadata: { now: request.now },
          },
          commandContext(request),
        );
        // Probing for taken names costs the same budget as guessing passwords (the attempt's
        // tokens stay taken).
        if (E.isLeft(registered) && registered.left.code === 'already_exists') {
          throw new ProblemError('already_exists', `the username ${username} is taken`);
        }
        orProblem(registered);
        attemptSucceeded(request.ip, username);
        return startSession(request, recipientId, username, 201);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/auth/login',
        tag: 'recipient',
        summary: 'Log in',
        auth: 'none',
        body: Credentials,
        errors: ['unauthorized', 'rate_limited'],
        responses: { 200: { description: 'Logged in; the session cookie is set', body: Account } },
      },
      async (request) => {
        const { username, password } = request.body;
        takeAttempt(request.ip, username);
        const row = deps.recipients.byId(recipientIdFor(username));
        // Hash even for an unknown name, so the answer time does not tell which names exist.
        const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
        if (row === undefined || !ok) {
          throw new ProblemError('unauthorized', 'wrong username or password');
        }
        // The person proved who they are: earlier failures on this name no longer count.
        attemptSucceeded(request.ip, username);
        return startSession(request, row.recipient_id, row.username, 200);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/auth/logout',
        tag: 'recipient',
        summary: 'Log out',
        description: 'Ends the current session, if any, and clears the cookie. Always 204.',
        auth: 'none',
        responses: { 204: { description: 'Logged out' } },
      },
      async (request) => {
        const sessionId = cookie({ headers: request.headers }, SESSION_COOKIE);
        const session =
          sessionId === undefined
            ? undefined
            : deps.recipients.session(hashSecret(sessionId), request.now);
        if (session !== undefined) {
          orProblem(
            await deps.commands.execute(
              'recipient',
              session.recipient_id,
              {
                type: 'EndSession',
                data: { recipientId: session.recipient_id, sessionHash: session.session_hash },
                metadata: { now: request.now },
              },
              commandContext(request),
            ),
          );
        }
        return { status: 204, cookies: [sessionCookie('', 0, secureCookies(request))] };
      },
    ),
  ];
};

/** A valid hash of a random password, checked against when the username does not exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43);

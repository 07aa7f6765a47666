import * as t from 'io-ts';
import { authAttempts } from '../../../application/auth/authAttempts.js';
import { logIn } from '../../../application/auth/logIn.js';
import { logOut } from '../../../application/auth/logOut.js';
import { registerRecipient } from '../../../application/auth/registerRecipient.js';
import { startSession, type StartedSession } from '../../../application/auth/startSession.js';
import { passwordHasher } from '../../security/passwords.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedString, strictObject } from '../codecs.js';
import { cookie, defineRoute, SESSION_COOKIE, type Route, type RouteReply } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

const Username = boundedString('Username', {
  minLength: 3,
  maxLength: 32,
  pattern: /^[\p{L}\p{N}_.-]+$/u,
  description: 'letters (any script), digits, _ . -',
});
const Password = boundedString('Password', { minLength: 8, maxLength: 256 });
const Credentials = strictObject('Credentials', { username: Username, password: Password });
const Account = t.type({ recipientId: t.string, username: t.string }, 'Account');

/** The cookie that carries a session id (docs/api.md: HttpOnly, SameSite=Lax; Secure over https). */
export const sessionCookie = (value: string, maxAgeSeconds: number, secure: boolean): string =>
  [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`]
    .concat(secure ? ['Secure'] : [])
    .join('; ');

/** How the auth routes answer: the cookies' Secure flag, and a started session's reply. */
/** Whether the session cookie gets the Secure flag: over https, or behind an https public URL. */
export const secureCookiesOf =
  (deps: Pick<ApiDeps, 'publicUrl'>) =>
  (request: { secure: boolean }): boolean =>
    request.secure || deps.publicUrl.startsWith('https://');

const replies = (deps: ApiDeps) => {
  const secureCookies = secureCookiesOf(deps);
  return {
    secureCookies,
    /** The person's account, with the cookie of their new session. */
    signedIn: (request: { secure: boolean }, session: StartedSession, status: number) => ({
      status,
      body: { recipientId: session.recipientId, username: session.username },
      cookies: [
        sessionCookie(
          session.sessionId,
          Math.floor(deps.sessionTtlMs / 1000),
          secureCookies(request),
        ),
      ],
    }),
  };
};
type Replies = ReturnType<typeof replies>;

/** Register, log in and log out (docs/api.md, "Recipient"). */
export const authRoutes = (deps: ApiDeps): Route[] => {
  const passwords = passwordHasher(deps.passwordCost);
  const attempts = authAttempts(deps.authFailures);
  const start = startSession({ ...deps, ids: secureIds });
  const useCases = { ...deps, ids: secureIds, passwords, attempts, startSession: start };
  const answer = replies(deps);
  return [
    registerRoute(registerRecipient(useCases), answer),
    logInRoute(logIn(useCases), answer),
    logOutRoute(logOut({ ...deps, ids: secureIds }), answer),
  ];
};

const registerRoute = (register: ReturnType<typeof registerRecipient>, answer: Replies) =>
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
      const session = orRefusal(await register(request.body, request.ip, invocationOf(request)));
      return answer.signedIn(request, session, 201);
    },
  );

const logInRoute = (logInWith: ReturnType<typeof logIn>, answer: Replies) =>
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
      const session = orRefusal(await logInWith(request.body, request.ip, invocationOf(request)));
      return answer.signedIn(request, session, 200);
    },
  );

const logOutRoute = (logOutOf: ReturnType<typeof logOut>, answer: Replies) =>
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
    async (request): Promise<RouteReply> => {
      const sessionId = cookie({ headers: request.headers }, SESSION_COOKIE);
      orRefusal(await logOutOf(sessionId, invocationOf(request)));
      return { status: 204, cookies: [sessionCookie('', 0, answer.secureCookies(request))] };
    },
  );

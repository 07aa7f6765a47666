import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { Tidings } from '../../server.js';
import { call, sessionCookieOf, type Reply, type TestServer } from './testServer.js';
import { unique } from './unique.js';

/** An RFC 9457 problem as the API answers it. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  readonly [extension: string]: unknown;
}

/**
 * Checks that a reply is an `application/problem+json` problem with the given status and code
 * (and the standard members filled in), and returns its body.
 */
export const expectProblem = (reply: Reply<unknown>, status: number, code: string): ProblemBody => {
  const body = reply.body as ProblemBody;
  expect(reply.status, `status (body: ${JSON.stringify(body)})`).to.equal(status);
  expect(reply.headers.get('content-type')).to.match(/^application\/problem\+json\b/);
  expect(body.code).to.equal(code);
  expect(body.status).to.equal(status);
  expect(body.type).to.equal(`https://tidings.dev/problems/${code.replaceAll('_', '-')}`);
  expect(body.title).to.be.a('string').and.not.equal('');
  expect(body.detail).to.be.a('string').and.not.equal('');
  return body;
};

/** The `path`s of a validation problem's `errors`. */
export const errorPaths = (body: ProblemBody): string[] =>
  (body.errors ?? []).map((error) => error.path);

/** Every event in the log, oldest first. */
export const allEvents = (tidings: Tidings): Promise<readonly RecordedEvent[]> =>
  tidings.store.readAll({ maxCount: 100_000 });

/** How many events the log holds. */
export const eventCount = async (tidings: Tidings): Promise<number> =>
  (await allEvents(tidings)).length;

/** The events appended after the log held `count` events. */
export const eventsAfter = async (
  tidings: Tidings,
  count: number,
): Promise<readonly RecordedEvent[]> => (await allEvents(tidings)).slice(count);

/**
 * Runs `action` and checks it appended no event at all (a refused command must write nothing).
 * Returns what `action` returned.
 */
export const expectNoNewEvents = async <T>(
  tidings: Tidings,
  action: () => Promise<T>,
): Promise<T> => {
  const before = await eventCount(tidings);
  const result = await action();
  const appended = await eventsAfter(tidings, before);
  expect(
    appended.map((event) => event.type),
    'events appended by a request that should write nothing',
  ).to.deep.equal([]);
  return result;
};

/** The events as text (positions are bigints, so as strings), to search for leaked secrets. */
export const logText = (events: readonly RecordedEvent[]): string =>
  JSON.stringify(events, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );

/** sha256 hex, computed here independently of the code under test. */
export const sha256Hex = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

/** A username no other test uses. */
export const uniqueUsername = (prefix = 'user'): string => unique(`${prefix}_`);

export const PASSWORD = 'correct horse battery staple';

/** A registered app as `POST /v1/admin/apps` answers it. */
export interface CreatedApp {
  readonly appId: string;
  readonly appSecret: string;
  readonly name: string;
  readonly redirectUris: string[];
}

/** Registers an app through the operator API (expects 201). */
export const createApp = async (
  server: Pick<TestServer, 'base' | 'adminToken'>,
  body: { name?: string; redirectUris?: string[]; callbackUrl?: string } = {},
): Promise<CreatedApp> => {
  const reply = await call<CreatedApp>(server.base, 'POST', '/v1/admin/apps', {
    token: server.adminToken,
    body: {
      name: body.name ?? 'Work orders',
      redirectUris: body.redirectUris ?? ['https://app.example/callback'],
      ...(body.callbackUrl === undefined ? {} : { callbackUrl: body.callbackUrl }),
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  return reply.body;
};

/** A registered, logged-in person. */
export interface Person {
  readonly username: string;
  readonly password: string;
  readonly recipientId: string;
  /** `tidings_session=…`, ready for the Cookie header. */
  readonly cookie: string;
}

/** Registers a person (expects 201) and returns their session cookie. */
export const registerPerson = async (
  server: Pick<TestServer, 'base'>,
  username: string = uniqueUsername(),
  password: string = PASSWORD,
): Promise<Person> => {
  const reply = await call<{ recipientId: string; username: string }>(
    server.base,
    'POST',
    '/v1/auth/register',
    { body: { username, password } },
  );
  expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  return {
    username,
    password,
    recipientId: reply.body.recipientId,
    cookie: sessionCookieOf(reply),
  };
};

/** The body of `POST /v1/me/authorizations`. */
export interface AuthorizationRequest {
  readonly appId: string;
  readonly openid: string;
  readonly redirectUri: string;
  readonly decision: 'allow' | 'deny';
  readonly state?: string;
  readonly level?: 'strong' | 'weak';
}

/** Posts a consent decision as the given person. */
export const authorize = (
  server: Pick<TestServer, 'base'>,
  cookie: string,
  body: AuthorizationRequest,
): Promise<Reply<{ redirect?: string } & Partial<ProblemBody>>> =>
  call(server.base, 'POST', '/v1/me/authorizations', { cookie, body });

/** Allows an app (expects 200) and returns the binding key from the redirect. */
export const allow = async (
  server: Pick<TestServer, 'base'>,
  cookie: string,
  body: Omit<AuthorizationRequest, 'decision'>,
): Promise<{ key: string; redirect: URL }> => {
  const reply = await authorize(server, cookie, { ...body, decision: 'allow' });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  const redirect = new URL(String(reply.body.redirect));
  const key = redirect.searchParams.get('key');
  expect(key).to.be.a('string');
  return { key: key ?? '', redirect };
};

/** An ISO time `ms` from now. */
export const fromNow = (ms: number): string => new Date(Date.now() + ms).toISOString();

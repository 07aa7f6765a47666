/**
 * The world the fuzzer's requests act on, set up through the API itself (docs/api.md): one app
 * with a secret, one person with a session who has allowed the app at level strong, a Bark device,
 * messages in the person's inbox and a complaint about one. Requests name these by their fields'
 * names (`appId`, `bindingId`, `messageId`, `complaintId`, `key`, `openid`, `redirectUri`,
 * `username`, `password`), so they reach the code behind "not found". Fuzzed requests change
 * that world (rotate the secret, log out, unbind, archive): {@link Fixture.renew} puts it back.
 */

/** Where the fixture is set up and with what. */
export interface FixtureOptions {
  readonly base: string;
  readonly operatorToken: string;
  readonly auditToken: string;
  /** A fresh `X-Request-Id` for each set-up request, so the events it causes are known as wanted. */
  readonly nextRequestId: () => string;
}

/** The fixture's credentials (by the document's security scheme names) and named values. */
export interface Fixture {
  readonly credentials: ReadonlyMap<string, string>;
  readonly known: ReadonlyMap<string, readonly string[]>;
  /** Restores what fuzzed requests may have changed: session, device, secret, binding, inbox. */
  renew(): Promise<void>;
}

const REDIRECT = 'https://fuzz.example/callback';
const OPENID = 'fuzz-openid';
const PASSWORD = 'fuzz fixture password';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly cookies: readonly string[];
}

/** Thrown when the API does not answer a set-up step as docs/api.md says. */
export class FixtureError extends Error {
  override name = 'FixtureError';
}

/** Sets up the fixture; throws {@link FixtureError} naming the step that failed. */
export const setUpFixture = async (options: FixtureOptions): Promise<Fixture> => {
  const credentials = new Map<string, string>([
    ['operatorToken', options.operatorToken],
    ['auditToken', options.auditToken],
  ]);
  const known = new Map<string, string[]>([
    ['openid', [OPENID]],
    ['redirectUri', [REDIRECT]],
    ['password', [PASSWORD]],
  ]);

  const call = async (
    method: string,
    path: string,
    as: 'operatorToken' | 'appSecret' | 'session' | 'none',
    body?: unknown,
  ): Promise<Reply> => {
    const headers: Record<string, string> = { 'x-request-id': options.nextRequestId() };
    const credential = as === 'none' ? undefined : credentials.get(as);
    if (as === 'session' && credential !== undefined)
      headers['cookie'] = `tidings_session=${credential}`;
    else if (credential !== undefined) headers['authorization'] = `Bearer ${credential}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${options.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed, cookies: response.headers.getSetCookie() };
  };
  const expectStatus = (step: string, reply: Reply, status: number): Reply => {
    if (reply.status !== status) {
      throw new FixtureError(
        `fixture: ${step} answered ${reply.status}, not ${status}: ${JSON.stringify(reply.body)}`,
      );
    }
    return reply;
  };
  const takeSession = (step: string, reply: Reply): void => {
    const cookie = reply.cookies
      .map((line) => /^tidings_session=([^;]*)/.exec(line)?.[1])
      .find((value) => value !== undefined);
    if (cookie === undefined) throw new FixtureError(`fixture: ${step} set no session cookie`);
    credentials.set('session', cookie);
  };
  const string = (step: string, reply: Reply, field: string): string => {
    const value = reply.body[field];
    if (typeof value !== 'string')
      throw new FixtureError(
        `fixture: ${step} answered no ${field}: ${JSON.stringify(reply.body)}`,
      );
    return value;
  };

  const app = expectStatus(
    'creating the app',
    await call('POST', '/v1/admin/apps', 'operatorToken', {
      name: 'Fuzz app',
      redirectUris: [REDIRECT],
    }),
    201,
  );
  const appId = string('creating the app', app, 'appId');
  credentials.set('appSecret', string('creating the app', app, 'appSecret'));
  known.set('appId', [appId]);

  const username = `fuzz_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  known.set('username', [username]);
  takeSession(
    'registering',
    expectStatus(
      'registering',
      await call('POST', '/v1/auth/register', 'none', { username, password: PASSWORD }),
      201,
    ),
  );

  const authorize = async (): Promise<void> => {
    const reply = expectStatus(
      'allowing the app',
      await call('POST', '/v1/me/authorizations', 'session', {
        appId,
        openid: OPENID,
        redirectUri: REDIRECT,
        decision: 'allow',
        level: 'strong',
      }),
      200,
    );
    const key = new URL(string('allowing the app', reply, 'redirect')).searchParams.get('key');
    if (key === null) throw new FixtureError('fixture: the consent redirect carries no key');
    known.set('key', [key]);
  };
  await authorize();

  /** A Bark device (its host resolves nowhere in a fuzz run), so test pushes and deliveries run. */
  const device = { serverUrl: 'https://bark.fuzz.example', deviceKey: 'fuzzdevice' };
  const addDevice = async (): Promise<void> => {
    expectStatus(
      'adding a device',
      await call('PUT', '/v1/me/devices/bark', 'session', device),
      200,
    );
  };
  await addDevice();

  const binding = async (): Promise<Record<string, unknown> | undefined> => {
    const reply = expectStatus(
      'listing the bindings',
      await call('GET', '/v1/me/apps', 'session'),
      200,
    );
    const items = Array.isArray(reply.body['items'])
      ? (reply.body['items'] as Record<string, unknown>[])
      : [];
    return items.find((item) => item['appId'] === appId && item['openid'] === OPENID);
  };
  const found = await binding();
  if (typeof found?.['bindingId'] !== 'string')
    throw new FixtureError('fixture: the binding is not in GET /v1/me/apps');
  known.set('bindingId', [found['bindingId']]);

  const inboxIds = async (): Promise<readonly string[]> => {
    const reply = expectStatus(
      'reading the inbox',
      await call('GET', '/v1/me/inbox?limit=100', 'session'),
      200,
    );
    const items = Array.isArray(reply.body['items'])
      ? (reply.body['items'] as Record<string, unknown>[])
      : [];
    return items.map((item) => String(item['messageId']));
  };
  /** Sends a message and waits until it is in the inbox (routing happens after the 202). */
  const deliver = async (n: number): Promise<string> => {
    const sent = expectStatus(
      'sending a message',
      await call('POST', '/v1/messages', 'appSecret', {
        key: known.get('key')?.[0],
        title: 'Fuzz',
        body: `fixture message ${n}`,
      }),
      202,
    );
    const messageId = string('sending a message', sent, 'messageId');
    for (let tries = 0; !(await inboxIds()).includes(messageId); tries += 1) {
      if (tries > 300)
        throw new FixtureError(`fixture: message ${messageId} never reached the inbox`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return messageId;
  };
  const messages = [await deliver(1), await deliver(2), await deliver(3)];
  known.set('messageId', messages);
  const complaint = expectStatus(
    'complaining',
    await call(
      'POST',
      `/v1/me/inbox/${encodeURIComponent(messages[2] ?? '')}/complaints`,
      'session',
      { category: 'spam', reason: 'fuzz fixture' },
    ),
    201,
  );
  known.set('complaintId', [string('complaining', complaint, 'complaintId')]);

  let delivered = 3;
  const renew = async (): Promise<void> => {
    const me = await call('GET', '/v1/me', 'session');
    if (me.status === 401) {
      takeSession(
        'logging in again',
        expectStatus(
          'logging in again',
          await call('POST', '/v1/auth/login', 'none', { username, password: PASSWORD }),
          200,
        ),
      );
    }
    const devices = me.body['devices'];
    if (
      me.status === 401 ||
      typeof devices !== 'object' ||
      devices === null ||
      !('bark' in devices)
    ) {
      await addDevice();
    }
    const standing = await call('GET', '/v1/app', 'appSecret');
    if (standing.status === 401) {
      const rotated = expectStatus(
        'rotating the secret',
        await call('POST', `/v1/admin/apps/${encodeURIComponent(appId)}/secret`, 'operatorToken'),
        200,
      );
      credentials.set('appSecret', string('rotating the secret', rotated, 'appSecret'));
    }
    const status =
      standing.status === 200
        ? standing.body['status']
        : (await call('GET', '/v1/app', 'appSecret')).body['status'];
    if (status !== 'active') {
      expectStatus(
        'reinstating the app',
        await call(
          'POST',
          `/v1/admin/apps/${encodeURIComponent(appId)}/reinstate`,
          'operatorToken',
          { note: 'fuzz fixture' },
        ),
        200,
      );
    }
    // A fuzzed consent for the fixture's (app, openid) issues a new key the fixture cannot see,
    // and an unbind ends the binding: authorizing again covers both (it is idempotent otherwise).
    await authorize();
    const current = await binding();
    if (typeof current?.['bindingId'] !== 'string')
      throw new FixtureError('fixture: the binding is gone after authorizing again');
    known.set('bindingId', [current['bindingId']]);
    if (
      current['level'] !== 'strong' ||
      current['blocked'] !== false ||
      current['mutedUntil'] !== null
    ) {
      expectStatus(
        'resetting the binding',
        await call('PATCH', `/v1/me/apps/${encodeURIComponent(current['bindingId'])}`, 'session', {
          level: 'strong',
          blocked: false,
          mutedUntil: null,
        }),
        200,
      );
    }
    const inbox = await inboxIds();
    const kept = (known.get('messageId') ?? []).slice(0, 2);
    const present = await Promise.all(
      kept.map(async (id) => (inbox.includes(id) ? id : deliver((delivered += 1)))),
    );
    known.set('messageId', [...present, messages[2] ?? '']);
  };

  return { credentials, known, renew };
};

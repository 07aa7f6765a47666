import type { KnownScope } from './fuzzCase.js';

/**
 * The world the fuzzer's requests act on, set up through the API itself (docs/api.md): one app
 * with a secret, one person with a session who has allowed the app at level strong, a Bark device,
 * messages in the person's inbox, an open complaint about one, a test push, and a message held
 * for review. Requests name these by their fields' names (`appId`, `bindingId`, `messageId`,
 * `complaintId`, `key`, `openid`, `redirectUri`, `username`, `password`), so they reach the code
 * behind "not found"; on the moderation routes `messageId` is the held message, on the test-push
 * route the test push ({@link Fixture.scopes}), so every operation can succeed. Fuzzed requests
 * change that world (rotate the secret, log out, unbind, archive, uphold, approve, delete the
 * account): {@link Fixture.renew} puts it back.
 */

/** Where the fixture is set up and with what. */
export interface FixtureOptions {
  readonly base: string;
  readonly operatorToken: string;
  readonly auditToken: string;
  /** A fresh `X-Request-Id` for each set-up request, so the events it causes are known as wanted. */
  readonly nextRequestId: () => string;
  /**
   * The person's Bark device. By default a host that resolves nowhere in a fuzz run, so pushes
   * fail; a target with a bark-server stand-in names one that reaches it.
   */
  readonly device?: { readonly serverUrl: string; readonly deviceKey: string };
  /**
   * Text that makes the target's moderation hold a message for an operator (a checker's review
   * marker). Without it there is no held message, and approving or rejecting cannot succeed.
   */
  readonly holdMarker?: string;
}

/** The fixture's credentials (by the document's security scheme names) and named values. */
export interface Fixture {
  readonly credentials: ReadonlyMap<string, string>;
  readonly known: ReadonlyMap<string, readonly string[]>;
  /** Names whose values are others of {@link known} on some routes. */
  readonly scopes?: readonly KnownScope[];
  /**
   * Restores what fuzzed requests may have changed: session, device, secret, app standing,
   * binding, inbox, the open complaint, the held message.
   */
  renew(): Promise<void>;
}

const REDIRECT = 'https://fuzz.example/callback';
/** The device of a fixture not given one: its host resolves nowhere in a fuzz run. */
const NOWHERE_DEVICE = { serverUrl: 'https://bark.fuzz.example', deviceKey: 'fuzzdevice' };
/**
 * How long a set-up step waits for the processors (routing, moderation) to do their part: they
 * take a few milliseconds, so the first looks come soon; on a busy machine up to 15 s.
 */
const POLL_WAIT_MS = 15_000;
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
  // A stream the log has, for the audit routes (`app-<appId>` is written by the creation above).
  known.set('stream', [`app-${appId}`]);

  let username = '';
  /** The app's id for the person: a new person needs a new one (the old stays theirs). */
  let openid = OPENID;
  /**
   * A new person with a session: at the start, and again after a fuzzed request deleted the
   * account (`DELETE /v1/me` with the fixture's password, or an operator's deletion): a deleted
   * username cannot be registered again.
   */
  const register = async (): Promise<void> => {
    username = `fuzz_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
    known.set('username', [username]);
    const reply = expectStatus(
      'registering',
      await call('POST', '/v1/auth/register', 'none', { username, password: PASSWORD }),
      201,
    );
    takeSession('registering', reply);
    known.set('recipientId', [string('registering', reply, 'recipientId')]);
  };
  await register();

  const authorize = async (): Promise<void> => {
    const reply = expectStatus(
      'allowing the app',
      await call('POST', '/v1/me/authorizations', 'session', {
        appId,
        openid,
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

  /** A Bark device, so test pushes and deliveries run. */
  const device = options.device ?? NOWHERE_DEVICE;
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
    return items.find((item) => item['appId'] === appId && item['openid'] === openid);
  };
  /**
   * The person's first Bark device (the one PUT /v1/me/devices/bark saves), by its id; devices
   * fuzzed requests added besides it are removed, so the person never reaches the limit.
   */
  const knowDevice = async (): Promise<void> => {
    const reply = expectStatus(
      'listing the devices',
      await call('GET', '/v1/me/devices', 'session'),
      200,
    );
    const items = Array.isArray(reply.body['items'])
      ? (reply.body['items'] as Record<string, unknown>[])
      : [];
    const first = items.find((item) => item['kind'] === 'bark');
    if (typeof first?.['deviceId'] !== 'string')
      throw new FixtureError('fixture: the Bark device is not in GET /v1/me/devices');
    known.set('deviceId', [first['deviceId']]);
    for (const item of items) {
      if (item === first || typeof item['deviceId'] !== 'string') continue;
      await call('DELETE', `/v1/me/devices/${encodeURIComponent(item['deviceId'])}`, 'session');
    }
  };
  await knowDevice();
  // A new device's body: the kind and settings of the fixture's own device.
  known.set('kind', ['bark']);
  known.set('serverUrl', [device.serverUrl]);
  known.set('deviceKey', [device.deviceKey]);

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
  const reinstate = async (): Promise<void> => {
    expectStatus(
      'reinstating the app',
      await call('POST', `/v1/admin/apps/${encodeURIComponent(appId)}/reinstate`, 'operatorToken', {
        note: 'fuzz fixture',
      }),
      200,
    );
  };
  /**
   * Sends a message to the person and answers its id. An upheld complaint costs the app points
   * after its answer (the reputation processor), so the app may be suspended or banned by the time
   * the fixture sends: then it is reinstated and the message sent again.
   */
  const submit = async (body: string): Promise<string> => {
    const message = { key: known.get('key')?.[0], title: 'Fuzz', body };
    let sent = await call('POST', '/v1/messages', 'appSecret', message);
    const suspended = (reply: Reply): boolean =>
      reply.body['code'] === 'app_suspended' || reply.body['code'] === 'app_banned';
    for (let tries = 0; suspended(sent) && tries < 3; tries += 1) {
      await reinstate();
      sent = await call('POST', '/v1/messages', 'appSecret', message);
    }
    return string('sending a message', expectStatus('sending a message', sent, 202), 'messageId');
  };
  /** Waits until `done`, or throws saying `what` did not happen. */
  const poll = async (what: () => string, done: () => Promise<boolean>): Promise<void> => {
    const started = performance.now();
    for (let pause = 2; !(await done()); pause = Math.min(pause * 2, 50)) {
      if (performance.now() - started > POLL_WAIT_MS) throw new FixtureError(`fixture: ${what()}`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };
  /** Sends a message and waits until it is in the inbox (routing happens after the 202). */
  const deliver = async (n: number): Promise<string> => {
    const messageId = await submit(`fixture message ${n}`);
    await poll(
      () => `message ${messageId} never reached the inbox`,
      async () => (await inboxIds()).includes(messageId),
    );
    return messageId;
  };
  const messages = [await deliver(1), await deliver(2), await deliver(3)];
  known.set('messageId', messages);
  let delivered = 3;

  /** Files a complaint about a message (a new one unless given), open until an operator decides. */
  const complain = async (messageId?: string): Promise<void> => {
    const about = messageId ?? (await deliver((delivered += 1)));
    const complaint = expectStatus(
      'complaining',
      await call('POST', `/v1/me/inbox/${encodeURIComponent(about)}/complaints`, 'session', {
        category: 'spam',
        reason: 'fuzz fixture',
      }),
      201,
    );
    known.set('complaintId', [string('complaining', complaint, 'complaintId')]);
  };
  await complain(messages[2]);
  /** Whether the fixture's complaint is still open (not withdrawn, upheld or dismissed). */
  const complaintOpen = async (): Promise<boolean> => {
    const reply = expectStatus(
      'listing the complaints',
      await call('GET', '/v1/me/complaints', 'session'),
      200,
    );
    const items = Array.isArray(reply.body['items'])
      ? (reply.body['items'] as Record<string, unknown>[])
      : [];
    const id = known.get('complaintId')?.[0];
    return items.some((item) => item['complaintId'] === id && item['status'] === 'open');
  };

  const testPush = async (): Promise<void> => {
    const pushed = expectStatus(
      'sending a test push',
      await call('POST', '/v1/me/test-push', 'session'),
      202,
    );
    known.set('testPushId', [string('sending a test push', pushed, 'messageId')]);
  };
  await testPush();
  const scopes: KnownScope[] = [
    { pathPrefix: '/v1/me/test-push/', name: 'messageId', from: 'testPushId' },
  ];

  const { holdMarker } = options;
  /** Sends a message the moderation holds and waits until it is held. */
  const hold = async (marker: string): Promise<void> => {
    const messageId = await submit(`fixture message held for review ${marker}`);
    let status: unknown;
    await poll(
      () => `message ${messageId} was never held (it is ${String(status)})`,
      async () => {
        const reply = await call(
          'GET',
          `/v1/messages/${encodeURIComponent(messageId)}`,
          'appSecret',
        );
        status = reply.body['status'];
        if (status !== 'submitted' && status !== 'held')
          throw new FixtureError(`fixture: message ${messageId} is ${String(status)}, not held`);
        return status === 'held';
      },
    );
    known.set('heldMessageId', [messageId]);
  };
  const stillHeld = async (): Promise<boolean> => {
    const reply = expectStatus(
      'listing the held messages',
      await call('GET', '/v1/admin/moderation/held', 'operatorToken'),
      200,
    );
    const items = Array.isArray(reply.body['items'])
      ? (reply.body['items'] as Record<string, unknown>[])
      : [];
    const id = known.get('heldMessageId')?.[0];
    return items.some((item) => item['messageId'] === id);
  };
  if (holdMarker !== undefined) {
    await hold(holdMarker);
    scopes.push({ pathPrefix: '/v1/admin/moderation/', name: 'messageId', from: 'heldMessageId' });
  }

  const renew = async (): Promise<void> => {
    let reborn = false;
    const me = await call('GET', '/v1/me', 'session');
    if (me.status === 401) {
      const login = await call('POST', '/v1/auth/login', 'none', {
        username,
        password: PASSWORD,
      });
      // Unknown after a login that worked before: the account was deleted.
      if (login.status === 401) {
        await register();
        openid = `${OPENID}-${username}`;
        known.set('openid', [openid]);
        reborn = true;
      } else takeSession('logging in again', expectStatus('logging in again', login, 200));
    }
    const bark = (
      me.body['devices'] as Record<string, Record<string, unknown> | undefined> | undefined
    )?.['bark'];
    if (me.status === 401 || bark?.['serverUrl'] !== device.serverUrl || 'broken' in bark) {
      await addDevice();
    }
    await knowDevice();
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
    if (status !== 'active') await reinstate();
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
      current['mutedUntil'] !== null ||
      current['devices'] !== null
    ) {
      expectStatus(
        'resetting the binding',
        await call('PATCH', `/v1/me/apps/${encodeURIComponent(current['bindingId'])}`, 'session', {
          level: 'strong',
          blocked: false,
          mutedUntil: null,
          devices: null,
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
    // Upholding, dismissing or withdrawing the complaint closes it; an operator's verdict, or the
    // app cancelling it, ends the hold.
    if (!(await complaintOpen())) await complain();
    if (holdMarker !== undefined && !(await stillHeld())) await hold(holdMarker);
    if (reborn) await testPush();
  };

  return { credentials, known, scopes, renew };
};

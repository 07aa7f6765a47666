import { expect } from 'chai';
import type { LookupAddress } from 'node:dns';
import {
  systemResolver,
  type HostResolver,
} from '../../../../adapters/outbound/destinationGuard.js';
import {
  errorPaths,
  eventCount,
  eventsAfter,
  expectNoNewEvents,
  expectProblem,
  logText,
  PASSWORD,
  registerPerson,
  uniqueUsername,
  type Person,
} from '../../../support/httpFixtures.js';
import {
  call,
  sessionCookieOf,
  startTestServer,
  type Reply,
  type TestServer,
} from '../../../support/testServer.js';

interface Me {
  recipientId: string;
  username: string;
  devices: { bark?: { serverUrl: string } };
}

const DEVICE_KEY = 'PhoneKey_0123456789-abc';

/** The attributes of a Set-Cookie header value, lower-cased names → values ('' for flags). */
const cookieAttributes = (reply: Reply<unknown>): Map<string, string> => {
  const header = reply.headers.get('set-cookie');
  expect(header, 'Set-Cookie header').to.be.a('string');
  const [, ...attributes] = (header ?? '').split(';').map((part) => part.trim());
  return new Map(
    attributes.map((attribute) => {
      const index = attribute.indexOf('=');
      return index < 0
        ? [attribute.toLowerCase(), '']
        : [attribute.slice(0, index).toLowerCase(), attribute.slice(index + 1)];
    }),
  );
};

const getMe = (server: TestServer, cookie?: string): Promise<Reply<Me>> =>
  call<Me>(server.base, 'GET', '/v1/me', cookie === undefined ? {} : { cookie });

const login = (
  server: TestServer,
  username: string,
  password: string,
  headers?: Record<string, string>,
) =>
  call(server.base, 'POST', '/v1/auth/login', {
    body: { username, password },
    ...(headers === undefined ? {} : { headers }),
  });

const putBark = (server: TestServer, cookie: string, serverUrl: string, deviceKey = DEVICE_KEY) =>
  call(server.base, 'PUT', '/v1/me/devices/bark', {
    cookie,
    body: { serverUrl, deviceKey },
  });

describe('HTTP recipient API: accounts and sessions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.dispose();
  });

  describe('POST /v1/auth/register', () => {
    it('answers 201 with the account and an HttpOnly, SameSite=Lax, Path=/ session cookie (no Secure over http)', async () => {
      const username = uniqueUsername('reg');
      const before = await eventCount(server.tidings);
      const reply = await call(server.base, 'POST', '/v1/auth/register', {
        body: { username, password: PASSWORD },
      });
      expect(reply.status).to.equal(201);
      expect(reply.body['username']).to.equal(username);
      expect(reply.body['recipientId']).to.be.a('string').and.match(/^rcp_/);

      const cookie = sessionCookieOf(reply);
      expect(cookie).to.match(/^tidings_session=tss_[A-Za-z0-9_-]{43}$/);
      const attributes = cookieAttributes(reply);
      expect(attributes.has('httponly')).to.equal(true);
      expect(attributes.get('samesite')).to.equal('Lax');
      expect(attributes.get('path')).to.equal('/');
      expect(attributes.has('secure')).to.equal(false);
      expect(Number(attributes.get('max-age'))).to.be.greaterThan(0);

      const appended = await eventsAfter(server.tidings, before);
      expect(appended.map((event) => event.type)).to.deep.equal([
        'RecipientRegistered',
        'RecipientSessionStarted',
      ]);
      // The log holds a slow-KDF hash of the password and the hash of the session, never either.
      const registered = appended[0]?.data as Record<string, unknown>;
      expect(registered['passwordHash'])
        .to.be.a('string')
        .and.match(/^scrypt\$/);
      const text = logText(appended);
      expect(text).not.to.include(PASSWORD);
      expect(text).not.to.include(cookie.slice('tidings_session='.length));
    });

    it('logs the person in: the cookie works for GET /v1/me', async () => {
      const person = await registerPerson(server);
      const me = await getMe(server, person.cookie);
      expect(me.status).to.equal(200);
      expect(me.body).to.deep.equal({
        recipientId: person.recipientId,
        username: person.username,
        devices: {},
      });
    });

    it('answers 409 for a username that is taken, whatever its case, and writes nothing', async () => {
      const person = await registerPerson(server);
      for (const username of [person.username, person.username.toUpperCase()]) {
        const reply = await expectNoNewEvents(server.tidings, () =>
          call(server.base, 'POST', '/v1/auth/register', {
            body: { username, password: 'another password 123' },
          }),
        );
        expectProblem(reply, 409, 'already_exists');
        expect(reply.headers.get('set-cookie')).to.equal(null);
      }
      // The first owner's password still works: the name was not taken over.
      expect((await login(server, person.username, PASSWORD)).status).to.equal(200);
    });

    const invalid: readonly { what: string; body: unknown; path: string }[] = [
      {
        what: 'a username under 3 characters',
        body: { username: 'ab', password: PASSWORD },
        path: '/username',
      },
      {
        what: 'a username over 32 characters',
        body: { username: 'u'.repeat(33), password: PASSWORD },
        path: '/username',
      },
      {
        what: 'a username with a space',
        body: { username: 'has space', password: PASSWORD },
        path: '/username',
      },
      {
        what: 'a username with a slash',
        body: { username: 'a/b/c', password: PASSWORD },
        path: '/username',
      },
      {
        what: 'a username that is a number',
        body: { username: 12345, password: PASSWORD },
        path: '/username',
      },
      { what: 'a missing username', body: { password: PASSWORD }, path: '/username' },
      {
        what: 'a password under 8 characters',
        body: { username: 'shorty', password: 'short' },
        path: '/password',
      },
      {
        what: 'a password over 256 characters',
        body: { username: 'longpw', password: 'p'.repeat(257) },
        path: '/password',
      },
      { what: 'a missing password', body: { username: 'nopass' }, path: '/password' },
      {
        what: 'an unknown field',
        body: { username: 'extra', password: PASSWORD, email: 'a@b.example' },
        path: '/email',
      },
    ];
    for (const { what, body, path } of invalid) {
      it(`refuses ${what}: 400 validation_failed at ${path}, no cookie, nothing written`, async () => {
        const reply = await expectNoNewEvents(server.tidings, () =>
          call(server.base, 'POST', '/v1/auth/register', { body }),
        );
        const problem = expectProblem(reply, 400, 'validation_failed');
        expect(errorPaths(problem)).to.include(path);
        expect(reply.headers.get('set-cookie')).to.equal(null);
      });
    }

    it('accepts letters of any script in a username', async () => {
      const person = await registerPerson(server, `名前_${uniqueUsername('x').slice(-6)}`);
      const me = await getMe(server, person.cookie);
      expect(me.body.username).to.equal(person.username);
    });

    it('answers malformed JSON with 400 invalid_json', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/auth/register', { rawBody: '{"username": ' }),
      );
      expectProblem(reply, 400, 'invalid_json');
    });

    it('answers a body over 64 KiB with 413 payload_too_large', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/auth/register', {
          body: { username: 'big', password: 'p'.repeat(70 * 1024) },
        }),
      );
      expectProblem(reply, 413, 'payload_too_large');
    });
  });

  describe('POST /v1/auth/login', () => {
    let person: Person;
    before(async () => {
      person = await registerPerson(server);
    });

    it('answers 200 with the account and a new session cookie (HttpOnly, SameSite=Lax, Path=/)', async () => {
      const before = await eventCount(server.tidings);
      const reply = await login(server, person.username, PASSWORD);
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal({
        recipientId: person.recipientId,
        username: person.username,
      });
      const cookie = sessionCookieOf(reply);
      expect(cookie).not.to.equal(person.cookie);
      const attributes = cookieAttributes(reply);
      expect(attributes.has('httponly')).to.equal(true);
      expect(attributes.get('samesite')).to.equal('Lax');
      expect(attributes.get('path')).to.equal('/');
      expect(attributes.has('secure')).to.equal(false);
      expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
        'RecipientSessionStarted',
      ]);
      // Both sessions are valid at the same time.
      expect((await getMe(server, cookie)).status).to.equal(200);
      expect((await getMe(server, person.cookie)).status).to.equal(200);
    });

    it('finds the account whatever the case of the username', async () => {
      const reply = await login(server, person.username.toUpperCase(), PASSWORD);
      expect(reply.status).to.equal(200);
      expect(reply.body['recipientId']).to.equal(person.recipientId);
    });

    it('answers a wrong password with 401 unauthorized, no cookie, nothing written', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        login(server, person.username, 'wrong password 123'),
      );
      expectProblem(reply, 401, 'unauthorized');
      expect(reply.headers.get('set-cookie')).to.equal(null);
    });

    it('answers an unknown username with exactly the same 401 as a wrong password', async () => {
      const wrongPassword = await login(server, person.username, 'wrong password 123');
      const unknownUser = await expectNoNewEvents(server.tidings, () =>
        login(server, uniqueUsername('ghost'), 'wrong password 123'),
      );
      expectProblem(unknownUser, 401, 'unauthorized');
      expect(unknownUser.status).to.equal(wrongPassword.status);
      expect(unknownUser.body).to.deep.equal(wrongPassword.body);
      expect(unknownUser.headers.get('content-type')).to.equal(
        wrongPassword.headers.get('content-type'),
      );
      expect(unknownUser.headers.get('set-cookie')).to.equal(null);
    });

    it('refuses an invalid body with 400 validation_failed naming the field', async () => {
      const reply = await call(server.base, 'POST', '/v1/auth/login', {
        body: { username: person.username, password: PASSWORD, remember: true },
      });
      expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.deep.equal([
        '/remember',
      ]);
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('answers 204, clears the cookie, and the old cookie no longer works', async () => {
      const person = await registerPerson(server);
      const other = sessionCookieOf(await login(server, person.username, PASSWORD));
      const before = await eventCount(server.tidings);

      const reply = await call(server.base, 'POST', '/v1/auth/logout', { cookie: person.cookie });
      expect(reply.status).to.equal(204);
      expect(sessionCookieOf(reply)).to.equal('tidings_session=');
      const attributes = cookieAttributes(reply);
      expect(attributes.get('max-age')).to.equal('0');
      expect(attributes.get('path')).to.equal('/');
      expect(attributes.has('httponly')).to.equal(true);
      expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
        'RecipientSessionEnded',
      ]);

      expectProblem(await getMe(server, person.cookie), 401, 'unauthorized');
      // Only that session ended: the person's other login still works.
      expect((await getMe(server, other)).status).to.equal(200);
    });

    it('answers 204 without a session and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/auth/logout'),
      );
      expect(reply.status).to.equal(204);
    });

    it('answers 204 again for an already ended session and writes nothing', async () => {
      const person = await registerPerson(server);
      await call(server.base, 'POST', '/v1/auth/logout', { cookie: person.cookie });
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/auth/logout', { cookie: person.cookie }),
      );
      expect(reply.status).to.equal(204);
    });
  });

  describe('GET /v1/me', () => {
    it('answers 401 unauthorized without a cookie', async () => {
      expectProblem(await getMe(server), 401, 'unauthorized');
    });

    it('answers 401 unauthorized for a made-up session', async () => {
      expectProblem(
        await getMe(server, `tidings_session=tss_${'A'.repeat(43)}`),
        401,
        'unauthorized',
      );
      expectProblem(await getMe(server, 'tidings_session=%E0%A4%A'), 401, 'unauthorized');
    });

    it('does not take the session from a differently named cookie', async () => {
      const person = await registerPerson(server);
      const value = person.cookie.slice('tidings_session='.length);
      expectProblem(await getMe(server, `other_session=${value}`), 401, 'unauthorized');
      expect((await getMe(server, `other=1; ${person.cookie}; more=2`)).status).to.equal(200);
    });
  });
});

describe('HTTP recipient API: Bark device', () => {
  /** Test DNS: a few fixed names; `localhost` through the system (its /etc/hosts answer). */
  const names: Readonly<Record<string, LookupAddress[]>> = {
    'evil.test': [{ address: '10.0.0.5', family: 4 }],
    'rebind.test': [{ address: '169.254.169.254', family: 4 }],
    'six.test': [{ address: 'fd12:3456::7', family: 6 }],
    'mixed.test': [
      { address: '93.184.216.34', family: 4 },
      { address: '192.168.1.20', family: 4 },
    ],
    'bark.example.test': [{ address: '93.184.216.34', family: 4 }],
  };
  const resolver: HostResolver = async (hostname) => {
    if (hostname === 'localhost') return systemResolver(hostname);
    const answer = names[hostname];
    if (answer === undefined)
      throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return Promise.resolve(answer);
  };

  let server: TestServer;
  before(async () => {
    server = await startTestServer({ resolver });
  });
  after(async () => {
    await server.dispose();
  });

  it('PUT saves a public server: 200 with the normalised URL; GET /v1/me shows it, never the device key', async () => {
    const person = await registerPerson(server);
    const before = await eventCount(server.tidings);
    const reply = await putBark(server, person.cookie, 'https://bark.example.test/');
    expect(reply.status).to.equal(200);
    expect(reply.body).to.deep.equal({ serverUrl: 'https://bark.example.test' });
    const appended = await eventsAfter(server.tidings, before);
    expect(appended.map((event) => event.type)).to.deep.equal(['RecipientDeviceAdded']);
    // The key is sealed before it reaches the log.
    expect(JSON.stringify(appended.map((event) => event.data))).not.to.include(DEVICE_KEY);

    const me = await getMe(server, person.cookie);
    expect(me.body.devices).to.deep.equal({ bark: { serverUrl: 'https://bark.example.test' } });
    expect(JSON.stringify(me.body)).not.to.include(DEVICE_KEY);
    expect(JSON.stringify(reply.body)).not.to.include(DEVICE_KEY);
  });

  it('PUT accepts a public IP literal and replaces the earlier device', async () => {
    const person = await registerPerson(server);
    expect((await putBark(server, person.cookie, 'https://bark.example.test')).status).to.equal(
      200,
    );
    const reply = await putBark(
      server,
      person.cookie,
      'http://93.184.216.34:8080/push/',
      'OtherKey',
    );
    expect(reply.status).to.equal(200);
    expect(reply.body).to.deep.equal({ serverUrl: 'http://93.184.216.34:8080/push' });
    const me = await getMe(server, person.cookie);
    expect(me.body.devices).to.deep.equal({
      bark: { serverUrl: 'http://93.184.216.34:8080/push' },
    });
  });

  it('PUT of the same device again writes nothing new', async () => {
    const person = await registerPerson(server);
    await putBark(server, person.cookie, 'https://bark.example.test');
    const reply = await expectNoNewEvents(server.tidings, () =>
      putBark(server, person.cookie, 'https://bark.example.test'),
    );
    expect(reply.status).to.equal(200);
  });

  it('DELETE removes the device: 204, GET /v1/me shows no devices; a second DELETE is 204 and writes nothing', async () => {
    const person = await registerPerson(server);
    await putBark(server, person.cookie, 'https://bark.example.test');
    const before = await eventCount(server.tidings);
    const reply = await call(server.base, 'DELETE', '/v1/me/devices/bark', {
      cookie: person.cookie,
    });
    expect(reply.status).to.equal(204);
    expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
      'RecipientDeviceRemoved',
    ]);
    expect((await getMe(server, person.cookie)).body.devices).to.deep.equal({});

    const again = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'DELETE', '/v1/me/devices/bark', { cookie: person.cookie }),
    );
    expect(again.status).to.equal(204);
  });

  it('PUT and DELETE answer 401 without a session and write nothing', async () => {
    const put = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'PUT', '/v1/me/devices/bark', {
        body: { serverUrl: 'https://bark.example.test', deviceKey: DEVICE_KEY },
      }),
    );
    expectProblem(put, 401, 'unauthorized');
    const del = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'DELETE', '/v1/me/devices/bark'),
    );
    expectProblem(del, 401, 'unauthorized');
  });

  const invalidBodies: readonly { what: string; body: unknown; path: string }[] = [
    {
      what: 'a device key with a slash',
      body: { serverUrl: 'https://bark.example.test', deviceKey: 'a/b' },
      path: '/deviceKey',
    },
    {
      what: 'an empty device key',
      body: { serverUrl: 'https://bark.example.test', deviceKey: '' },
      path: '/deviceKey',
    },
    {
      what: 'a missing device key',
      body: { serverUrl: 'https://bark.example.test' },
      path: '/deviceKey',
    },
    { what: 'a missing server URL', body: { deviceKey: DEVICE_KEY }, path: '/serverUrl' },
    {
      what: 'an unknown field',
      body: { serverUrl: 'https://bark.example.test', deviceKey: DEVICE_KEY, sound: 'bell' },
      path: '/sound',
    },
  ];
  for (const { what, body, path } of invalidBodies) {
    it(`PUT refuses ${what}: 400 validation_failed at ${path}, nothing written`, async () => {
      const person = await registerPerson(server);
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'PUT', '/v1/me/devices/bark', { cookie: person.cookie, body }),
      );
      expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.include(path);
    });
  }

  describe('refused destinations: 400 forbidden_destination, nothing written', () => {
    let person: Person;
    before(async () => {
      person = await registerPerson(server);
    });
    after(async () => {
      // None of the refused URLs was saved.
      const me = await getMe(server, person.cookie);
      expect(me.body.devices).to.deep.equal({});
    });

    const refused: readonly { what: string; url: string; reasons: readonly string[] }[] = [
      { what: 'IPv4 loopback', url: 'http://127.0.0.1:8080/', reasons: ['loopback'] },
      { what: 'another loopback address', url: 'https://127.8.9.10/', reasons: ['loopback'] },
      { what: 'IPv6 loopback', url: 'http://[::1]/', reasons: ['loopback'] },
      { what: 'decimal spelling of 127.0.0.1', url: 'http://2130706433/', reasons: ['loopback'] },
      { what: 'octal spelling of 127.0.0.1', url: 'http://0177.0.0.1/', reasons: ['loopback'] },
      { what: 'hex spelling of 127.0.0.1', url: 'http://0x7f.0x0.0x0.0x1/', reasons: ['loopback'] },
      { what: 'short form 127.1', url: 'http://127.1/', reasons: ['loopback'] },
      { what: 'hex spelling of 10.0.0.1', url: 'http://0x0a000001/', reasons: ['private'] },
      { what: 'private 10/8', url: 'http://10.1.2.3/', reasons: ['private'] },
      { what: 'private 172.16/12', url: 'http://172.20.0.1/', reasons: ['private'] },
      { what: 'private 192.168/16', url: 'https://192.168.0.1/', reasons: ['private'] },
      { what: 'link-local 169.254/16', url: 'http://169.254.10.20/', reasons: ['link_local'] },
      {
        what: 'cloud metadata 169.254.169.254',
        url: 'http://169.254.169.254/latest/meta-data/',
        reasons: ['metadata'],
      },
      {
        what: 'AWS IPv6 metadata fd00:ec2::254',
        url: 'http://[fd00:ec2::254]/',
        reasons: ['metadata'],
      },
      { what: 'unspecified 0.0.0.0', url: 'http://0.0.0.0:8080/', reasons: ['unspecified'] },
      { what: 'unspecified ::', url: 'http://[::]/', reasons: ['unspecified'] },
      {
        what: 'IPv4-mapped IPv6 loopback',
        url: 'http://[::ffff:127.0.0.1]/',
        reasons: ['loopback'],
      },
      {
        what: 'IPv4-mapped IPv6 private (hex form)',
        url: 'http://[::ffff:a00:1]/',
        reasons: ['private'],
      },
      { what: 'unique local fc00::/7 (fc..)', url: 'http://[fc00::1]/', reasons: ['private'] },
      {
        what: 'unique local fc00::/7 (fd..)',
        url: 'http://[fd12:3456:789a::1]/',
        reasons: ['private'],
      },
      { what: 'link-local fe80::/10', url: 'http://[fe80::1]/', reasons: ['link_local'] },
      { what: 'link-local fe80::/10 (febf..)', url: 'http://[febf::1]/', reasons: ['link_local'] },
      { what: 'carrier-grade NAT 100.64/10', url: 'http://100.64.0.1/', reasons: ['shared'] },
      {
        what: 'localhost (resolves to loopback)',
        url: 'http://localhost:8080/',
        reasons: ['loopback'],
      },
      {
        what: 'a name resolving to a private address',
        url: 'https://evil.test/push',
        reasons: ['private'],
      },
      {
        what: 'a name resolving to the metadata address',
        url: 'http://rebind.test/',
        reasons: ['metadata'],
      },
      {
        what: 'a name resolving to a unique-local IPv6 address',
        url: 'http://six.test/',
        reasons: ['private'],
      },
      {
        what: 'a name with one public and one private address',
        url: 'https://mixed.test/',
        reasons: ['private'],
      },
      {
        what: 'a name that does not resolve',
        url: 'https://nowhere.test/',
        reasons: ['unresolvable'],
      },
      { what: 'an ftp URL', url: 'ftp://bark.example.test/', reasons: ['unsupported_scheme'] },
      { what: 'a file URL', url: 'file:///etc/passwd', reasons: ['unsupported_scheme'] },
      { what: 'a javascript URL', url: 'javascript:alert(1)', reasons: ['unsupported_scheme'] },
      {
        what: 'credentials in the URL',
        url: 'https://user:pw@bark.example.test/',
        reasons: ['credentials_in_url'],
      },
      { what: 'a relative URL', url: '/push', reasons: ['invalid_url'] },
    ];
    for (const { what, url, reasons } of refused) {
      it(`${what}: ${url}`, async () => {
        const reply = await expectNoNewEvents(server.tidings, () =>
          putBark(server, person.cookie, url),
        );
        const problem = expectProblem(reply, 400, 'forbidden_destination');
        expect(problem['reason']).to.be.oneOf(reasons);
        expect(errorPaths(problem)).to.deep.equal(['/serverUrl']);
      });
    }

    it('refuses a loopback destination even when a device was saved before, and keeps the old one', async () => {
      const other = await registerPerson(server);
      await putBark(server, other.cookie, 'https://bark.example.test');
      const reply = await expectNoNewEvents(server.tidings, () =>
        putBark(server, other.cookie, 'http://127.0.0.1/'),
      );
      expectProblem(reply, 400, 'forbidden_destination');
      expect((await getMe(server, other.cookie)).body.devices).to.deep.equal({
        bark: { serverUrl: 'https://bark.example.test' },
      });
    });
  });
});

describe('HTTP recipient API: TIDINGS_OUTBOUND_ALLOWLIST and an https public URL', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: {
        TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        TIDINGS_PUBLIC_URL: 'https://tidings.example',
      },
    });
  });
  after(async () => {
    await server.dispose();
  });

  it('lets an allowlisted loopback Bark server through: PUT 200, GET /v1/me shows it, DELETE 204', async () => {
    const person = await registerPerson(server);
    const before = await eventCount(server.tidings);
    const reply = await putBark(server, person.cookie, 'http://127.0.0.1:8091/');
    expect(reply.status).to.equal(200);
    expect(reply.body).to.deep.equal({ serverUrl: 'http://127.0.0.1:8091' });
    expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
      'RecipientDeviceAdded',
    ]);
    const me = await getMe(server, person.cookie);
    expect(me.body.devices).to.deep.equal({ bark: { serverUrl: 'http://127.0.0.1:8091' } });
    expect(JSON.stringify(me.body)).not.to.include(DEVICE_KEY);

    const removed = await call(server.base, 'DELETE', '/v1/me/devices/bark', {
      cookie: person.cookie,
    });
    expect(removed.status).to.equal(204);
    expect((await getMe(server, person.cookie)).body.devices).to.deep.equal({});
  });

  it('the allowlist is exact: other loopback and private addresses stay refused', async () => {
    const person = await registerPerson(server);
    for (const url of ['http://127.0.0.2/', 'http://10.0.0.1/', 'http://[::1]/']) {
      const reply = await expectNoNewEvents(server.tidings, () =>
        putBark(server, person.cookie, url),
      );
      expectProblem(reply, 400, 'forbidden_destination');
    }
  });

  it('marks the session cookie Secure when the public URL is https', async () => {
    const username = uniqueUsername('secure');
    const reply = await call(server.base, 'POST', '/v1/auth/register', {
      body: { username, password: PASSWORD },
    });
    expect(reply.status).to.equal(201);
    const attributes = cookieAttributes(reply);
    expect(attributes.has('secure')).to.equal(true);
    expect(attributes.has('httponly')).to.equal(true);
    expect(attributes.get('samesite')).to.equal('Lax');
  });
});

describe('HTTP recipient API: login rate limiting per username', () => {
  let server: TestServer;
  let victim: Person;
  let bystander: Person;
  before(async () => {
    server = await startTestServer({ authFailureBurst: { perIp: 100, perUsername: 3 } });
    victim = await registerPerson(server);
    bystander = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  it('after 3 wrong passwords for one username, a 4th attempt, even with the right password, is 429 rate_limited with Retry-After', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expectProblem(
        await login(server, victim.username, `wrong password ${attempt}`),
        401,
        'unauthorized',
      );
    }
    const limited = await expectNoNewEvents(server.tidings, () =>
      login(server, victim.username, PASSWORD),
    );
    const problem = expectProblem(limited, 429, 'rate_limited');
    const retryAfter = limited.headers.get('retry-after');
    expect(retryAfter).to.match(/^\d+$/);
    expect(Number(retryAfter)).to.be.greaterThan(0);
    expect(problem['retryAfterSeconds']).to.equal(Number(retryAfter));
    expect(limited.headers.get('set-cookie')).to.equal(null);
  });

  it('keeps limiting that username in another case', async () => {
    const reply = await login(server, victim.username.toUpperCase(), PASSWORD);
    expectProblem(reply, 429, 'rate_limited');
  });

  it('another username from the same address still logs in', async () => {
    const reply = await login(server, bystander.username, PASSWORD);
    expect(reply.status).to.equal(200);
    expect(reply.body['recipientId']).to.equal(bystander.recipientId);
  });

  it("the limited person's existing session keeps working", async () => {
    expect((await getMe(server, victim.cookie)).status).to.equal(200);
  });
});

describe('HTTP recipient API: new accounts per client address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ registrationBurst: 2 });
  });
  after(async () => {
    await server.dispose();
  });

  it('takes 2 accounts from one address, then answers 429 with Retry-After and writes nothing', async () => {
    for (const name of ['first', 'second']) {
      const reply = await call(server.base, 'POST', '/v1/auth/register', {
        body: { username: uniqueUsername(name), password: PASSWORD },
      });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    }
    const limited = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', '/v1/auth/register', {
        body: { username: uniqueUsername('third'), password: PASSWORD },
      }),
    );
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
  });
});

describe('HTTP recipient API: guesses sent all at once', () => {
  let server: TestServer;
  let victim: Person;
  before(async () => {
    server = await startTestServer({ authFailureBurst: { perIp: 100, perUsername: 3 } });
    victim = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  it('lets no more guesses through than the budget, however many arrive together', async () => {
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        login(server, victim.username, `parallel guess ${index}`),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 401)).to.have.length(3);
    expect(statuses.filter((status) => status === 429)).to.have.length(9);
  });
});

describe('HTTP recipient API: login rate limiting per client address', () => {
  let server: TestServer;
  let people: Person[];
  before(async () => {
    server = await startTestServer({ authFailureBurst: { perIp: 2, perUsername: 100 } });
    people = [
      await registerPerson(server),
      await registerPerson(server),
      await registerPerson(server),
    ];
  });
  after(async () => {
    await server.dispose();
  });

  it('failures across different usernames from one address lead to 429 rate_limited for any username', async () => {
    const [first, second, third] = people;
    if (first === undefined || second === undefined || third === undefined) return expect.fail();
    expectProblem(await login(server, first.username, 'wrong password 1'), 401, 'unauthorized');
    expectProblem(
      await login(server, uniqueUsername('ghost'), 'wrong password 2'),
      401,
      'unauthorized',
    );
    const limited = await login(server, third.username, PASSWORD);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
    // Registration is guarded by the same budget (probing for taken names costs the same).
    const register = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', '/v1/auth/register', {
        body: { username: uniqueUsername('late'), password: PASSWORD },
      }),
    );
    expectProblem(register, 429, 'rate_limited');
    return undefined;
  });
});

describe('HTTP recipient API: X-Forwarded-For is ignored unless TIDINGS_TRUST_PROXY is set', () => {
  let server: TestServer;
  let person: Person;
  before(async () => {
    server = await startTestServer({ authFailureBurst: { perIp: 3, perUsername: 100 } });
    person = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  it('counts failed logins from the loopback against the socket address, whatever address each claims to forward', async () => {
    const statuses: number[] = [];
    for (let guess = 0; guess < 8; guess += 1) {
      const reply = await login(server, person.username, `wrong password ${guess}`, {
        'x-forwarded-for': `203.0.113.${guess + 1}`,
      });
      statuses.push(reply.status);
    }
    expect(statuses).to.deep.equal([401, 401, 401, 429, 429, 429, 429, 429]);
    const right = await login(server, person.username, PASSWORD, {
      'x-forwarded-for': '198.51.100.1',
    });
    expectProblem(right, 429, 'rate_limited');
  });
});

describe('HTTP recipient API: login rate limiting behind a trusted proxy (TIDINGS_TRUST_PROXY)', () => {
  let server: TestServer;
  let person: Person;
  before(async () => {
    server = await startTestServer({
      authFailureBurst: { perIp: 2, perUsername: 100 },
      env: { TIDINGS_TRUST_PROXY: 'loopback' },
    });
    person = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  it('counts the address the trusted proxy forwarded: one client is limited, another is not', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    expectProblem(
      await login(server, person.username, 'wrong password 1', from('203.0.113.7')),
      401,
      'unauthorized',
    );
    expectProblem(
      await login(server, person.username, 'wrong password 2', from('203.0.113.7')),
      401,
      'unauthorized',
    );
    expectProblem(
      await login(server, person.username, PASSWORD, from('203.0.113.7')),
      429,
      'rate_limited',
    );
    expect((await login(server, person.username, PASSWORD, from('203.0.113.8'))).status).to.equal(
      200,
    );
  });

  it('makes the session cookie Secure when the proxy forwarded X-Forwarded-Proto: https', async () => {
    const fresh = await registerPerson(server);
    const reply = await login(server, fresh.username, PASSWORD, {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
    });
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('set-cookie')).to.match(/tidings_session=[^;]+;.*Secure/);
  });
});

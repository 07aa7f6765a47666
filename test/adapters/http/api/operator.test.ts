import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Position } from '../../../../domain/shared/eventStore.js';
import {
  createApp,
  errorPaths,
  eventCount,
  eventsAfter,
  expectNoNewEvents,
  expectProblem,
  logText,
  sha256Hex,
} from '../../../support/httpFixtures.js';
import {
  call,
  publicExampleResolver,
  startTestServer,
  type TestServer,
} from '../../../support/testServer.js';

const SECRET = /^tds_[A-Za-z0-9_-]{43}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

interface AppView {
  appId: string;
  name: string;
  status: string;
  score: number;
  complaints: { open: number; upheld: number; dismissed: number };
  redirectUris: string[];
  registeredAt: string;
  suspendedUntil?: string;
  callbackUrl?: string;
}

describe('HTTP operator API: apps', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ resolver: publicExampleResolver });
  });
  after(async () => {
    await server.dispose();
  });

  /** GET /v1/bindings with an app secret: 401 if the secret is not accepted. */
  const lookupBinding = (secret: string, openid = 'nobody') =>
    call(server.base, 'GET', `/v1/bindings?openid=${encodeURIComponent(openid)}`, {
      token: secret,
    });

  describe('POST /v1/admin/apps', () => {
    it('registers an app: 201 with appId, a tds_ secret, name, redirectUris and the callback secret; AppRegistered and AppCallbackSet', async () => {
      const before = await eventCount(server.tidings);
      const reply = await call(server.base, 'POST', '/v1/admin/apps', {
        token: server.adminToken,
        body: {
          name: 'Work orders',
          redirectUris: ['https://orders.example/cb', 'https://orders.example/cb2?x=1'],
          callbackUrl: 'https://orders.example/hook',
        },
      });
      expect(reply.status).to.equal(201);
      expect(reply.headers.get('content-type')).to.match(/^application\/json\b/);
      expect(Object.keys(reply.body).sort()).to.deep.equal([
        'appId',
        'appSecret',
        'callbackSecret',
        'name',
        'redirectUris',
      ]);
      expect(reply.body['callbackSecret'])
        .to.be.a('string')
        .and.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(reply.body['appId'])
        .to.be.a('string')
        .and.match(/^app_[A-Za-z0-9_-]+$/);
      expect(reply.body['appSecret']).to.be.a('string').and.match(SECRET);
      expect(reply.body['name']).to.equal('Work orders');
      expect(reply.body['redirectUris']).to.deep.equal([
        'https://orders.example/cb',
        'https://orders.example/cb2?x=1',
      ]);

      const appended = await eventsAfter(server.tidings, before);
      expect(appended.map((event) => event.type)).to.deep.equal([
        'AppRegistered',
        'AppCallbackSet',
      ]);
      // The signing secret is in the log sealed only, never in clear.
      expect(JSON.stringify(appended[1]?.data)).to.not.include(
        String(reply.body['callbackSecret']),
      );
      const [event] = appended;
      expect(event?.stream).to.equal(`app-${String(reply.body['appId'])}`);
      expect(event?.metadata.actor).to.deep.equal({ kind: 'operator', id: 'operator' });
      // Only the hash of the secret is stored: the log never holds the secret itself.
      const data = event?.data as Record<string, unknown>;
      expect(data['secretHash']).to.equal(sha256Hex(String(reply.body['appSecret'])));
      expect(logText(appended)).not.to.include(String(reply.body['appSecret']));
    });

    it('gives each app its own id and secret', async () => {
      const first = await createApp(server);
      const second = await createApp(server);
      expect(first.appId).not.to.equal(second.appId);
      expect(first.appSecret).not.to.equal(second.appSecret);
    });

    it('issues a secret that authenticates the app on GET /v1/bindings (404 for an unknown openid, not 401)', async () => {
      const app = await createApp(server);
      const reply = await lookupBinding(app.appSecret);
      expectProblem(reply, 404, 'not_found');
    });

    it('refuses GET /v1/bindings with a secret nobody was given (401), so the 404 above means something', async () => {
      const reply = await lookupBinding(`tds_${'A'.repeat(43)}`);
      expectProblem(reply, 401, 'unauthorized');
    });

    describe('invalid bodies: 400 validation_failed naming the field, nothing written', () => {
      const valid = { name: 'Valid', redirectUris: ['https://valid.example/cb'] };
      const cases: readonly { what: string; body: unknown; path: string }[] = [
        {
          what: 'a redirect URI that is not a URL',
          body: { ...valid, redirectUris: ['not a url'] },
          path: '/redirectUris/0',
        },
        {
          what: 'a javascript: redirect URI (second entry)',
          body: { ...valid, redirectUris: ['https://ok.example/cb', 'javascript:alert(1)'] },
          path: '/redirectUris/1',
        },
        {
          what: 'an ftp: redirect URI',
          body: { ...valid, redirectUris: ['ftp://files.example/'] },
          path: '/redirectUris/0',
        },
        {
          what: 'a relative redirect URI',
          body: { ...valid, redirectUris: ['/callback'] },
          path: '/redirectUris/0',
        },
        {
          what: 'redirectUris as a string, not a list',
          body: { ...valid, redirectUris: 'https://x.example/' },
          path: '/redirectUris',
        },
        {
          what: 'no redirect URI at all',
          body: { ...valid, redirectUris: [] },
          path: '/redirectUris',
        },
        {
          what: 'more than 20 redirect URIs',
          body: {
            ...valid,
            redirectUris: Array.from({ length: 21 }, (_, i) => `https://x.example/${i}`),
          },
          path: '/redirectUris',
        },
        { what: 'a missing redirectUris', body: { name: 'Valid' }, path: '/redirectUris' },
        { what: 'an empty name', body: { ...valid, name: '' }, path: '/name' },
        {
          what: 'a name over 100 characters',
          body: { ...valid, name: 'n'.repeat(101) },
          path: '/name',
        },
        { what: 'a missing name', body: { redirectUris: valid.redirectUris }, path: '/name' },
        { what: 'a name that is a number', body: { ...valid, name: 42 }, path: '/name' },
        {
          what: 'a callbackUrl that is not http(s)',
          body: { ...valid, callbackUrl: 'file:///etc/passwd' },
          path: '/callbackUrl',
        },
        {
          what: 'an unknown field (a typo)',
          body: { ...valid, redirectUri: ['https://x.example/'] },
          path: '/redirectUri',
        },
        {
          what: 'an unknown field appSecret',
          body: { ...valid, appSecret: 'tds_mine' },
          path: '/appSecret',
        },
      ];
      for (const { what, body, path } of cases) {
        it(`refuses ${what} at ${path}`, async () => {
          const reply = await expectNoNewEvents(server.tidings, () =>
            call(server.base, 'POST', '/v1/admin/apps', { token: server.adminToken, body }),
          );
          const problem = expectProblem(reply, 400, 'validation_failed');
          expect(errorPaths(problem)).to.include(path);
          for (const error of problem.errors ?? [])
            expect(error.message).to.be.a('string').and.not.equal('');
        });
      }

      it('names an unknown field with "is not a known field"', async () => {
        const reply = await call(server.base, 'POST', '/v1/admin/apps', {
          token: server.adminToken,
          body: { ...valid, colour: 'blue' },
        });
        const problem = expectProblem(reply, 400, 'validation_failed');
        expect(problem.errors).to.deep.include({
          path: '/colour',
          message: 'is not a known field',
        });
      });

      it('lists every field problem at once', async () => {
        const reply = await call(server.base, 'POST', '/v1/admin/apps', {
          token: server.adminToken,
          body: { name: '', redirectUris: ['nope'], extra: true },
        });
        const problem = expectProblem(reply, 400, 'validation_failed');
        expect(errorPaths(problem)).to.include.members(['/name', '/redirectUris/0', '/extra']);
      });

      it('refuses a body that is a JSON array, not an object', async () => {
        const reply = await expectNoNewEvents(server.tidings, () =>
          call(server.base, 'POST', '/v1/admin/apps', { token: server.adminToken, body: [valid] }),
        );
        expectProblem(reply, 400, 'validation_failed');
      });
    });

    it('answers malformed JSON with 400 invalid_json and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/admin/apps', {
          token: server.adminToken,
          rawBody: '{"name": "Broken", "redirectUris": [',
        }),
      );
      expectProblem(reply, 400, 'invalid_json');
    });

    it('answers a body over 64 KiB with 413 payload_too_large and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/admin/apps', {
          token: server.adminToken,
          body: { name: 'x'.repeat(70 * 1024), redirectUris: ['https://big.example/cb'] },
        }),
      );
      expectProblem(reply, 413, 'payload_too_large');
    });

    it('accepts a body just under 64 KiB as far as the size goes (then validates it)', async () => {
      const reply = await call(server.base, 'POST', '/v1/admin/apps', {
        token: server.adminToken,
        body: { name: 'x'.repeat(60 * 1024), redirectUris: ['https://big.example/cb'] },
      });
      const problem = expectProblem(reply, 400, 'validation_failed');
      expect(errorPaths(problem)).to.deep.equal(['/name']);
    });

    it('refuses a body that is not declared as JSON with 415 unsupported_media_type', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/admin/apps', {
          token: server.adminToken,
          rawBody: JSON.stringify({ name: 'Plain', redirectUris: ['https://plain.example/cb'] }),
          headers: { 'content-type': 'text/plain' },
        }),
      );
      expectProblem(reply, 415, 'unsupported_media_type');
    });

    it('checks the credential before the body: an invalid body without a token is 401, not 400', async () => {
      const reply = await call(server.base, 'POST', '/v1/admin/apps', { body: { name: '' } });
      expectProblem(reply, 401, 'unauthorized');
    });
  });

  describe('GET /v1/admin/apps/:appId', () => {
    it('reports a new app as active, score 100, no complaints, with its redirect URIs', async () => {
      const app = await createApp(server, {
        name: 'Standing',
        redirectUris: ['https://standing.example/cb'],
      });
      const reply = await call<AppView>(server.base, 'GET', `/v1/admin/apps/${app.appId}`, {
        token: server.adminToken,
      });
      expect(reply.status).to.equal(200);
      const { registeredAt, ...rest } = reply.body;
      expect(rest).to.deep.equal({
        appId: app.appId,
        name: 'Standing',
        status: 'active',
        score: 100,
        complaints: { open: 0, upheld: 0, dismissed: 0 },
        redirectUris: ['https://standing.example/cb'],
      });
      expect(registeredAt).to.match(ISO);
      // Numbers, not strings or nulls: clients do arithmetic on them.
      expect(reply.body.score).to.be.a('number');
      for (const count of Object.values(reply.body.complaints)) expect(count).to.be.a('number');
      expect(reply.body).not.to.have.property('suspendedUntil');
      expect(JSON.stringify(reply.body)).not.to.include(app.appSecret);
    });

    it('shows the callbackUrl when one was registered', async () => {
      const app = await createApp(server, { callbackUrl: 'https://hooks.example/tidings' });
      const reply = await call<AppView>(server.base, 'GET', `/v1/admin/apps/${app.appId}`, {
        token: server.adminToken,
      });
      expect(reply.body.callbackUrl).to.equal('https://hooks.example/tidings');
    });

    it('counts complaints from the complaint events in the log, per app and per outcome', async () => {
      const app = await createApp(server);
      const other = await createApp(server);
      const file = (complaintId: string, appId: string) => ({
        type: 'ComplaintFiled',
        data: {
          complaintId,
          messageId: `msg_${complaintId}`,
          appId,
          recipientId: 'rcp_someone',
          category: 'spam',
          reason: 'unsolicited',
        },
      });
      const ids = ['c1', 'c2', 'c3', 'c4', 'c5'].map((suffix) => `cmp_${suffix}_${randomUUID()}`);
      const [open1 = '', open2 = '', upheld = '', dismissed = '', elsewhere = ''] = ids;
      const streams: [string, { type: string; data: unknown }[]][] = [
        [open1, [file(open1, app.appId)]],
        [open2, [file(open2, app.appId)]],
        [
          upheld,
          [
            file(upheld, app.appId),
            { type: 'ComplaintUpheld', data: { complaintId: upheld, severity: 'minor' } },
          ],
        ],
        [
          dismissed,
          [
            file(dismissed, app.appId),
            { type: 'ComplaintDismissed', data: { complaintId: dismissed } },
          ],
        ],
        [elsewhere, [file(elsewhere, other.appId)]],
      ];
      let last: Position | undefined;
      for (const [complaintId, events] of streams) {
        const appended = await server.tidings.store.appendToStream(
          `complaint-${complaintId}`,
          events.map((event) => ({
            id: randomUUID(),
            ...event,
            metadata: {
              occurredAt: new Date().toISOString(),
              actor: { kind: 'system', id: 'test' },
              correlationId: complaintId,
              causationId: complaintId,
              schemaVersion: 1,
            },
          })),
          { expectedRevision: 'no_stream' },
        );
        if (appended._tag === 'Left')
          expect.fail(`append failed: ${JSON.stringify(appended.left)}`);
        last = appended.right.position;
      }
      const head = last;
      if (head === undefined) return expect.fail('nothing appended');
      await Promise.all(server.tidings.runners.map((runner) => runner.waitFor(head)));

      const reply = await call<AppView>(server.base, 'GET', `/v1/admin/apps/${app.appId}`, {
        token: server.adminToken,
      });
      expect(reply.body.complaints).to.deep.equal({ open: 2, upheld: 1, dismissed: 1 });
      const otherReply = await call<AppView>(server.base, 'GET', `/v1/admin/apps/${other.appId}`, {
        token: server.adminToken,
      });
      expect(otherReply.body.complaints).to.deep.equal({ open: 1, upheld: 0, dismissed: 0 });
      return undefined;
    });

    it('answers 404 not_found for an unknown app', async () => {
      const reply = await call(server.base, 'GET', '/v1/admin/apps/app_doesNotExist', {
        token: server.adminToken,
      });
      expectProblem(reply, 404, 'not_found');
    });

    it('answers 400 validation_failed naming the path parameter for an app id over 64 characters', async () => {
      const reply = await call(server.base, 'GET', `/v1/admin/apps/app_${'x'.repeat(70)}`, {
        token: server.adminToken,
      });
      const problem = expectProblem(reply, 400, 'validation_failed');
      expect(errorPaths(problem)).to.deep.equal(['/params/appId']);
    });
  });

  describe('POST /v1/admin/apps/:appId/secret', () => {
    it('rotates the secret: 200 with a new tds_ secret; the old one is refused at once, the new one works', async () => {
      const app = await createApp(server);
      expect((await lookupBinding(app.appSecret)).status).to.equal(404);

      const before = await eventCount(server.tidings);
      const reply = await call<{ appSecret: string }>(
        server.base,
        'POST',
        `/v1/admin/apps/${app.appId}/secret`,
        { token: server.adminToken },
      );
      expect(reply.status).to.equal(200);
      expect(Object.keys(reply.body)).to.deep.equal(['appSecret']);
      expect(reply.body.appSecret).to.match(SECRET);
      expect(reply.body.appSecret).not.to.equal(app.appSecret);

      const appended = await eventsAfter(server.tidings, before);
      expect(appended.map((event) => event.type)).to.deep.equal(['AppSecretRotated']);
      expect(appended[0]?.stream).to.equal(`app-${app.appId}`);
      expect(logText(appended)).not.to.include(reply.body.appSecret);

      expectProblem(await lookupBinding(app.appSecret), 401, 'unauthorized');
      expectProblem(await lookupBinding(reply.body.appSecret), 404, 'not_found');

      // The app itself is otherwise unchanged.
      const view = await call<AppView>(server.base, 'GET', `/v1/admin/apps/${app.appId}`, {
        token: server.adminToken,
      });
      expect(view.body.status).to.equal('active');
      expect(view.body.name).to.equal(app.name);
    });

    it('only the latest of several rotations works', async () => {
      const app = await createApp(server);
      const rotate = () =>
        call<{ appSecret: string }>(server.base, 'POST', `/v1/admin/apps/${app.appId}/secret`, {
          token: server.adminToken,
        });
      const second = (await rotate()).body.appSecret;
      const third = (await rotate()).body.appSecret;
      expect((await lookupBinding(app.appSecret)).status).to.equal(401);
      expect((await lookupBinding(second)).status).to.equal(401);
      expect((await lookupBinding(third)).status).to.equal(404);
    });

    it('rotating one app leaves the secrets of other apps working', async () => {
      const rotated = await createApp(server);
      const untouched = await createApp(server);
      await call(server.base, 'POST', `/v1/admin/apps/${rotated.appId}/secret`, {
        token: server.adminToken,
      });
      expect((await lookupBinding(untouched.appSecret)).status).to.equal(404);
    });

    it('answers 404 not_found for an unknown app and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/admin/apps/app_doesNotExist/secret', {
          token: server.adminToken,
        }),
      );
      expectProblem(reply, 404, 'not_found');
    });

    it('answers malformed JSON with 400 invalid_json and writes nothing', async () => {
      const app = await createApp(server);
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', `/v1/admin/apps/${app.appId}/secret`, {
          token: server.adminToken,
          rawBody: '{oops',
        }),
      );
      expectProblem(reply, 400, 'invalid_json');
      expect((await lookupBinding(app.appSecret)).status).to.equal(404);
    });

    it('answers a body over 64 KiB with 413 payload_too_large and writes nothing', async () => {
      const app = await createApp(server);
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', `/v1/admin/apps/${app.appId}/secret`, {
          token: server.adminToken,
          body: { padding: 'p'.repeat(70 * 1024) },
        }),
      );
      expectProblem(reply, 413, 'payload_too_large');
      expect((await lookupBinding(app.appSecret)).status).to.equal(404);
    });
  });

  describe('operator credential on every route', () => {
    let appId: string;
    let appSecret: string;
    before(async () => {
      ({ appId, appSecret } = await createApp(server));
    });

    const routes: { name: string; method: string; path: () => string; body?: unknown }[] = [
      {
        name: 'POST /v1/admin/apps',
        method: 'POST',
        path: () => '/v1/admin/apps',
        body: { name: 'Sneaky', redirectUris: ['https://sneaky.example/cb'] },
      },
      { name: 'GET /v1/admin/apps/:appId', method: 'GET', path: () => `/v1/admin/apps/${appId}` },
      {
        name: 'POST /v1/admin/apps/:appId/secret',
        method: 'POST',
        path: () => `/v1/admin/apps/${appId}/secret`,
      },
    ];
    const credentials: { what: string; headers: Record<string, string> }[] = [
      { what: 'no Authorization header', headers: {} },
      {
        what: 'a wrong bearer token',
        headers: { authorization: 'Bearer wrong-admin-token-0123456789' },
      },
      {
        what: 'the admin token with one character changed',
        headers: { authorization: 'Bearer test-admin-token-0123456788' },
      },
      {
        what: 'the admin token in Basic, not Bearer',
        headers: { authorization: 'Basic test-admin-token-0123456789' },
      },
      { what: 'an empty bearer', headers: { authorization: 'Bearer ' } },
    ];

    for (const route of routes) {
      for (const { what, headers } of credentials) {
        it(`${route.name}: ${what} → 401 unauthorized, nothing written`, async () => {
          const reply = await expectNoNewEvents(server.tidings, () =>
            call(server.base, route.method, route.path(), {
              headers,
              ...(route.body === undefined ? {} : { body: route.body }),
            }),
          );
          expectProblem(reply, 401, 'unauthorized');
          expect(reply.headers.get('www-authenticate')).to.match(/^Bearer/);
          expect(JSON.stringify(reply.body)).not.to.include(appSecret);
        });
      }
      it(`${route.name}: an app secret is not an operator credential → 401, nothing written`, async () => {
        const reply = await expectNoNewEvents(server.tidings, () =>
          call(server.base, route.method, route.path(), {
            token: appSecret,
            ...(route.body === undefined ? {} : { body: route.body }),
          }),
        );
        expectProblem(reply, 401, 'unauthorized');
      });
    }

    it('the rotation refused without a token left the secret working', async () => {
      expect((await lookupBinding(appSecret)).status).to.equal(404);
    });
  });
});

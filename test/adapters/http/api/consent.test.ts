import { expect } from 'chai';
import type { BindingRow } from '../../../../projections/bindings/bindingsProjection.js';
import {
  allow,
  authorize,
  createApp,
  errorPaths,
  eventCount,
  eventsAfter,
  expectNoNewEvents,
  expectProblem,
  fromNow,
  logText,
  registerPerson,
  sha256Hex,
  type CreatedApp,
  type Person,
} from '../../../support/httpFixtures.js';
import { call, startTestServer, type Reply, type TestServer } from '../../../support/testServer.js';

interface AuthorizedApp {
  bindingId: string;
  appId: string;
  appName: string;
  openid: string;
  level: 'strong' | 'weak' | 'none';
  mutedUntil: string | null;
  blocked: boolean;
  authorizedAt: string;
}

interface BindingView {
  bindingId: string;
  openid: string;
  status: 'active' | 'revoked';
  authorizedAt: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const KEY = /^tbk_[A-Za-z0-9_-]{43}$/;

const CALLBACK = 'https://orders.example/consent/callback';
const CALLBACK_WITH_QUERY = 'https://orders.example/return?from=tidings&tenant=42';

let openidCounter = 0;
const newOpenid = (): string => {
  openidCounter += 1;
  return `user-${openidCounter}-${Date.now().toString(36)}`;
};

describe('HTTP consent and authorized apps', () => {
  let server: TestServer;
  let app: CreatedApp;
  let otherApp: CreatedApp;
  let alice: Person;
  let bob: Person;

  before(async () => {
    server = await startTestServer();
    app = await createApp(server, {
      name: 'Work orders',
      redirectUris: [CALLBACK, CALLBACK_WITH_QUERY],
    });
    otherApp = await createApp(server, {
      name: 'Other app',
      redirectUris: ['https://other.example/cb'],
    });
    alice = await registerPerson(server);
    bob = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  const bindingByKey = (key: string): BindingRow | undefined =>
    server.tidings.db
      .prepare<[string], BindingRow>('SELECT * FROM bindings WHERE key_hash = ?')
      .get(sha256Hex(key));

  const myApps = async (person: Person): Promise<AuthorizedApp[]> => {
    const reply = await call<{ items: AuthorizedApp[] }>(server.base, 'GET', '/v1/me/apps', {
      cookie: person.cookie,
    });
    expect(reply.status).to.equal(200);
    return reply.body.items;
  };

  const lookup = (secret: string, openid: string): Promise<Reply<BindingView>> =>
    call<BindingView>(server.base, 'GET', `/v1/bindings?openid=${encodeURIComponent(openid)}`, {
      token: secret,
    });

  const patch = (person: Person, bindingId: string, body: unknown) =>
    call<AuthorizedApp>(server.base, 'PATCH', `/v1/me/apps/${bindingId}`, {
      cookie: person.cookie,
      body,
    });

  /** Alice allows `app` for a fresh openid; returns the openid, key and binding id. */
  const bindAlice = async (level?: 'strong' | 'weak') => {
    const openid = newOpenid();
    const { key } = await allow(server, alice.cookie, {
      appId: app.appId,
      openid,
      redirectUri: CALLBACK,
      ...(level === undefined ? {} : { level }),
    });
    const item = (await myApps(alice)).find((candidate) => candidate.openid === openid);
    if (item === undefined) return expect.fail('the new binding is not listed');
    return { openid, key, bindingId: item.bindingId };
  };

  describe('POST /v1/me/authorizations', () => {
    it('allow: redirects to the registered URI with key=tbk_…, bind=true and the state; the binding is active', async () => {
      const openid = newOpenid();
      const before = await eventCount(server.tidings);
      const reply = await authorize(server, alice.cookie, {
        appId: app.appId,
        openid,
        redirectUri: CALLBACK,
        state: 'st/8 &x=1',
        decision: 'allow',
      });
      expect(reply.status).to.equal(200);
      expect(Object.keys(reply.body)).to.deep.equal(['redirect']);
      const redirect = new URL(String(reply.body.redirect));
      expect(`${redirect.origin}${redirect.pathname}`).to.equal(CALLBACK);
      expect([...redirect.searchParams.keys()].sort()).to.deep.equal(['bind', 'key', 'state']);
      const key = redirect.searchParams.get('key') ?? '';
      expect(key).to.match(KEY);
      expect(redirect.searchParams.get('bind')).to.equal('true');
      expect(redirect.searchParams.get('state')).to.equal('st/8 &x=1');

      const appended = await eventsAfter(server.tidings, before);
      expect(appended.map((event) => event.type)).to.deep.equal(['BindingAuthorized']);
      const data = appended[0]?.data as Record<string, unknown>;
      expect(data['keyHash']).to.equal(sha256Hex(key));
      expect(data['recipientId']).to.equal(alice.recipientId);
      expect(logText(appended)).not.to.include(key);

      const row = bindingByKey(key);
      expect(row?.status).to.equal('active');
      expect(row?.level).to.equal('weak');
      expect(row?.openid).to.equal(openid);
      expect(row?.app_id).to.equal(app.appId);

      const binding = await lookup(app.appSecret, openid);
      expect(binding.status).to.equal(200);
      expect(binding.body.status).to.equal('active');
      expect(binding.body.openid).to.equal(openid);
      expect(binding.body.bindingId).to.equal(row?.binding_id);
      expect(binding.body.authorizedAt).to.match(ISO);
    });

    it('allow: keeps the query parameters already on the redirect URI', async () => {
      const { redirect } = await allow(server, alice.cookie, {
        appId: app.appId,
        openid: newOpenid(),
        redirectUri: CALLBACK_WITH_QUERY,
        state: 'abc',
      });
      expect(`${redirect.origin}${redirect.pathname}`).to.equal('https://orders.example/return');
      expect(redirect.searchParams.get('from')).to.equal('tidings');
      expect(redirect.searchParams.get('tenant')).to.equal('42');
      expect(redirect.searchParams.get('key')).to.match(KEY);
      expect(redirect.searchParams.get('bind')).to.equal('true');
      expect(redirect.searchParams.get('state')).to.equal('abc');
      expect(
        redirect.href.startsWith('https://orders.example/return?from=tidings&tenant=42&'),
      ).to.equal(true);
    });

    it('allow without a state: no state parameter', async () => {
      const { redirect } = await allow(server, alice.cookie, {
        appId: app.appId,
        openid: newOpenid(),
        redirectUri: CALLBACK,
      });
      expect(redirect.searchParams.has('state')).to.equal(false);
    });

    it('allow with level strong records that level', async () => {
      const { key } = await allow(server, alice.cookie, {
        appId: app.appId,
        openid: newOpenid(),
        redirectUri: CALLBACK,
        level: 'strong',
      });
      expect(bindingByKey(key)?.level).to.equal('strong');
    });

    it('deny: redirects with bind=false, an errMsg and the state, and creates no binding', async () => {
      const openid = newOpenid();
      const reply = await expectNoNewEvents(server.tidings, () =>
        authorize(server, alice.cookie, {
          appId: app.appId,
          openid,
          redirectUri: CALLBACK_WITH_QUERY,
          state: 'deny-state',
          decision: 'deny',
        }),
      );
      expect(reply.status).to.equal(200);
      const redirect = new URL(String(reply.body.redirect));
      expect(`${redirect.origin}${redirect.pathname}`).to.equal('https://orders.example/return');
      expect(redirect.searchParams.get('from')).to.equal('tidings');
      expect(redirect.searchParams.get('bind')).to.equal('false');
      expect(redirect.searchParams.get('errMsg')).to.be.a('string').and.not.equal('');
      expect(redirect.searchParams.get('state')).to.equal('deny-state');
      expect(redirect.searchParams.has('key')).to.equal(false);

      expectProblem(await lookup(app.appSecret, openid), 404, 'not_found');
      expect((await myApps(alice)).map((item) => item.openid)).not.to.include(openid);
    });

    const unregistered: readonly { what: string; uri: string }[] = [
      { what: 'another site', uri: 'https://evil.example/consent/callback' },
      { what: 'a longer path', uri: `${CALLBACK}/more` },
      { what: 'an added query', uri: `${CALLBACK}?next=https://evil.example` },
      { what: 'http instead of https', uri: CALLBACK.replace('https:', 'http:') },
      { what: 'a look-alike host', uri: 'https://orders.example.evil.example/consent/callback' },
      { what: "another app's redirect URI", uri: 'https://other.example/cb' },
    ];
    for (const { what, uri } of unregistered) {
      for (const decision of ['allow', 'deny'] as const) {
        it(`${decision} with an unregistered redirect URI (${what}): 400 invalid_redirect_uri, no redirect, nothing written`, async () => {
          const openid = newOpenid();
          const reply = await expectNoNewEvents(server.tidings, () =>
            authorize(server, alice.cookie, {
              appId: app.appId,
              openid,
              redirectUri: uri,
              state: 's',
              decision,
            }),
          );
          const problem = expectProblem(reply, 400, 'invalid_redirect_uri');
          expect(problem).not.to.have.property('redirect');
          expect(reply.headers.get('location')).to.equal(null);
          expect(errorPaths(problem)).to.deep.equal(['/redirectUri']);
          expectProblem(await lookup(app.appSecret, openid), 404, 'not_found');
        });
      }
    }

    it('answers 404 not_found for an unknown app and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        authorize(server, alice.cookie, {
          appId: 'app_doesNotExist',
          openid: newOpenid(),
          redirectUri: CALLBACK,
          decision: 'allow',
        }),
      );
      expectProblem(reply, 404, 'not_found');
    });

    it('answers 401 unauthorized without a session and writes nothing', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'POST', '/v1/me/authorizations', {
          body: { appId: app.appId, openid: newOpenid(), redirectUri: CALLBACK, decision: 'allow' },
        }),
      );
      expectProblem(reply, 401, 'unauthorized');
    });

    const invalid: readonly { what: string; patch: Record<string, unknown>; path: string }[] = [
      { what: 'an unknown decision', patch: { decision: 'maybe' }, path: '/decision' },
      {
        what: 'level none (consent offers strong or weak)',
        patch: { level: 'none' },
        path: '/level',
      },
      { what: 'an empty openid', patch: { openid: '' }, path: '/openid' },
      {
        what: 'an openid over 128 characters',
        patch: { openid: 'o'.repeat(129) },
        path: '/openid',
      },
      { what: 'a state over 512 characters', patch: { state: 's'.repeat(513) }, path: '/state' },
      { what: 'an unknown field', patch: { scope: 'all' }, path: '/scope' },
    ];
    for (const { what, patch: change, path } of invalid) {
      it(`refuses ${what}: 400 validation_failed at ${path}, nothing written`, async () => {
        const reply = await expectNoNewEvents(server.tidings, () =>
          call(server.base, 'POST', '/v1/me/authorizations', {
            cookie: alice.cookie,
            body: {
              appId: app.appId,
              openid: newOpenid(),
              redirectUri: CALLBACK,
              decision: 'allow',
              ...change,
            },
          }),
        );
        expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.include(path);
      });
    }

    it('re-authorizing issues a new key: the old key is dead, the new one live, the new level applies', async () => {
      const openid = newOpenid();
      const first = await allow(server, alice.cookie, {
        appId: app.appId,
        openid,
        redirectUri: CALLBACK,
        level: 'weak',
      });
      const firstRow = bindingByKey(first.key);
      expect(firstRow?.level).to.equal('weak');

      const before = await eventCount(server.tidings);
      const second = await allow(server, alice.cookie, {
        appId: app.appId,
        openid,
        redirectUri: CALLBACK,
        level: 'strong',
      });
      expect(second.key).to.match(KEY);
      expect(second.key).not.to.equal(first.key);
      expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
        'BindingReauthorized',
      ]);

      expect(bindingByKey(first.key)).to.equal(undefined);
      const row = bindingByKey(second.key);
      expect(row?.binding_id).to.equal(firstRow?.binding_id);
      expect(row?.status).to.equal('active');
      expect(row?.level).to.equal('strong');

      const items = (await myApps(alice)).filter((item) => item.openid === openid);
      expect(items).to.have.length(1);
      expect(items[0]?.level).to.equal('strong');
    });

    it("re-authorizing clears the person's earlier mute and block", async () => {
      const { openid, bindingId } = await bindAlice();
      expect(
        (await patch(alice, bindingId, { mutedUntil: fromNow(3_600_000), blocked: true })).status,
      ).to.equal(200);
      await allow(server, alice.cookie, { appId: app.appId, openid, redirectUri: CALLBACK });
      const item = (await myApps(alice)).find((candidate) => candidate.bindingId === bindingId);
      expect(item?.mutedUntil).to.equal(null);
      expect(item?.blocked).to.equal(false);
    });

    it("answers 422 illegal_state when the openid is someone else's active binding, and writes nothing", async () => {
      const { openid, key, bindingId } = await bindAlice();
      const reply = await expectNoNewEvents(server.tidings, () =>
        authorize(server, bob.cookie, {
          appId: app.appId,
          openid,
          redirectUri: CALLBACK,
          decision: 'allow',
        }),
      );
      expectProblem(reply, 422, 'illegal_state');
      expect(reply.body).not.to.have.property('redirect');
      // Alice's binding and key are untouched; Bob got nothing.
      expect(bindingByKey(key)?.recipient_id).to.equal(alice.recipientId);
      expect((await myApps(bob)).map((item) => item.bindingId)).not.to.include(bindingId);
    });

    it('the same openid at another app is a separate binding', async () => {
      const { openid } = await bindAlice();
      const other = await allow(server, bob.cookie, {
        appId: otherApp.appId,
        openid,
        redirectUri: 'https://other.example/cb',
      });
      expect(bindingByKey(other.key)?.recipient_id).to.equal(bob.recipientId);
      expect((await lookup(otherApp.appSecret, openid)).body.status).to.equal('active');
      expect((await lookup(app.appSecret, openid)).body.status).to.equal('active');
    });
  });

  describe('GET /v1/me/apps', () => {
    it('lists the person’s active bindings with the app name, newest first', async () => {
      const person = await registerPerson(server);
      const firstOpenid = newOpenid();
      const secondOpenid = newOpenid();
      await allow(server, person.cookie, {
        appId: app.appId,
        openid: firstOpenid,
        redirectUri: CALLBACK,
        level: 'strong',
      });
      await allow(server, person.cookie, {
        appId: otherApp.appId,
        openid: secondOpenid,
        redirectUri: 'https://other.example/cb',
      });
      const items = await myApps(person);
      expect(items).to.have.length(2);
      const byOpenid = new Map(items.map((item) => [item.openid, item]));
      const first = byOpenid.get(firstOpenid);
      const second = byOpenid.get(secondOpenid);
      if (first === undefined || second === undefined) return expect.fail('missing item');
      expect(Object.keys(first).sort()).to.deep.equal([
        'appId',
        'appName',
        'authorizedAt',
        'bindingId',
        'blocked',
        'devices',
        'level',
        'mutedUntil',
        'openid',
      ]);
      expect(first).to.deep.include({
        appId: app.appId,
        appName: 'Work orders',
        openid: firstOpenid,
        level: 'strong',
        mutedUntil: null,
        blocked: false,
      });
      expect(second).to.deep.include({
        appId: otherApp.appId,
        appName: 'Other app',
        level: 'weak',
      });
      expect(first.bindingId).to.match(/^bnd_/);
      expect(first.authorizedAt).to.match(ISO);
      expect(second.authorizedAt >= first.authorizedAt).to.equal(true);
      expect(items.map((item) => item.authorizedAt)).to.deep.equal(
        items
          .map((item) => item.authorizedAt)
          .sort()
          .reverse(),
      );
      // Nobody else's bindings appear.
      expect(await myApps(await registerPerson(server))).to.deep.equal([]);
      return undefined;
    });

    it('answers 401 unauthorized without a session', async () => {
      expectProblem(await call(server.base, 'GET', '/v1/me/apps'), 401, 'unauthorized');
    });
  });

  describe('PATCH /v1/me/apps/:bindingId', () => {
    const listed = async (bindingId: string): Promise<AuthorizedApp | undefined> =>
      (await myApps(alice)).find((item) => item.bindingId === bindingId);

    it('level none: 200 with the binding; GET /v1/me/apps shows it', async () => {
      const { bindingId } = await bindAlice('strong');
      const before = await eventCount(server.tidings);
      const reply = await patch(alice, bindingId, { level: 'none' });
      expect(reply.status).to.equal(200);
      expect(reply.body.bindingId).to.equal(bindingId);
      expect(reply.body.level).to.equal('none');
      expect(reply.body.appName).to.equal('Work orders');
      expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
        'BindingLevelChanged',
      ]);
      expect(await listed(bindingId)).to.deep.equal(reply.body);
    });

    it('mutedUntil in the future mutes; null unmutes', async () => {
      const { bindingId } = await bindAlice();
      const until = fromNow(2 * 3_600_000);
      const muted = await patch(alice, bindingId, { mutedUntil: until });
      expect(muted.status).to.equal(200);
      expect(muted.body.mutedUntil).to.equal(until);
      expect((await listed(bindingId))?.mutedUntil).to.equal(until);

      const unmuted = await patch(alice, bindingId, { mutedUntil: null });
      expect(unmuted.status).to.equal(200);
      expect(unmuted.body.mutedUntil).to.equal(null);
      expect((await listed(bindingId))?.mutedUntil).to.equal(null);
    });

    it('blocked true blocks; false unblocks', async () => {
      const { bindingId } = await bindAlice();
      const blocked = await patch(alice, bindingId, { blocked: true });
      expect(blocked.status).to.equal(200);
      expect(blocked.body.blocked).to.equal(true);
      expect((await listed(bindingId))?.blocked).to.equal(true);

      const unblocked = await patch(alice, bindingId, { blocked: false });
      expect(unblocked.status).to.equal(200);
      expect(unblocked.body.blocked).to.equal(false);
      expect((await listed(bindingId))?.blocked).to.equal(false);
    });

    it('changes several fields at once, in one append', async () => {
      const { bindingId } = await bindAlice('weak');
      const until = fromNow(3_600_000);
      const before = await eventCount(server.tidings);
      const reply = await patch(alice, bindingId, {
        level: 'strong',
        mutedUntil: until,
        blocked: true,
      });
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.include({ level: 'strong', mutedUntil: until, blocked: true });
      const appended = await eventsAfter(server.tidings, before);
      expect(appended.map((e) => e.type).sort()).to.deep.equal([
        'BindingBlocked',
        'BindingLevelChanged',
        'BindingMuted',
      ]);
      expect(new Set(appended.map((e) => e.metadata.correlationId)).size).to.equal(1);
      expect(await listed(bindingId)).to.deep.equal(reply.body);
    });

    it('an empty change answers the binding as it is and writes nothing', async () => {
      const { bindingId } = await bindAlice();
      const reply = await expectNoNewEvents(server.tidings, () => patch(alice, bindingId, {}));
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal(await listed(bindingId));
    });

    it('refuses a mutedUntil in the past (400/422) and writes nothing, not even the other changes', async () => {
      const { bindingId } = await bindAlice('weak');
      const listedBefore = await listed(bindingId);
      const reply = await expectNoNewEvents(server.tidings, () =>
        patch(alice, bindingId, { level: 'none', blocked: true, mutedUntil: fromNow(-60_000) }),
      );
      // docs/api.md allows either reading of "a time in the past": a bad value or a state conflict.
      expect(reply.status).to.be.oneOf([400, 422]);
      expectProblem(
        reply,
        reply.status,
        reply.status === 400 ? 'validation_failed' : 'illegal_state',
      );
      expect(await listed(bindingId)).to.deep.equal(listedBefore);
    });

    const invalid: readonly { what: string; body: unknown; path: string }[] = [
      { what: 'an unknown level', body: { level: 'loud' }, path: '/level' },
      {
        what: 'a mutedUntil with an offset, not UTC',
        body: { mutedUntil: '2099-01-01T00:00:00+01:00' },
        path: '/mutedUntil',
      },
      {
        what: 'a mutedUntil that is not a time',
        body: { mutedUntil: 'tomorrow' },
        path: '/mutedUntil',
      },
      { what: 'blocked as a string', body: { blocked: 'yes' }, path: '/blocked' },
      { what: 'an unknown field', body: { muted: true }, path: '/muted' },
    ];
    for (const { what, body, path } of invalid) {
      it(`refuses ${what}: 400 validation_failed at ${path}, nothing written`, async () => {
        const { bindingId } = await bindAlice();
        const reply = await expectNoNewEvents(server.tidings, () => patch(alice, bindingId, body));
        expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.include(path);
      });
    }

    it("answers 404 not_found for another person's binding and changes nothing", async () => {
      const { bindingId } = await bindAlice();
      const listedBefore = await listed(bindingId);
      const reply = await expectNoNewEvents(server.tidings, () =>
        patch(bob, bindingId, { level: 'none', blocked: true }),
      );
      expectProblem(reply, 404, 'not_found');
      expect(await listed(bindingId)).to.deep.equal(listedBefore);
    });

    it('answers 404 not_found for an unknown binding', async () => {
      const reply = await expectNoNewEvents(server.tidings, () =>
        patch(alice, 'bnd_doesNotExist', { level: 'none' }),
      );
      expectProblem(reply, 404, 'not_found');
    });

    it('answers 401 unauthorized without a session', async () => {
      const { bindingId } = await bindAlice();
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'PATCH', `/v1/me/apps/${bindingId}`, { body: { level: 'none' } }),
      );
      expectProblem(reply, 401, 'unauthorized');
    });
  });

  describe('DELETE /v1/me/apps/:bindingId', () => {
    it('unbinds: 204; no longer listed; GET /v1/bindings shows it revoked; another app cannot see it', async () => {
      const { openid, key, bindingId } = await bindAlice();
      const before = await eventCount(server.tidings);
      const reply = await call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, {
        cookie: alice.cookie,
      });
      expect(reply.status).to.equal(204);
      expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([
        'BindingRevoked',
      ]);
      expect((await myApps(alice)).map((item) => item.bindingId)).not.to.include(bindingId);

      const binding = await lookup(app.appSecret, openid);
      expect(binding.status).to.equal(200);
      expect(binding.body).to.deep.include({ bindingId, openid, status: 'revoked' });
      expect(bindingByKey(key)?.status).to.equal('revoked');

      expectProblem(await lookup(otherApp.appSecret, openid), 404, 'not_found');
    });

    it('a revoked binding can no longer be changed or unbound again (404), and nothing is written', async () => {
      const { bindingId } = await bindAlice();
      await call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, { cookie: alice.cookie });
      const again = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, { cookie: alice.cookie }),
      );
      expectProblem(again, 404, 'not_found');
      expectProblem(await patch(alice, bindingId, { level: 'strong' }), 404, 'not_found');
    });

    it('authorizing again after unbinding reactivates the binding with a new key', async () => {
      const { openid, key, bindingId } = await bindAlice();
      await call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, { cookie: alice.cookie });
      const renewed = await allow(server, alice.cookie, {
        appId: app.appId,
        openid,
        redirectUri: CALLBACK,
      });
      expect(renewed.key).not.to.equal(key);
      expect(bindingByKey(key)).to.equal(undefined);
      expect(bindingByKey(renewed.key)?.status).to.equal('active');
      expect((await lookup(app.appSecret, openid)).body.status).to.equal('active');
      expect((await myApps(alice)).map((item) => item.bindingId)).to.include(bindingId);
    });

    it('does not hand an unbound openid to another person: 422, and it stays revoked', async () => {
      const { openid, bindingId } = await bindAlice();
      await call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, { cookie: alice.cookie });
      const reply = await expectNoNewEvents(server.tidings, () =>
        authorize(server, bob.cookie, {
          appId: app.appId,
          openid,
          redirectUri: CALLBACK,
          decision: 'allow',
        }),
      );
      expectProblem(reply, 422, 'illegal_state');
      expect((await lookup(app.appSecret, openid)).body.status).to.equal('revoked');
      expect((await myApps(bob)).map((item) => item.bindingId)).not.to.include(bindingId);
    });

    it("answers 404 not_found for another person's binding, which stays active", async () => {
      const { openid, bindingId } = await bindAlice();
      const reply = await expectNoNewEvents(server.tidings, () =>
        call(server.base, 'DELETE', `/v1/me/apps/${bindingId}`, { cookie: bob.cookie }),
      );
      expectProblem(reply, 404, 'not_found');
      expect((await lookup(app.appSecret, openid)).body.status).to.equal('active');
    });

    it('answers 404 not_found for an unknown binding and 401 without a session', async () => {
      expectProblem(
        await call(server.base, 'DELETE', '/v1/me/apps/bnd_doesNotExist', { cookie: alice.cookie }),
        404,
        'not_found',
      );
      expectProblem(
        await call(server.base, 'DELETE', '/v1/me/apps/bnd_doesNotExist'),
        401,
        'unauthorized',
      );
    });
  });

  describe('GET /v1/bindings', () => {
    it('answers 401 without an app secret and with the operator token', async () => {
      const { openid } = await bindAlice();
      expectProblem(
        await call(server.base, 'GET', `/v1/bindings?openid=${openid}`),
        401,
        'unauthorized',
      );
      expectProblem(await lookup(server.adminToken, openid), 401, 'unauthorized');
    });

    it('answers 400 validation_failed naming the query parameter when openid is missing', async () => {
      const reply = await call(server.base, 'GET', '/v1/bindings', { token: app.appSecret });
      expect(errorPaths(expectProblem(reply, 400, 'validation_failed'))).to.deep.equal([
        '/query/openid',
      ]);
    });

    it("answers 404 for another app's openid, the same as for an unknown one", async () => {
      const { openid } = await bindAlice();
      const other = await lookup(otherApp.appSecret, openid);
      const unknown = await lookup(otherApp.appSecret, `${openid}-unknown`);
      expectProblem(other, 404, 'not_found');
      expectProblem(unknown, 404, 'not_found');
    });
  });
});

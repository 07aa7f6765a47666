import { expect } from 'chai';
import { CheckpointStore } from '../../../../adapters/sqlite/checkpointStore.js';
import { openDatabase, type SqliteDatabase } from '../../../../adapters/sqlite/database.js';
import { SqliteEventStore } from '../../../../adapters/sqlite/sqliteEventStore.js';
import { allProjections } from '../../../../projections/index.js';
import { rebuildProjection } from '../../../../application/processing/rebuild.js';
import {
  allEvents,
  allow,
  createApp,
  expectProblem,
  fromNow,
  registerPerson,
  type CreatedApp,
  type Person,
} from '../../../support/httpFixtures.js';
import {
  call,
  publicExampleResolver,
  startTestServer,
  type TestServer,
} from '../../../support/testServer.js';

const CALLBACK = 'https://durable.example/cb';

/** What the world looks like through the API, recorded before and compared after. */
interface Answers {
  readonly adminApp: unknown;
  readonly adminOtherApp: unknown;
  readonly me: unknown;
  readonly meApps: unknown;
  readonly otherMe: unknown;
  readonly otherMeApps: unknown;
  readonly activeBinding: unknown;
  readonly revokedBinding: unknown;
  readonly unknownBinding: number;
}

describe('HTTP durability: restarts and read-model rebuilds', () => {
  let server: TestServer;
  let app: CreatedApp;
  let otherApp: CreatedApp;
  let currentSecret: string;
  let alice: Person;
  let bob: Person;
  let endedSession: string;
  const activeOpenid = 'durable-active';
  const revokedOpenid = 'durable-revoked';

  before(async () => {
    server = await startTestServer({ resolver: publicExampleResolver });
    app = await createApp(server, { name: 'Durable app', redirectUris: [CALLBACK] });
    otherApp = await createApp(server, {
      name: 'Second app',
      redirectUris: ['https://second.example/cb'],
      callbackUrl: 'https://second.example/hook',
    });
    // The first secret is rotated away: it must stay dead after a restart.
    const rotated = await call<{ appSecret: string }>(
      server.base,
      'POST',
      `/v1/admin/apps/${app.appId}/secret`,
      { token: server.adminToken },
    );
    expect(rotated.status).to.equal(200);
    currentSecret = rotated.body.appSecret;

    alice = await registerPerson(server);
    bob = await registerPerson(server);
    const put = await call(server.base, 'PUT', '/v1/me/devices/bark', {
      cookie: alice.cookie,
      body: { serverUrl: 'https://93.184.216.34/bark/', deviceKey: 'AliceKey' },
    });
    expect(put.status).to.equal(200);

    await allow(server, alice.cookie, {
      appId: app.appId,
      openid: activeOpenid,
      redirectUri: CALLBACK,
      level: 'weak',
    });
    // Re-authorized with another level, then muted and blocked: several events on one binding.
    await allow(server, alice.cookie, {
      appId: app.appId,
      openid: activeOpenid,
      redirectUri: CALLBACK,
      level: 'strong',
    });
    const items = await call<{ items: { bindingId: string }[] }>(
      server.base,
      'GET',
      '/v1/me/apps',
      {
        cookie: alice.cookie,
      },
    );
    const bindingId = items.body.items[0]?.bindingId ?? '';
    const patched = await call(server.base, 'PATCH', `/v1/me/apps/${bindingId}`, {
      cookie: alice.cookie,
      body: { mutedUntil: fromNow(7 * 24 * 3_600_000), blocked: true },
    });
    expect(patched.status).to.equal(200);

    await allow(server, alice.cookie, {
      appId: otherApp.appId,
      openid: 'second-app-user',
      redirectUri: 'https://second.example/cb',
    });
    await allow(server, bob.cookie, {
      appId: app.appId,
      openid: revokedOpenid,
      redirectUri: CALLBACK,
    });
    const bobItems = await call<{ items: { bindingId: string }[] }>(
      server.base,
      'GET',
      '/v1/me/apps',
      {
        cookie: bob.cookie,
      },
    );
    const revoked = await call(
      server.base,
      'DELETE',
      `/v1/me/apps/${bobItems.body.items[0]?.bindingId ?? ''}`,
      { cookie: bob.cookie },
    );
    expect(revoked.status).to.equal(204);

    // A second session of Bob's that he logs out of: it must stay ended.
    const login = await call(server.base, 'POST', '/v1/auth/login', {
      body: { username: bob.username, password: bob.password },
    });
    endedSession = /tidings_session=[^;]*/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(endedSession).not.to.equal('');
    expect(
      (await call(server.base, 'POST', '/v1/auth/logout', { cookie: endedSession })).status,
    ).to.equal(204);
  });

  after(async () => {
    await server.dispose();
  });

  /** Reads every answer the comparison covers; each must succeed (or 404 where expected). */
  const record = async (): Promise<Answers> => {
    const get = async (path: string, auth: { token?: string; cookie?: string }, status = 200) => {
      const reply = await call(server.base, 'GET', path, auth);
      expect(reply.status, `${path}: ${JSON.stringify(reply.body)}`).to.equal(status);
      return reply.body;
    };
    const admin = { token: server.adminToken };
    const unknown = await call(server.base, 'GET', '/v1/bindings?openid=nobody', {
      token: currentSecret,
    });
    return {
      adminApp: await get(`/v1/admin/apps/${app.appId}`, admin),
      adminOtherApp: await get(`/v1/admin/apps/${otherApp.appId}`, admin),
      me: await get('/v1/me', { cookie: alice.cookie }),
      meApps: await get('/v1/me/apps', { cookie: alice.cookie }),
      otherMe: await get('/v1/me', { cookie: bob.cookie }),
      otherMeApps: await get('/v1/me/apps', { cookie: bob.cookie }),
      activeBinding: await get(`/v1/bindings?openid=${activeOpenid}`, { token: currentSecret }),
      revokedBinding: await get(`/v1/bindings?openid=${revokedOpenid}`, { token: currentSecret }),
      unknownBinding: unknown.status,
    };
  };

  /** Guards against comparing two empty worlds: the recorded answers hold what was set up. */
  const expectMeaningful = (answers: Answers): void => {
    expect(answers.adminApp).to.deep.include({ appId: app.appId, status: 'active', score: 100 });
    expect(answers.me).to.deep.include({
      devices: { bark: { serverUrl: 'https://93.184.216.34/bark' } },
    });
    const items = (
      answers.meApps as { items: { level: string; blocked: boolean; mutedUntil: unknown }[] }
    ).items;
    expect(items).to.have.length(2);
    expect(
      items.some((item) => item.level === 'strong' && item.blocked && item.mutedUntil !== null),
    ).to.equal(true);
    expect(answers.otherMeApps).to.deep.equal({ items: [] });
    expect(answers.activeBinding).to.deep.include({ openid: activeOpenid, status: 'active' });
    expect(answers.revokedBinding).to.deep.include({ openid: revokedOpenid, status: 'revoked' });
    expect(answers.unknownBinding).to.equal(404);
  };

  /** Credentials that must stay refused whatever happens to the read models. */
  const expectDeadCredentialsStayDead = async (): Promise<void> => {
    expectProblem(
      await call(server.base, 'GET', '/v1/bindings?openid=nobody', { token: app.appSecret }),
      401,
      'unauthorized',
    );
    expectProblem(
      await call(server.base, 'GET', '/v1/me', { cookie: endedSession }),
      401,
      'unauthorized',
    );
  };

  /** Opens the stopped server's database, runs `work`, closes it again. */
  const withDatabase = async (
    work: (db: SqliteDatabase) => Promise<void> | void,
  ): Promise<void> => {
    const db = openDatabase({ dataDir: server.dir });
    try {
      await work(db);
    } finally {
      db.close();
    }
  };

  const readModelRows = (db: SqliteDatabase): number =>
    allProjections
      .flatMap((projection) => projection.tables)
      .reduce(
        (sum, table) =>
          sum +
          (db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table}"`).get()?.n ?? 0),
        0,
      );

  it('a restart on the same folder keeps apps (the current secret), bindings and sessions', async () => {
    const before = await record();
    expectMeaningful(before);
    const eventsBefore = (await allEvents(server.tidings)).length;

    await server.stop();
    server = await server.restart();

    expect(await record()).to.deep.equal(before);
    // record() used Alice's and Bob's old cookies and the current app secret: they still work.
    await expectDeadCredentialsStayDead();
    // Starting again appended nothing.
    expect((await allEvents(server.tidings)).length).to.equal(eventsBefore);
  });

  it('rebuilding every read model from the log (rebuildProjection) gives the same answers', async () => {
    const before = await record();
    expectMeaningful(before);

    await server.stop();
    await withDatabase(async (db) => {
      // Wreck the read models first, so a rebuild that did nothing would show.
      for (const projection of allProjections) {
        for (const table of projection.tables) db.exec(`DELETE FROM "${table}"`);
      }
      expect(readModelRows(db)).to.equal(0);
      const store = new SqliteEventStore(db);
      const checkpoints = new CheckpointStore(db);
      try {
        for (const projection of allProjections) {
          await rebuildProjection(db, store, checkpoints, projection);
        }
      } finally {
        await store.close();
      }
      expect(readModelRows(db)).to.be.greaterThan(0);
    });
    server = await server.restart();

    expect(await record()).to.deep.equal(before);
    await expectDeadCredentialsStayDead();
  });

  it('deleting the read-model rows and checkpoints, a restart replays the log into the same answers', async () => {
    const before = await record();
    expectMeaningful(before);

    await server.stop();
    await withDatabase((db) => {
      for (const projection of allProjections) {
        for (const table of projection.tables) db.exec(`DELETE FROM "${table}"`);
      }
      db.exec('DELETE FROM checkpoints');
      expect(readModelRows(db)).to.equal(0);
    });
    server = await server.restart();

    // The processors catch up in the background after a start: wait for them to reach the head
    // of the log (an explicit synchronisation, not a sleep).
    const head = (await allEvents(server.tidings)).at(-1)?.position;
    if (head === undefined) return expect.fail('the log is empty');
    await Promise.all(server.tidings.runners.map((runner) => runner.waitFor(head)));

    expect(await record()).to.deep.equal(before);
    await expectDeadCredentialsStayDead();
    return undefined;
  });
});

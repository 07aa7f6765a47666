import { expect } from 'chai';
import { appsProjection } from '../../../projections/apps/appsProjection.js';
import { complaintsProjection } from '../../../projections/complaints/complaintsProjection.js';
import { rebuildProjection } from '../../../application/processing/rebuild.js';
import type { CreatedApp, Person } from '../../support/httpFixtures.js';
import { expectProblem, registerPerson } from '../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  type BoundPerson,
  createPipelineApp,
  deliver,
  startPipelineServer,
} from '../../support/pipeline.js';
import {
  DAY_MS,
  adminApp,
  appEvents,
  complain,
  upheld,
  type AdminAppView,
  type Severity,
} from '../../support/reputation.js';
import { waitUntil } from '../../support/waitUntil.js';
import { openTempStore } from '../../support/sqliteStore.js';
import { call, type TestServer } from '../../support/testServer.js';

interface AppSummary {
  readonly appId: string;
  readonly name: string;
  readonly status: AdminAppView['status'];
  readonly score: number;
  readonly registeredAt: string;
  readonly suspendedUntil?: string;
}

interface OwnStanding {
  readonly appId: string;
  readonly name: string;
  readonly status: AdminAppView['status'];
  readonly score: number;
  readonly suspendedUntil?: string;
  readonly upheldComplaints: {
    readonly category: string;
    readonly severity: string | null;
    readonly decidedAt: string | null;
  }[];
}

describe('reputation: the read models (operator and app views) and their rebuild', function () {
  this.timeout(60_000);
  let server: TestServer;
  let alice: Person;
  let bob: Person;
  /** Apps in four standings: quiet (100), noisy (80, active), suspended (55), banned (10). */
  const apps: Record<'quiet' | 'noisy' | 'suspended' | 'banned', CreatedApp> = {} as never;
  const reasons: string[] = [];

  const decide = async (
    app: CreatedApp,
    person: Person,
    outcomes: readonly (
      | { severity: Severity; category: 'spam' | 'fraud' | 'abuse' | 'other' }
      | 'dismiss'
      | 'open'
      | 'withdraw'
    )[],
  ): Promise<void> => {
    const to: BoundPerson = await bindWithoutDevice(server, app, { person });
    const messages: string[] = [];
    for (const _ of outcomes) messages.push(await deliver(server, app, to));
    for (const [index, outcome] of outcomes.entries()) {
      const category = typeof outcome === 'object' ? outcome.category : 'other';
      const reason = `Reason ${index} by ${person.username} about ${app.name}`;
      reasons.push(reason);
      const complaintId = await complain(server, person, messages[index] ?? '', category, reason);
      if (typeof outcome === 'object') {
        await upheld(server, complaintId, outcome.severity, `Upheld: ${category}`);
      } else if (outcome === 'dismiss') {
        const reply = await call(
          server.base,
          'POST',
          `/v1/admin/complaints/${complaintId}/dismiss`,
          {
            token: server.adminToken,
            body: { note: 'No' },
          },
        );
        expect(reply.status).to.equal(200);
      } else if (outcome === 'withdraw') {
        const reply = await call(server.base, 'DELETE', `/v1/me/complaints/${complaintId}`, {
          cookie: person.cookie,
        });
        expect(reply.status).to.equal(204);
      }
    }
  };

  const settled = (appId: string, score: number, status: AdminAppView['status']) =>
    waitUntil(
      () => adminApp(server, appId),
      (view) => view.score === score && view.status === status,
      `${appId} at ${score}, ${status}`,
    );

  before(async () => {
    server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '0' } });
    alice = await registerPerson(server);
    bob = await registerPerson(server);
    apps.quiet = await createPipelineApp(server, 'Quiet app');
    apps.noisy = await createPipelineApp(server, 'Noisy app');
    apps.suspended = await createPipelineApp(server, 'Suspended app');
    apps.banned = await createPipelineApp(server, 'Banned app');
    await decide(apps.noisy, alice, [
      { severity: 'minor', category: 'spam' },
      'dismiss',
      'open',
      'withdraw',
    ]);
    await decide(apps.noisy, bob, [{ severity: 'major', category: 'fraud' }]);
    await decide(apps.suspended, alice, [
      { severity: 'severe', category: 'abuse' },
      { severity: 'major', category: 'spam' },
    ]);
    await decide(apps.banned, bob, [
      { severity: 'severe', category: 'fraud' },
      { severity: 'severe', category: 'fraud' },
      { severity: 'severe', category: 'abuse' },
    ]);
    await settled(apps.noisy.appId, 80, 'active');
    await settled(apps.suspended.appId, 55, 'suspended');
    await settled(apps.banned.appId, 10, 'banned');
  });
  after(async () => {
    await server.dispose();
  });

  it('GET /v1/admin/apps/:appId: score, status, suspendedUntil and complaint counts', async () => {
    const quiet = await adminApp(server, apps.quiet.appId);
    expect(quiet).to.deep.include({
      appId: apps.quiet.appId,
      name: 'Quiet app',
      status: 'active',
      score: 100,
      complaints: { open: 0, upheld: 0, dismissed: 0 },
    });
    expect(quiet).to.not.have.property('suspendedUntil');

    // A withdrawn complaint is in none of the counts.
    const noisy = await adminApp(server, apps.noisy.appId);
    expect(noisy).to.deep.include({
      status: 'active',
      score: 80,
      complaints: { open: 1, upheld: 2, dismissed: 1 },
    });
    expect(noisy).to.not.have.property('suspendedUntil');

    const suspended = await adminApp(server, apps.suspended.appId);
    expect(suspended).to.deep.include({
      status: 'suspended',
      score: 55,
      complaints: { open: 0, upheld: 2, dismissed: 0 },
    });
    const suspension = (await appEvents(server, apps.suspended.appId)).find(
      (event) => event.type === 'AppSuspended',
    );
    expect(suspended.suspendedUntil).to.equal((suspension?.data as { until: string }).until);
    expect(Date.parse(suspended.suspendedUntil ?? '')).to.be.closeTo(
      Date.now() + 7 * DAY_MS,
      10 * 60_000,
    );

    const banned = await adminApp(server, apps.banned.appId);
    expect(banned).to.deep.include({
      status: 'banned',
      score: 10,
      complaints: { open: 0, upheld: 3, dismissed: 0 },
    });
    expect(banned).to.not.have.property('suspendedUntil');

    expectProblem(
      await call(server.base, 'GET', '/v1/admin/apps/app_doesNotExist000000', {
        token: server.adminToken,
      }),
      404,
      'not_found',
    );
  });

  const list = async (query = ''): Promise<AppSummary[]> => {
    const reply = await call<{ items: AppSummary[] }>(
      server.base,
      'GET',
      `/v1/admin/apps${query}`,
      {
        token: server.adminToken,
      },
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    return reply.body.items;
  };

  it('GET /v1/admin/apps: lowest score first, and ?status= keeps one standing', async () => {
    const all = await list();
    const scores = all.map((item) => item.score);
    expect(scores).to.deep.equal([...scores].sort((a, b) => a - b));
    expect(all.map((item) => item.appId)).to.deep.equal([
      apps.banned.appId,
      apps.suspended.appId,
      apps.noisy.appId,
      apps.quiet.appId,
    ]);
    expect(all.map((item) => [item.status, item.score])).to.deep.equal([
      ['banned', 10],
      ['suspended', 55],
      ['active', 80],
      ['active', 100],
    ]);
    const suspendedItem = all.find((item) => item.appId === apps.suspended.appId);
    expect(suspendedItem?.suspendedUntil).to.equal(
      (await adminApp(server, apps.suspended.appId)).suspendedUntil,
    );
    expect(all.find((item) => item.appId === apps.quiet.appId)).to.not.have.property(
      'suspendedUntil',
    );
    expect(await list('?sort=score')).to.deep.equal(all);

    expect((await list('?status=suspended')).map((item) => item.appId)).to.deep.equal([
      apps.suspended.appId,
    ]);
    expect((await list('?status=banned')).map((item) => item.appId)).to.deep.equal([
      apps.banned.appId,
    ]);
    expect((await list('?status=active')).map((item) => item.appId)).to.deep.equal([
      apps.noisy.appId,
      apps.quiet.appId,
    ]);
    expect((await list('?limit=2')).map((item) => item.appId)).to.deep.equal([
      apps.banned.appId,
      apps.suspended.appId,
    ]);
    expectProblem(
      await call(server.base, 'GET', '/v1/admin/apps?status=sleeping', {
        token: server.adminToken,
      }),
      400,
      'validation_failed',
    );
    expectProblem(await call(server.base, 'GET', '/v1/admin/apps'), 401, 'unauthorized');
  });

  const own = async (app: CreatedApp): Promise<{ body: OwnStanding; text: string }> => {
    const response = await fetch(`${server.base}/v1/app`, {
      headers: { authorization: `Bearer ${app.appSecret}` },
    });
    const text = await response.text();
    expect(response.status, text).to.equal(200);
    return { body: JSON.parse(text) as OwnStanding, text };
  };

  it('GET /v1/app: the app sees its own standing and upheld complaints, never who complained', async () => {
    const noisy = await own(apps.noisy);
    expect(noisy.body).to.deep.include({
      appId: apps.noisy.appId,
      name: 'Noisy app',
      status: 'active',
      score: 80,
    });
    // Upheld complaints only (not the open, dismissed or withdrawn ones), newest first.
    expect(noisy.body.upheldComplaints.map((c) => [c.category, c.severity])).to.deep.equal([
      ['fraud', 'major'],
      ['spam', 'minor'],
    ]);
    for (const complaint of noisy.body.upheldComplaints) {
      expect(Object.keys(complaint).sort()).to.deep.equal(['category', 'decidedAt', 'severity']);
      expect(Date.parse(complaint.decidedAt ?? '')).to.be.closeTo(Date.now(), 10 * 60_000);
    }
    // The dates are the operator's decisions.
    const decided = (
      await call<{ items: { appId: string; decidedAt: string }[] }>(
        server.base,
        'GET',
        '/v1/admin/complaints?status=upheld',
        { token: server.adminToken },
      )
    ).body.items
      .filter((item) => item.appId === apps.noisy.appId)
      .map((item) => item.decidedAt)
      .sort()
      .reverse();
    expect(noisy.body.upheldComplaints.map((c) => c.decidedAt)).to.deep.equal(decided);

    const suspended = await own(apps.suspended);
    expect(suspended.body).to.deep.include({ status: 'suspended', score: 55 });
    expect(suspended.body.suspendedUntil).to.equal(
      (await adminApp(server, apps.suspended.appId)).suspendedUntil,
    );
    expect(suspended.body.upheldComplaints.map((c) => c.category).sort()).to.deep.equal([
      'abuse',
      'spam',
    ]);
    const banned = await own(apps.banned);
    expect(banned.body).to.deep.include({ status: 'banned', score: 10 });
    expect(banned.body.upheldComplaints).to.have.length(3);
    expect((await own(apps.quiet)).body.upheldComplaints).to.deep.equal([]);

    // No complainant identity anywhere in what the apps see: no recipient id, username or reason.
    for (const { text } of [noisy, suspended, banned]) {
      for (const secret of [
        alice.recipientId,
        alice.username,
        bob.recipientId,
        bob.username,
        ...reasons,
      ]) {
        expect(text, 'GET /v1/app body').to.not.include(secret);
      }
      expect(text).to.not.match(/recipient|complainant|username|cmp_/i);
    }
    expectProblem(await call(server.base, 'GET', '/v1/app'), 401, 'unauthorized');
    expectProblem(
      await call(server.base, 'GET', '/v1/app', { token: server.adminToken }),
      401,
      'unauthorized',
    );
  });

  it('rebuilding the apps and complaints read models from the log gives the same answers as live', async () => {
    const people = [alice, bob];
    const answers = async (): Promise<unknown> => ({
      apps: await Promise.all(Object.values(apps).map((app) => adminApp(server, app.appId))),
      list: await list(),
      suspendedList: await list('?status=suspended'),
      own: await Promise.all(Object.values(apps).map(async (app) => (await own(app)).body)),
      complaints: await Promise.all(
        ['open', 'upheld', 'dismissed', 'withdrawn'].map(
          async (status) =>
            (
              await call(server.base, 'GET', `/v1/admin/complaints?status=${status}`, {
                token: server.adminToken,
              })
            ).body,
        ),
      ),
      mine: await Promise.all(
        people.map(
          async (person) =>
            (await call(server.base, 'GET', '/v1/me/complaints', { cookie: person.cookie })).body,
        ),
      ),
    });
    const rows = (db: TestServer['tidings']['db']) => ({
      apps: db.prepare('SELECT * FROM apps ORDER BY app_id').all(),
      complaints: db.prepare('SELECT * FROM complaints ORDER BY complaint_id').all(),
    });

    const live = await answers();
    const liveRows = rows(server.tidings.db);
    expect(liveRows.complaints).to.have.length(10);

    await server.stop();
    const temp = openTempStore(server.dir);
    try {
      // Damage both read models first, so an unchanged table cannot pass for a rebuilt one.
      temp.db
        .prepare("UPDATE apps SET score = -1, status = 'banned', suspended_until = NULL")
        .run();
      temp.db.prepare('DELETE FROM complaints').run();
      const log = await temp.store.readAll({ maxCount: 1_000_000 });
      for (const projection of [appsProjection, complaintsProjection]) {
        const { events } = await rebuildProjection(
          temp.db,
          temp.store,
          temp.checkpoints,
          projection,
          {
            pageSize: 7,
          },
        );
        expect(events, `${projection.name} events replayed`).to.equal(
          log.filter((event) => projection.eventTypes?.includes(event.type) ?? true).length,
        );
      }
      expect(rows(temp.db)).to.deep.equal(liveRows);
    } finally {
      await temp.close();
    }

    server = await server.restart();
    expect(await answers()).to.deep.equal(live);
  });
});

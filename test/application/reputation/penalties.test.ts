import { failAppends } from '../../support/faults.js';
import { expect } from 'chai';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';
import type { CreatedApp, Person } from '../../support/httpFixtures.js';
import { expectNoNewEvents, expectProblem, registerPerson } from '../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  type BoundPerson,
  createPipelineApp,
  deliver,
  inboxIds,
  send,
  startPipelineServer,
} from '../../support/pipeline.js';
import {
  DAY_MS,
  adminApp,
  appEvents,
  complain,
  complaintEvents,
  dataOf,
  runCommand,
  schedulerAt,
  upheld,
  waitForApp,
  type AdminAppView,
  type Severity,
} from '../../support/reputation.js';
import { waitUntil } from '../../support/waitUntil.js';
import { call, type TestServer } from '../../support/testServer.js';

/** The standing an app's own stream implies: the status after its last status-changing event. */
const statusFromStream = (events: readonly RecordedEvent[]): AdminAppView['status'] => {
  let status: AdminAppView['status'] = 'active';
  for (const event of events) {
    if (event.type === 'AppSuspended') status = 'suspended';
    else if (event.type === 'AppBanned') status = 'banned';
    else if (event.type === 'AppSuspensionLifted' || event.type === 'AppReinstated')
      status = 'active';
  }
  return status;
};

/** The score an app's own stream implies: the last scoreAfter, or 100. */
const scoreFromStream = (events: readonly RecordedEvent[]): number => {
  let score = 100;
  for (const event of events) {
    const data = event.data as { scoreAfter?: number };
    if (data.scoreAfter !== undefined) score = data.scoreAfter;
  }
  return score;
};

describe('reputation: the penalty ladder over HTTP', function () {
  this.timeout(60_000);
  let server: TestServer;
  let victim: Person;

  before(async () => {
    // The default ladder (5/15/30, below 60 suspended 7 days, below 20 or 3rd suspension banned);
    // surges off so only upheld complaints move the score.
    server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '0' } });
    victim = await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  /**
   * Waits until the reputation processor has charged `penalties` complaints to the app and the
   * read model shows what the app's stream says. Returns the view and the stream.
   */
  const settle = async (
    appId: string,
    penalties: number,
  ): Promise<{ view: AdminAppView; events: RecordedEvent[] }> =>
    waitUntil(
      async () => ({ view: await adminApp(server, appId), events: await appEvents(server, appId) }),
      ({ view, events }) =>
        events.filter((event) => event.type === 'AppPenalized').length === penalties &&
        view.score === scoreFromStream(events) &&
        view.status === statusFromStream(events),
      `${penalties} penalties on ${appId}`,
    );

  /** The id of the ComplaintUpheld event of a complaint (what the penalty was caused by). */
  const upheldEventId = async (complaintId: string): Promise<string> => {
    const upholds = (await complaintEvents(server, complaintId)).filter(
      (event) => event.type === 'ComplaintUpheld',
    );
    expect(upholds, `ComplaintUpheld of ${complaintId}`).to.have.length(1);
    return upholds[0]?.id ?? '';
  };

  /**
   * Every penalty, suspension and ban in the app's stream names exactly one complaint, that
   * complaint's ComplaintUpheld caused it, and every upheld complaint is charged exactly once.
   */
  const expectChain = async (
    events: readonly RecordedEvent[],
    complaintIds: readonly string[],
  ): Promise<void> => {
    const caused = events.filter((event) =>
      ['AppPenalized', 'AppSuspended', 'AppBanned'].includes(event.type),
    );
    for (const event of caused) {
      const named = dataOf(event)['complaintIds'] as string[];
      expect(named, `${event.type} names its complaint`).to.have.length(1);
      const [complaintId = ''] = named;
      expect(complaintIds, `${event.type} names one of the upheld complaints`).to.include(
        complaintId,
      );
      expect(event.metadata.causationId, `${event.type} caused by the uphold`).to.equal(
        await upheldEventId(complaintId),
      );
      expect(event.metadata.actor).to.deep.equal({ kind: 'system', id: 'reputation' });
    }
    const charged = events
      .filter((event) => event.type === 'AppPenalized')
      .flatMap((event) => dataOf(event)['complaintIds'] as string[]);
    expect([...charged].sort()).to.deep.equal([...complaintIds].sort());
  };

  /** An app with one person bound, and `count` messages in that person's inbox. */
  const appWithMessages = async (
    count: number,
  ): Promise<{ app: CreatedApp; to: BoundPerson; messages: string[] }> => {
    const app = await createPipelineApp(server);
    const to = await bindWithoutDevice(server, app, { person: victim });
    const messages: string[] = [];
    for (let i = 0; i < count; i += 1) messages.push(await deliver(server, app, to, `Note ${i}`));
    return { app, to, messages };
  };

  /** Complains about each message and upholds them in order with the given severities. */
  const upholdAll = async (
    to: BoundPerson,
    messages: readonly string[],
    severities: readonly Severity[],
  ): Promise<string[]> => {
    const complaintIds: string[] = [];
    for (const messageId of messages)
      complaintIds.push(await complain(server, to.person, messageId));
    for (const [index, severity] of severities.entries())
      await upheld(server, complaintIds[index] ?? '', severity);
    return complaintIds;
  };

  const POINTS: Record<Severity, number> = { minor: 5, major: 15, severe: 30 };

  const table: {
    readonly severities: readonly Severity[];
    readonly score: number;
    readonly status: AdminAppView['status'];
    /** The app's events after AppRegistered. */
    readonly events: readonly string[];
    /** Why it was suspended or banned, if it was. */
    readonly reason?: string;
  }[] = [
    { severities: ['minor'], score: 95, status: 'active', events: ['AppPenalized'] },
    { severities: ['major'], score: 85, status: 'active', events: ['AppPenalized'] },
    { severities: ['severe'], score: 70, status: 'active', events: ['AppPenalized'] },
    {
      // Exactly 60 is not below 60.
      severities: ['severe', 'minor', 'minor'],
      score: 60,
      status: 'active',
      events: ['AppPenalized', 'AppPenalized', 'AppPenalized'],
    },
    {
      severities: ['severe', 'major'],
      score: 55,
      status: 'suspended',
      events: ['AppPenalized', 'AppPenalized', 'AppSuspended'],
      reason: 'score_below_threshold',
    },
    {
      // Penalties while suspended lower the score without a second suspension; 20 is not below 20.
      severities: ['severe', 'severe', 'major', 'minor'],
      score: 20,
      status: 'suspended',
      events: ['AppPenalized', 'AppPenalized', 'AppSuspended', 'AppPenalized', 'AppPenalized'],
      reason: 'score_below_threshold',
    },
    {
      severities: ['severe', 'severe', 'severe'],
      score: 10,
      status: 'banned',
      events: ['AppPenalized', 'AppPenalized', 'AppSuspended', 'AppPenalized', 'AppBanned'],
      reason: 'score_below_threshold',
    },
  ];

  for (const row of table) {
    it(`${row.severities.join(' + ')} → score ${row.score}, ${row.status}`, async () => {
      const { app, to, messages } = await appWithMessages(row.severities.length);
      const startedAt = Date.now();
      const complaintIds = await upholdAll(to, messages, row.severities);
      const { view, events } = await settle(app.appId, row.severities.length);
      const settledAt = Date.now();

      expect(view.score).to.equal(row.score);
      expect(view.status).to.equal(row.status);
      expect(view.complaints).to.deep.equal({
        open: 0,
        upheld: row.severities.length,
        dismissed: 0,
      });
      expect(events.map((event) => event.type)).to.deep.equal(['AppRegistered', ...row.events]);

      // Each penalty costs its severity's points, in order, down from 100.
      const penalties = events.filter((event) => event.type === 'AppPenalized');
      let score = 100;
      for (const [index, penalty] of penalties.entries()) {
        const severity = row.severities[index] ?? 'minor';
        score -= POINTS[severity];
        expect(dataOf(penalty)).to.deep.equal({
          appId: app.appId,
          points: POINTS[severity],
          scoreAfter: score,
          complaintIds: [complaintIds[index]],
          reason: `${severity} complaint upheld`,
        });
      }
      await expectChain(events, complaintIds);

      const suspension = events.find((event) => event.type === 'AppSuspended');
      const ban = events.find((event) => event.type === 'AppBanned');
      if (row.reason !== undefined) {
        // The suspension names the complaint that took the score below 60.
        const crossing =
          complaintIds[penalties.findIndex((p) => (dataOf(p)['scoreAfter'] as number) < 60)];
        expect(dataOf(suspension)['complaintIds']).to.deep.equal([crossing]);
        expect(dataOf(suspension)['reason']).to.equal('score_below_threshold');
      }
      if (row.status === 'banned') {
        const fatal =
          complaintIds[penalties.findIndex((p) => (dataOf(p)['scoreAfter'] as number) < 20)];
        expect(dataOf(ban)).to.deep.equal({
          appId: app.appId,
          reason: row.reason,
          complaintIds: [fatal],
        });
        expect(view.suspendedUntil).to.equal(undefined);
        const refused = await expectNoNewEvents(server.tidings, () =>
          send(server, app, { key: to.key, body: 'Still here' }),
        );
        expectProblem(refused, 403, 'app_banned');
      }
      if (row.status === 'suspended') {
        // Suspended for 7 days from when the processor decided it.
        const until = Date.parse(view.suspendedUntil ?? '');
        expect(until).to.be.at.least(startedAt + 7 * DAY_MS);
        expect(until).to.be.at.most(settledAt + 7 * DAY_MS);
        expect(dataOf(suspension)['until']).to.equal(view.suspendedUntil);
        const refused = await expectNoNewEvents(server.tidings, () =>
          send(server, app, { key: to.key, body: 'Still here' }),
        );
        const problem = expectProblem(refused, 403, 'app_suspended');
        expect(problem['suspendedUntil']).to.equal(view.suspendedUntil);
      }
      if (row.status === 'active') {
        expect(view.suspendedUntil).to.equal(undefined);
        const sent = await send(server, app, { key: to.key, body: 'Still allowed' });
        expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
      }
    });
  }

  it('the server itself lifts an expired suspension (its scheduler), and the score recovers to 60', async () => {
    const { app, to } = await appWithMessages(0);
    // 55 points, then a suspension that ends 1 s from now, both through the command path.
    await runCommand(server, 'app', app.appId, {
      type: 'PenalizeApp',
      data: { appId: app.appId, points: 45, complaintIds: ['cmp_test_manual'], reason: 'test' },
      metadata: { now: new Date().toISOString() },
    });
    const until = new Date(Date.now() + 1_000).toISOString();
    await runCommand(server, 'app', app.appId, {
      type: 'SuspendApp',
      data: { appId: app.appId, until, reason: 'operator', complaintIds: ['cmp_test_manual'] },
      metadata: { now: new Date().toISOString() },
    });
    const suspended = await waitForApp(
      server,
      app.appId,
      (v) => v.status === 'suspended',
      'suspended',
    );
    expect(suspended).to.deep.include({ score: 55, suspendedUntil: until });

    const lifted = await waitUntil(
      async () => {
        await server.tidings.scheduler.tick();
        return adminApp(server, app.appId);
      },
      (view) => view.status === 'active',
      'the suspension lifted',
    );
    expect(lifted.score).to.equal(60);
    expect(lifted.suspendedUntil).to.equal(undefined);
    const events = await appEvents(server, app.appId);
    const lift = events.filter((event) => event.type === 'AppSuspensionLifted');
    expect(lift).to.have.length(1);
    expect(dataOf(lift[0])).to.deep.equal({ appId: app.appId, reason: 'expired', scoreAfter: 60 });
    expect(lift[0]?.metadata.actor).to.deep.equal({ kind: 'system', id: 'scheduler' });
    expect(Date.parse(lift[0]?.metadata.occurredAt ?? '')).to.be.at.least(Date.parse(until));
    const sent = await send(server, app, { key: to.key, body: 'Back' });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
  });

  it('a message whose release keeps failing does not stop the scheduler from lifting a suspension', async () => {
    const { app } = await appWithMessages(0);
    const other = await appWithMessages(0);
    const scheduled = await send(server, other.app, {
      key: other.to.key,
      body: 'due in a second',
      delaySeconds: 1,
    });
    expect(scheduled.status, JSON.stringify(scheduled.body)).to.equal(202);
    const until = new Date(Date.now() + 1_000).toISOString();
    await runCommand(server, 'app', app.appId, {
      type: 'SuspendApp',
      data: { appId: app.appId, until, reason: 'operator', complaintIds: ['cmp_test_manual'] },
      metadata: { now: new Date().toISOString() },
    });
    await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'suspended');
    // Every release fails.
    const restore = failAppends(server.tidings.store, (events) =>
      events.some((event) => event.type === 'MessageReleased'),
    );
    try {
      const lifted = await waitUntil(
        async () => {
          await server.tidings.scheduler.tick();
          return adminApp(server, app.appId);
        },
        (view) => view.status === 'active',
        'the suspension lifted',
      );
      expect(lifted.suspendedUntil).to.equal(undefined);
    } finally {
      restore();
    }
  });

  it('expiry and recovery, the third suspension bans, reinstatement with a note, and the app sends again', async () => {
    const { app, to, messages } = await appWithMessages(4);
    const [first = '', second = '', third = '', fourth = ''] = await Promise.all(
      messages.map((messageId) => complain(server, to.person, messageId)),
    );

    // Suspension 1: 100 − 30 − 15 = 55.
    await upheld(server, first, 'severe');
    await upheld(server, second, 'major');
    const one = await settle(app.appId, 2);
    expect(one.view).to.deep.include({ status: 'suspended', score: 55 });
    const until1 = one.view.suspendedUntil ?? '';

    // Six days later nothing happens; once it has run out, the scheduler lifts it and the
    // score recovers to 60.
    await schedulerAt(server, () => new Date(Date.parse(until1) - DAY_MS)).tick();
    expect((await adminApp(server, app.appId)).status).to.equal('suspended');
    expect((await appEvents(server, app.appId)).map((e) => e.type)).to.not.include(
      'AppSuspensionLifted',
    );
    await schedulerAt(server, () => new Date(Date.parse(until1) + 60_000)).tick();
    const recovered = await waitForApp(server, app.appId, (v) => v.status === 'active', 'lifted');
    expect(recovered.score).to.equal(60);
    expect(recovered.suspendedUntil).to.equal(undefined);

    // Suspension 2: 60 − 5 = 55, then expiry again.
    await upheld(server, third, 'minor');
    const two = await settle(app.appId, 3);
    expect(two.view).to.deep.include({ status: 'suspended', score: 55 });
    const until2 = two.view.suspendedUntil ?? '';
    expect(until2).to.not.equal(until1);
    await schedulerAt(server, () => new Date(Date.parse(until2) + 60_000)).tick();
    expect(
      (await waitForApp(server, app.appId, (v) => v.status === 'active', 'lifted again')).score,
    ).to.equal(60);

    // What would be the third suspension is a ban.
    await upheld(server, fourth, 'minor');
    const three = await settle(app.appId, 4);
    expect(three.view).to.deep.include({ status: 'banned', score: 55 });
    const events = three.events;
    expect(events.map((event) => event.type)).to.deep.equal([
      'AppRegistered',
      'AppPenalized',
      'AppPenalized',
      'AppSuspended',
      'AppSuspensionLifted',
      'AppPenalized',
      'AppSuspended',
      'AppSuspensionLifted',
      'AppPenalized',
      'AppBanned',
    ]);
    const lifts = events.filter((event) => event.type === 'AppSuspensionLifted');
    for (const lift of lifts)
      expect(dataOf(lift)).to.deep.equal({ appId: app.appId, reason: 'expired', scoreAfter: 60 });
    const suspensions = events.filter((event) => event.type === 'AppSuspended');
    expect(suspensions.map((event) => dataOf(event)['complaintIds'])).to.deep.equal([
      [second],
      [third],
    ]);
    expect(dataOf(events.at(-1))).to.deep.equal({
      appId: app.appId,
      reason: 'repeated_suspensions',
      complaintIds: [fourth],
    });
    await expectChain(events, [first, second, third, fourth]);
    expectProblem(
      await expectNoNewEvents(server.tidings, () => send(server, app, { key: to.key, body: 'x' })),
      403,
      'app_banned',
    );

    // An operator reinstates it with a note: active, at least 60 points, the note recorded.
    const reinstated = await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
      token: server.adminToken,
      body: { note: 'Appeal granted after review of ticket 4711' },
    });
    expect(reinstated.status, JSON.stringify(reinstated.body)).to.equal(200);
    expect(reinstated.body).to.deep.equal({ status: 'active' });
    const view = await adminApp(server, app.appId);
    expect(view.status).to.equal('active');
    expect(view.score).to.be.at.least(60);
    const last = (await appEvents(server, app.appId)).at(-1);
    expect(last?.type).to.equal('AppReinstated');
    expect(dataOf(last)).to.deep.equal({
      appId: app.appId,
      scoreAfter: view.score,
      note: 'Appeal granted after review of ticket 4711',
    });
    expect(last?.metadata.actor.kind).to.equal('operator');

    // Reinstating an active app changes nothing.
    const again = await expectNoNewEvents(server.tidings, () =>
      call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
        token: server.adminToken,
        body: {},
      }),
    );
    expect(again.status).to.equal(200);

    // The reinstated app sends again, and the message arrives.
    const messageId = await deliver(server, app, to, 'We are back');
    expect(await inboxIds(server, to.person)).to.include(messageId);
  });

  it('reinstating an app banned below 20 points brings it back at 60', async () => {
    const { app, to, messages } = await appWithMessages(3);
    await upholdAll(to, messages, ['severe', 'severe', 'severe']);
    const { view } = await settle(app.appId, 3);
    expect(view).to.deep.include({ status: 'banned', score: 10 });

    const reply = await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
      token: server.adminToken,
      body: { note: 'Second chance' },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(await adminApp(server, app.appId)).to.deep.include({ status: 'active', score: 60 });
    const sent = await send(server, app, { key: to.key, body: 'Hello again' });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    expect(sent.body.status).to.equal('accepted');
  });

  it('reinstate: 404 for an unknown app, 400 for an empty note', async () => {
    expectProblem(
      await call(server.base, 'POST', '/v1/admin/apps/app_doesNotExist000000/reinstate', {
        token: server.adminToken,
        body: { note: 'x' },
      }),
      404,
      'not_found',
    );
    const { app } = await appWithMessages(0);
    expectProblem(
      await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
        token: server.adminToken,
        body: { note: '' },
      }),
      400,
      'validation_failed',
    );
  });
});

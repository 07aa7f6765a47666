import { expect } from 'chai';
import { secureIds } from '../../../adapters/security/secureIds.js';
import { complaintIdFor } from '../../../application/complaints/complaintId.js';
import { expectProblem } from '../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  type BoundPerson,
  createPipelineApp,
  deliver,
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
  upheld,
  waitForApp,
} from '../../support/reputation.js';
import { call, type TestServer } from '../../support/testServer.js';
import type { CreatedApp } from '../../support/httpFixtures.js';

/**
 * Waits until the reputation processor has handled everything filed so far: it handles the log in
 * order, so once it has charged a complaint upheld now, it has seen every earlier filing.
 */
const barrier = async (server: TestServer, appId: string, complaintId: string): Promise<void> => {
  const before = (await adminApp(server, appId)).score;
  await upheld(server, complaintId, 'minor');
  await waitForApp(server, appId, (view) => view.score === before - 5, 'the barrier penalty');
};

describe('reputation: automatic review on a surge of complaints', function () {
  this.timeout(60_000);

  describe('with TIDINGS_SURGE_COMPLAINANTS=3', () => {
    let server: TestServer;
    before(async () => {
      server = await startPipelineServer({
        env: {
          TIDINGS_SURGE_COMPLAINANTS: '3',
          TIDINGS_SURGE_WINDOW_HOURS: '24',
        },
      });
    });
    after(async () => {
      await server.dispose();
    });

    /** An app and `people` people bound to it, each with one message in their inbox. */
    const appAndPeople = async (
      people: number,
    ): Promise<{ app: CreatedApp; bound: BoundPerson[]; messages: string[] }> => {
      const app = await createPipelineApp(server, 'Flash sales');
      const bound: BoundPerson[] = [];
      const messages: string[] = [];
      for (let i = 0; i < people; i += 1) {
        const to = await bindWithoutDevice(server, app);
        bound.push(to);
        messages.push(await deliver(server, app, to, `Deal ${i}`));
      }
      return { app, bound, messages };
    };

    it('complaints from 3 distinct people suspend the app (complaint_surge) without any operator action', async () => {
      const { app, bound, messages } = await appAndPeople(3);
      const startedAt = Date.now();
      const complaintIds: string[] = [];
      for (const [index, to] of bound.entries())
        complaintIds.push(await complain(server, to.person, messages[index] ?? ''));

      const view = await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'surge');
      // No operator decided anything: no penalty, all complaints still open.
      expect(view.score).to.equal(100);
      expect(view.complaints).to.deep.equal({ open: 3, upheld: 0, dismissed: 0 });

      const events = await appEvents(server, app.appId);
      expect(events.map((event) => event.type)).to.deep.equal(['AppRegistered', 'AppSuspended']);
      const suspension = events[1];
      const data = dataOf(suspension);
      expect(data['reason']).to.equal('complaint_surge');
      expect([...(data['complaintIds'] as string[])].sort()).to.deep.equal(
        [...complaintIds].sort(),
      );
      expect(data['until']).to.equal(view.suspendedUntil);
      const until = Date.parse(view.suspendedUntil ?? '');
      expect(until).to.be.at.least(startedAt + 7 * DAY_MS);
      expect(until).to.be.at.most(Date.now() + 7 * DAY_MS);
      expect(suspension?.metadata.actor).to.deep.equal({ kind: 'system', id: 'reputation' });
      // The third person's complaint is what tipped it.
      const thirdFiled = (await complaintEvents(server, complaintIds[2] ?? '')).find(
        (event) => event.type === 'ComplaintFiled',
      );
      expect(suspension?.metadata.causationId).to.equal(thirdFiled?.id);

      const refused = await send(server, app, { key: bound[0]?.key, body: 'More deals' });
      expect(expectProblem(refused, 403, 'app_suspended')['suspendedUntil']).to.equal(
        view.suspendedUntil,
      );
    });

    it('3 complaints from the same person (about 3 messages) do not; a third distinct person does', async () => {
      const { app, bound, messages } = await appAndPeople(1);
      const [alice] = bound as [BoundPerson];
      messages.push(await deliver(server, app, alice, 'Deal again'));
      messages.push(await deliver(server, app, alice, 'Deal once more'));
      const byAlice: string[] = [];
      for (const messageId of messages)
        byAlice.push(await complain(server, alice.person, messageId));

      // A second person makes two distinct complainants: still below 3.
      const bob = await bindWithoutDevice(server, app);
      const bobs = await complain(server, bob.person, await deliver(server, app, bob));
      await barrier(server, app.appId, byAlice[0] ?? '');
      const calm = await adminApp(server, app.appId);
      expect(calm.status).to.equal('active');
      expect(calm.complaints).to.deep.equal({ open: 3, upheld: 1, dismissed: 0 });
      expect((await appEvents(server, app.appId)).map((event) => event.type)).to.not.include(
        'AppSuspended',
      );

      // The rule is live: a third distinct person tips it.
      const carol = await bindWithoutDevice(server, app);
      const carols = await complain(server, carol.person, await deliver(server, app, carol));
      const view = await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'surge');
      expect(view.score).to.equal(95);
      const suspensions = (await appEvents(server, app.appId)).filter(
        (event) => event.type === 'AppSuspended',
      );
      expect(suspensions).to.have.length(1);
      expect(dataOf(suspensions[0])['reason']).to.equal('complaint_surge');
      expect([...(dataOf(suspensions[0])['complaintIds'] as string[])].sort()).to.deep.equal(
        [...byAlice, bobs, carols].sort(),
      );
    });

    /** Takes a filed complaint back, as its person (withdrawn) or as the operator (dismissed). */
    const takeBack: Record<
      'withdrawn' | 'dismissed',
      (to: BoundPerson, complaintId: string) => Promise<void>
    > = {
      withdrawn: async (to, complaintId) => {
        const reply = await call(server.base, 'DELETE', `/v1/me/complaints/${complaintId}`, {
          cookie: to.person.cookie,
        });
        expect(reply.status).to.equal(204);
      },
      dismissed: async (_to, complaintId) => {
        const reply = await call(
          server.base,
          'POST',
          `/v1/admin/complaints/${complaintId}/dismiss`,
          {
            token: server.adminToken,
            body: {},
          },
        );
        expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      },
    };

    for (const how of ['withdrawn', 'dismissed'] as const) {
      it(`a ${how} complaint does not count towards a surge`, async () => {
        const { app, bound, messages } = await appAndPeople(3);
        const [first, second, third] = bound as [BoundPerson, BoundPerson, BoundPerson];
        await takeBack[how](first, await complain(server, first.person, messages[0] ?? ''));
        const seconds = await complain(server, second.person, messages[1] ?? '');
        await complain(server, third.person, messages[2] ?? '');
        await barrier(server, app.appId, seconds);
        expect((await adminApp(server, app.appId)).status).to.equal('active');
        expect((await appEvents(server, app.appId)).map((event) => event.type)).to.not.include(
          'AppSuspended',
        );
      });
    }

    it('complaints filed all at once suspend the app too', async () => {
      const { app, bound, messages } = await appAndPeople(3);
      await Promise.all(
        bound.map((to, index) => complain(server, to.person, messages[index] ?? '')),
      );
      const view = await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'surge');
      expect(view.status).to.equal('suspended');
    });

    it('complaints older than the window do not count', async () => {
      const { app, bound, messages } = await appAndPeople(3);
      // Two people complained two days ago (written through the command path with that time).
      const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS).toISOString();
      for (const index of [0, 1]) {
        const to = bound[index] as BoundPerson;
        const messageId = messages[index] ?? '';
        const complaintId = complaintIdFor(secureIds, messageId, to.person.recipientId);
        await runCommand(server, 'complaint', complaintId, {
          type: 'FileComplaint',
          data: {
            complaintId,
            messageId,
            appId: app.appId,
            recipientId: to.person.recipientId,
            category: 'spam',
            reason: 'Old news',
          },
          metadata: { now: twoDaysAgo },
        });
      }
      const third = bound[2] as BoundPerson;
      const recent = await complain(server, third.person, messages[2] ?? '');
      await barrier(server, app.appId, recent);
      const view = await adminApp(server, app.appId);
      expect(view.status).to.equal('active');
      expect(view.complaints.open).to.equal(2);
      expect((await appEvents(server, app.appId)).map((event) => event.type)).to.not.include(
        'AppSuspended',
      );
    });
  });

  describe('with TIDINGS_SURGE_COMPLAINANTS=0 (off)', () => {
    let server: TestServer;
    before(async () => {
      server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '0' } });
    });
    after(async () => {
      await server.dispose();
    });

    it('complaints from many distinct people suspend nothing', async () => {
      const app = await createPipelineApp(server, 'Flash sales');
      const complaintIds: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const to = await bindWithoutDevice(server, app);
        complaintIds.push(await complain(server, to.person, await deliver(server, app, to)));
      }
      await barrier(server, app.appId, complaintIds[0] ?? '');
      const view = await adminApp(server, app.appId);
      expect(view).to.deep.include({ status: 'active', score: 95 });
      expect(view.complaints).to.deep.equal({ open: 5, upheld: 1, dismissed: 0 });
      expect((await appEvents(server, app.appId)).map((event) => event.type)).to.deep.equal([
        'AppRegistered',
        'AppPenalized',
      ]);
    });
  });
  describe('across a restart', () => {
    let server: TestServer;
    before(async () => {
      server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '3' } });
    });
    after(async () => {
      await server.dispose();
    });

    it('after a reinstatement, only complaints filed since count towards the next surge', async () => {
      const app = await createPipelineApp(server, 'Second chance');
      for (let i = 0; i < 3; i += 1) {
        const to = await bindWithoutDevice(server, app);
        await complain(server, to.person, await deliver(server, app, to));
      }
      await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'first surge');
      const reinstated = await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
        token: server.adminToken,
        body: { note: 'reviewed' },
      });
      expect(reinstated.status).to.equal(200);
      // One new complaint: with the reviewed three it would make four people, but those were reviewed.
      const fourth = await bindWithoutDevice(server, app);
      const lone = await complain(server, fourth.person, await deliver(server, app, fourth));
      await barrier(server, app.appId, lone);
      expect((await adminApp(server, app.appId)).status).to.equal('active');
      // Three new people since the reinstatement are a new surge.
      for (let i = 0; i < 2; i += 1) {
        const to = await bindWithoutDevice(server, app);
        await complain(server, to.person, await deliver(server, app, to));
      }
      await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'second surge');
      const suspensions = (await appEvents(server, app.appId)).filter(
        (event) => event.type === 'AppSuspended',
      );
      expect(suspensions).to.have.length(2);
    });

    it('an app reinstated after a surge is not suspended again when the server restarts', async () => {
      const app = await createPipelineApp(server, 'Flash sales');
      const complaintIds: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const to = await bindWithoutDevice(server, app);
        complaintIds.push(await complain(server, to.person, await deliver(server, app, to)));
      }
      await waitForApp(server, app.appId, (v) => v.status === 'suspended', 'surge');
      const reinstated = await call(server.base, 'POST', `/v1/admin/apps/${app.appId}/reinstate`, {
        token: server.adminToken,
        body: { note: 'Reviewed: a misconfigured campaign, fixed' },
      });
      expect(reinstated.status, JSON.stringify(reinstated.body)).to.equal(200);
      const before = (await appEvents(server, app.appId)).map((event) => event.type);
      expect(before).to.deep.equal(['AppRegistered', 'AppSuspended', 'AppReinstated']);

      await server.stop();
      server = await server.restart();
      // The processors replay the log when the server starts; once the reputation processor has
      // charged a complaint upheld now, it has seen every filing again.
      await barrier(server, app.appId, complaintIds[0] ?? '');
      expect((await adminApp(server, app.appId)).status).to.equal('active');
      expect((await appEvents(server, app.appId)).map((event) => event.type)).to.deep.equal([
        ...before,
        'AppPenalized',
      ]);
    });
  });
});

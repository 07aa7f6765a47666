import { expect } from 'chai';
import type { CreatedApp, Person } from '../../support/httpFixtures.js';
import {
  errorPaths,
  eventCount,
  eventsAfter,
  expectNoNewEvents,
  expectProblem,
} from '../../support/httpFixtures.js';
import {
  bindWithoutDevice,
  type BoundPerson,
  createPipelineApp,
  deliver,
  inboxIds,
  startPipelineServer,
} from '../../support/pipeline.js';
import { complain, complaintEvents, fileComplaint, uphold } from '../../support/reputation.js';
import { call, type TestServer } from '../../support/testServer.js';

/** A complaint as `GET /v1/me/complaints` and `GET /v1/admin/complaints` show it. */
interface ComplaintView {
  readonly complaintId: string;
  readonly messageId: string;
  readonly appId: string;
  readonly category: string;
  readonly reason: string;
  readonly status: 'open' | 'upheld' | 'dismissed' | 'withdrawn';
  readonly severity: string | null;
  readonly note: string | null;
  readonly filedAt: string;
  readonly decidedAt: string | null;
  readonly recipientId?: string;
}

describe('reputation: the complaint lifecycle over HTTP', function () {
  this.timeout(60_000);
  let server: TestServer;
  let app: CreatedApp;
  let alice: BoundPerson;
  let bob: BoundPerson;

  before(async () => {
    // Surges off: this file is about the complaint itself, not automatic review.
    server = await startPipelineServer({ env: { TIDINGS_SURGE_COMPLAINANTS: '0' } });
    app = await createPipelineApp(server, 'Parcels');
    alice = await bindWithoutDevice(server, app);
    bob = await bindWithoutDevice(server, app);
  });
  after(async () => {
    await server.dispose();
  });

  const myComplaints = async (person: Person): Promise<ComplaintView[]> => {
    const reply = await call<{ items: ComplaintView[] }>(server.base, 'GET', '/v1/me/complaints', {
      cookie: person.cookie,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    return reply.body.items;
  };

  const adminComplaints = async (status?: string): Promise<ComplaintView[]> => {
    const reply = await call<{ items: ComplaintView[] }>(
      server.base,
      'GET',
      `/v1/admin/complaints${status === undefined ? '' : `?status=${status}`}`,
      { token: server.adminToken },
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    return reply.body.items;
  };

  const mine = async (person: Person, complaintId: string): Promise<ComplaintView | undefined> =>
    (await myComplaints(person)).find((item) => item.complaintId === complaintId);

  const withdraw = (person: Person, complaintId: string) =>
    call(server.base, 'DELETE', `/v1/me/complaints/${complaintId}`, { cookie: person.cookie });

  it('files a complaint: 201 with its id, the message leaves the inbox, /v1/me/complaints lists it', async () => {
    const kept = await deliver(server, app, alice, 'Kept');
    const messageId = await deliver(server, app, alice, 'Unwanted');
    expect(await inboxIds(server, alice.person)).to.include.members([kept, messageId]);

    const before = await eventCount(server.tidings);
    const reply = await fileComplaint(server, alice.person, messageId, {
      category: 'fraud',
      reason: 'Asks for my card number',
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    expect(Object.keys(reply.body)).to.deep.equal(['complaintId']);
    const { complaintId } = reply.body;
    expect(complaintId).to.be.a('string').and.not.equal('');

    const filed = (await eventsAfter(server.tidings, before)).filter(
      (event) => event.type === 'ComplaintFiled',
    );
    expect(filed).to.have.length(1);
    expect(filed[0]?.stream).to.equal(`complaint-${complaintId}`);
    expect(filed[0]?.data).to.deep.include({
      complaintId,
      messageId,
      appId: app.appId,
      recipientId: alice.person.recipientId,
      category: 'fraud',
      reason: 'Asks for my card number',
    });

    const inbox = await inboxIds(server, alice.person);
    expect(inbox, 'the complained-about message left the inbox').to.not.include(messageId);
    expect(inbox, 'other messages stay').to.include(kept);

    const listed = await mine(alice.person, complaintId);
    expect(listed).to.deep.include({
      complaintId,
      messageId,
      appId: app.appId,
      category: 'fraud',
      reason: 'Asks for my card number',
      status: 'open',
      severity: null,
      note: null,
      decidedAt: null,
    });
    expect(Date.parse(listed?.filedAt ?? '')).to.be.closeTo(Date.now(), 60_000);
    // The operator's queue has it too, with who filed it.
    const queued = (await adminComplaints('open')).find((c) => c.complaintId === complaintId);
    expect(queued?.recipientId).to.equal(alice.person.recipientId);
    // Another person does not see it.
    expect((await myComplaints(bob.person)).map((c) => c.complaintId)).to.not.include(complaintId);
  });

  it('a second complaint about the same message while one is open: 422 duplicate_complaint, nothing written', async () => {
    const messageId = await deliver(server, app, alice);
    const complaintId = await complain(server, alice.person, messageId, 'spam', 'First time');

    const duplicate = await expectNoNewEvents(server.tidings, () =>
      fileComplaint(server, alice.person, messageId, { category: 'abuse', reason: 'Again' }),
    );
    const problem = expectProblem(duplicate, 422, 'duplicate_complaint');
    expect(problem['complaintId']).to.equal(complaintId);
    expect(problem['status']).to.equal(422);

    // A plain retry of the very same filing (a double submit) is the same complaint, not a new one.
    const retry = await expectNoNewEvents(server.tidings, () =>
      fileComplaint(server, alice.person, messageId, { category: 'spam', reason: 'First time' }),
    );
    expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
    expect(retry.body.complaintId).to.equal(complaintId);

    const listed = (await myComplaints(alice.person)).filter((c) => c.messageId === messageId);
    expect(listed).to.have.length(1);
    expect(listed[0]).to.deep.include({ status: 'open', category: 'spam', reason: 'First time' });
  });

  it('withdraw: 204, the message is back in the inbox, and the person may file again', async () => {
    const messageId = await deliver(server, app, alice);
    const complaintId = await complain(server, alice.person, messageId);
    expect(await inboxIds(server, alice.person)).to.not.include(messageId);

    const withdrawn = await withdraw(alice.person, complaintId);
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(204);
    expect((await complaintEvents(server, complaintId)).map((e) => e.type)).to.deep.equal([
      'ComplaintFiled',
      'ComplaintWithdrawn',
    ]);
    expect(await inboxIds(server, alice.person)).to.include(messageId);
    expect((await mine(alice.person, complaintId))?.status).to.equal('withdrawn');
    expect((await adminComplaints('open')).map((c) => c.complaintId)).to.not.include(complaintId);

    // Withdrawing again changes nothing.
    const again = await expectNoNewEvents(server.tidings, () =>
      withdraw(alice.person, complaintId),
    );
    expect(again.status).to.equal(204);

    const refiled = await fileComplaint(server, alice.person, messageId, {
      category: 'other',
      reason: 'On second thought, it is spam after all',
    });
    expect(refiled.status, JSON.stringify(refiled.body)).to.equal(201);
    expect(refiled.body.complaintId).to.equal(complaintId);
    expect(await mine(alice.person, complaintId)).to.deep.include({
      status: 'open',
      category: 'other',
      reason: 'On second thought, it is spam after all',
    });
    expect(await inboxIds(server, alice.person)).to.not.include(messageId);
    expect((await adminComplaints('open')).map((c) => c.complaintId)).to.include(complaintId);
  });

  it('uphold (severity and note): 200 upheld; the complaint shows both, and can no longer be withdrawn', async () => {
    const messageId = await deliver(server, app, alice);
    const complaintId = await complain(server, alice.person, messageId, 'abuse', 'Insults');

    const reply = await uphold(server, complaintId, 'minor', 'Rude wording, first offence');
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(reply.body).to.deep.equal({ status: 'upheld' });

    const events = await complaintEvents(server, complaintId);
    expect(events.map((e) => e.type)).to.deep.equal(['ComplaintFiled', 'ComplaintUpheld']);
    expect(events[1]?.data).to.deep.equal({
      complaintId,
      severity: 'minor',
      note: 'Rude wording, first offence',
    });
    expect(events[1]?.metadata.actor.kind).to.equal('operator');

    const listed = await mine(alice.person, complaintId);
    expect(listed).to.deep.include({
      status: 'upheld',
      severity: 'minor',
      note: 'Rude wording, first offence',
    });
    expect(listed?.decidedAt).to.be.a('string');
    const inUpheld = (await adminComplaints('upheld')).find((c) => c.complaintId === complaintId);
    expect(inUpheld).to.deep.include({ status: 'upheld', severity: 'minor' });

    // Upholding again with the same severity is a harmless repeat; another severity is refused.
    const repeat = await expectNoNewEvents(server.tidings, () =>
      uphold(server, complaintId, 'minor'),
    );
    expect(repeat.status).to.equal(200);
    expectProblem(
      await expectNoNewEvents(server.tidings, () => uphold(server, complaintId, 'severe')),
      422,
      'illegal_state',
    );
    // The person can no longer take an upheld complaint back.
    expectProblem(
      await expectNoNewEvents(server.tidings, () => withdraw(alice.person, complaintId)),
      422,
      'illegal_state',
    );
  });

  it('dismiss: 200 dismissed; upholding a dismissed complaint is 422 illegal_state', async () => {
    const messageId = await deliver(server, app, alice);
    const complaintId = await complain(server, alice.person, messageId, 'other', 'Not sure');

    const dismissed = await call(
      server.base,
      'POST',
      `/v1/admin/complaints/${complaintId}/dismiss`,
      {
        token: server.adminToken,
        body: { note: 'A normal shipping notice' },
      },
    );
    expect(dismissed.status, JSON.stringify(dismissed.body)).to.equal(200);
    expect(dismissed.body).to.deep.equal({ status: 'dismissed' });
    expect(await mine(alice.person, complaintId)).to.deep.include({
      status: 'dismissed',
      severity: null,
      note: 'A normal shipping notice',
    });

    const refused = await expectNoNewEvents(server.tidings, () =>
      uphold(server, complaintId, 'major'),
    );
    const problem = expectProblem(refused, 422, 'illegal_state');
    expect(problem['status']).to.equal(422);
    expect((await mine(alice.person, complaintId))?.status).to.equal('dismissed');
    // Dismissing without a note works too, and a dismissed complaint stays dismissed.
    const again = await call(server.base, 'POST', `/v1/admin/complaints/${complaintId}/dismiss`, {
      token: server.adminToken,
      body: {},
    });
    expect(again.status).to.equal(200);
  });

  it("not your message: another person's message and an unknown message are 404, and so is withdrawing someone else's complaint", async () => {
    const alicesMessage = await deliver(server, app, alice);
    const byBob = await expectNoNewEvents(server.tidings, () =>
      fileComplaint(server, bob.person, alicesMessage),
    );
    expectProblem(byBob, 404, 'not_found');
    expectProblem(
      await expectNoNewEvents(server.tidings, () =>
        fileComplaint(server, bob.person, 'msg_doesNotExist0000000'),
      ),
      404,
      'not_found',
    );

    const complaintId = await complain(server, alice.person, alicesMessage);
    const stolen = await expectNoNewEvents(server.tidings, () => withdraw(bob.person, complaintId));
    expectProblem(stolen, 404, 'not_found');
    expect((await mine(alice.person, complaintId))?.status).to.equal('open');
    expectProblem(await withdraw(bob.person, 'cmp_doesNotExist0000000'), 404, 'not_found');
    // Operators deciding on a complaint that does not exist: 404 too.
    expectProblem(await uphold(server, 'cmp_doesNotExist0000000', 'minor'), 404, 'not_found');
    expectProblem(
      await call(server.base, 'POST', '/v1/admin/complaints/cmp_doesNotExist0000000/dismiss', {
        token: server.adminToken,
        body: {},
      }),
      404,
      'not_found',
    );
  });

  it('validation: a reason over 1,000 characters is 400 naming /reason (1,000 is fine); an unknown category is 400', async () => {
    const messageId = await deliver(server, app, alice);
    const tooLong = await expectNoNewEvents(server.tidings, () =>
      fileComplaint(server, alice.person, messageId, {
        category: 'spam',
        reason: 'x'.repeat(1_001),
      }),
    );
    expect(errorPaths(expectProblem(tooLong, 400, 'validation_failed'))).to.deep.equal(['/reason']);

    const unknownCategory = await expectNoNewEvents(server.tidings, () =>
      fileComplaint(server, alice.person, messageId, { category: 'annoying', reason: 'Meh' }),
    );
    expect(errorPaths(expectProblem(unknownCategory, 400, 'validation_failed'))).to.deep.equal([
      '/category',
    ]);

    const empty = await fileComplaint(server, alice.person, messageId, {
      category: 'spam',
      reason: '',
    });
    expect(errorPaths(expectProblem(empty, 400, 'validation_failed'))).to.include('/reason');
    const extra = await fileComplaint(server, alice.person, messageId, {
      category: 'spam',
      reason: 'ok',
      severity: 'severe',
    });
    expectProblem(extra, 400, 'validation_failed');
    const badSeverity = await uphold(server, 'cmp_any', 'huge' as 'minor');
    expect(errorPaths(expectProblem(badSeverity, 400, 'validation_failed'))).to.deep.equal([
      '/severity',
    ]);

    const longest = await fileComplaint(server, alice.person, messageId, {
      category: 'spam',
      reason: 'y'.repeat(1_000),
    });
    expect(longest.status, JSON.stringify(longest.body)).to.equal(201);
    expect((await mine(alice.person, longest.body.complaintId))?.reason).to.have.length(1_000);
  });

  it('GET /v1/admin/complaints?status= lists exactly the complaints in that status (open by default)', async () => {
    const ids: Record<'open' | 'upheld' | 'dismissed' | 'withdrawn', string> = {
      open: await complain(server, bob.person, await deliver(server, app, bob)),
      upheld: await complain(server, bob.person, await deliver(server, app, bob)),
      dismissed: await complain(server, bob.person, await deliver(server, app, bob)),
      withdrawn: await complain(server, bob.person, await deliver(server, app, bob)),
    };
    expect((await uphold(server, ids.upheld, 'minor')).status).to.equal(200);
    expect(
      (
        await call(server.base, 'POST', `/v1/admin/complaints/${ids.dismissed}/dismiss`, {
          token: server.adminToken,
          body: {},
        })
      ).status,
    ).to.equal(200);
    expect((await withdraw(bob.person, ids.withdrawn)).status).to.equal(204);

    const listed = {
      open: await adminComplaints('open'),
      upheld: await adminComplaints('upheld'),
      dismissed: await adminComplaints('dismissed'),
      default: await adminComplaints(),
    };
    for (const status of ['open', 'upheld', 'dismissed'] as const) {
      expect(
        listed[status].every((item) => item.status === status),
        `every item under ?status=${status} has that status`,
      ).to.equal(true);
      const idsListed = listed[status].map((item) => item.complaintId);
      for (const [which, id] of Object.entries(ids)) {
        if (which === status) expect(idsListed, `${which} under ${status}`).to.include(id);
        else expect(idsListed, `${which} not under ${status}`).to.not.include(id);
      }
    }
    expect(listed.default.map((item) => item.complaintId)).to.deep.equal(
      listed.open.map((item) => item.complaintId),
    );
    expectProblem(
      await call(server.base, 'GET', '/v1/admin/complaints?status=pending', {
        token: server.adminToken,
      }),
      400,
      'validation_failed',
    );
  });

  it('every complaint route answers 401 without credentials (and with the wrong kind), writing nothing', async () => {
    const messageId = await deliver(server, app, alice);
    const complaintId = await complain(server, alice.person, messageId);
    const routes: {
      method: string;
      path: string;
      body?: unknown;
      kind: 'recipient' | 'operator';
    }[] = [
      {
        method: 'POST',
        path: `/v1/me/inbox/${messageId}/complaints`,
        body: { category: 'spam', reason: 'x' },
        kind: 'recipient',
      },
      { method: 'GET', path: '/v1/me/complaints', kind: 'recipient' },
      { method: 'DELETE', path: `/v1/me/complaints/${complaintId}`, kind: 'recipient' },
      { method: 'GET', path: '/v1/admin/complaints', kind: 'operator' },
      { method: 'GET', path: '/v1/admin/complaints?status=upheld', kind: 'operator' },
      {
        method: 'POST',
        path: `/v1/admin/complaints/${complaintId}/uphold`,
        body: { severity: 'severe' },
        kind: 'operator',
      },
      {
        method: 'POST',
        path: `/v1/admin/complaints/${complaintId}/dismiss`,
        body: {},
        kind: 'operator',
      },
      {
        method: 'POST',
        path: `/v1/admin/apps/${app.appId}/reinstate`,
        body: { note: 'x' },
        kind: 'operator',
      },
    ];
    const before = await eventCount(server.tidings);
    for (const route of routes) {
      const anonymous = await call(server.base, route.method, route.path, {
        ...(route.body === undefined ? {} : { body: route.body }),
      });
      expectProblem(anonymous, 401, 'unauthorized');
      // A person's cookie is no operator credential; an app's secret is no person's session.
      const wrongKind = await call(server.base, route.method, route.path, {
        ...(route.body === undefined ? {} : { body: route.body }),
        ...(route.kind === 'operator'
          ? { cookie: alice.person.cookie, token: app.appSecret }
          : { token: server.adminToken }),
      });
      expectProblem(wrongKind, 401, 'unauthorized');
    }
    expect((await eventsAfter(server.tidings, before)).map((e) => e.type)).to.deep.equal([]);
    expect((await mine(alice.person, complaintId))?.status).to.equal('open');
  });
});

import { expect } from 'chai';
import { eventCount, eventsAfter } from '../../support/httpFixtures.js';
import * as E from 'fp-ts/lib/Either.js';
import { appDecider, appStreamName } from '../../../domain/app/appDecider.js';
import { AppEventCodec } from '../../../domain/app/appEvents.js';
import { handleCommand } from '../../../domain/shared/commandHandler.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  deliver,
  startPipelineServer,
} from '../../support/pipeline.js';
import {
  adminApp,
  ladderOf,
  appEvents,
  complain,
  dataOf,
  uphold,
  type Severity,
} from '../../support/reputation.js';
import { waitUntil } from '../../support/waitUntil.js';
import type { TestServer } from '../../support/testServer.js';

const COUNT = 50;

describe('reputation: 50 complaints upheld at once for one app', function () {
  this.timeout(120_000);
  let server: TestServer;

  before(async () => {
    // Every severity costs 1 point: 50 upholds take 100 to 50, crossing the suspension line
    // (below 75) at 74 and the ban line (below 55) at 54.
    server = await startPipelineServer({
      env: {
        TIDINGS_PENALTY_POINTS: '1,1,1',
        TIDINGS_SUSPEND_BELOW: '75',
        TIDINGS_BAN_BELOW: '55',
        TIDINGS_SURGE_COMPLAINANTS: '0',
      },
    });
  });
  after(async () => {
    await server.dispose();
  });

  it('gives exactly one suspension, exactly one ban, the right score, and charges each complaint once', async () => {
    const app = await createPipelineApp(server, 'Bulk mailer');
    const to = await bindWithoutDevice(server, app);
    const messages: string[] = [];
    for (let start = 0; start < COUNT; start += 10) {
      messages.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, i) => deliver(server, app, to, `Offer ${start + i}`)),
        )),
      );
    }
    const complaintIds = await Promise.all(
      messages.map((messageId) => complain(server, to.person, messageId)),
    );
    expect(new Set(complaintIds).size).to.equal(COUNT);

    const severities: Severity[] = ['minor', 'major', 'severe'];
    const replies = await Promise.all(
      complaintIds.map((complaintId, index) =>
        uphold(server, complaintId, severities[index % 3] ?? 'minor'),
      ),
    );
    expect(
      replies.map((reply) => reply.status),
      JSON.stringify(replies.filter((r) => r.status !== 200).map((r) => r.body)),
    ).to.deep.equal(Array.from({ length: COUNT }, () => 200));

    const { view, events } = await waitUntil(
      async () => ({
        view: await adminApp(server, app.appId),
        events: await appEvents(server, app.appId),
      }),
      ({ view: v, events: e }) =>
        e.filter((event) => event.type === 'AppPenalized').length === COUNT &&
        v.status === 'banned' &&
        v.score ===
          (dataOf(e.filter((event) => event.type === 'AppPenalized').at(-1))[
            'scoreAfter'
          ] as number),
      `${COUNT} penalties`,
      30_000,
    );

    expect(view.score).to.equal(100 - COUNT);
    expect(view.status).to.equal('banned');
    expect(view.complaints).to.deep.equal({ open: 0, upheld: COUNT, dismissed: 0 });

    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'AppSuspended')).to.have.length(1);
    expect(types.filter((type) => type === 'AppBanned')).to.have.length(1);
    expect(types.filter((type) => type === 'AppPenalized')).to.have.length(COUNT);
    expect(types).to.have.length(1 + COUNT + 2);

    // Scores go down one at a time, with no penalty lost or applied on a stale score.
    const penalties = events.filter((event) => event.type === 'AppPenalized');
    expect(penalties.map((event) => dataOf(event)['scoreAfter'])).to.deep.equal(
      Array.from({ length: COUNT }, (_, i) => 99 - i),
    );
    expect(penalties.every((event) => dataOf(event)['points'] === 1)).to.equal(true);
    // Each complaint charged exactly once.
    const charged = penalties.flatMap((event) => dataOf(event)['complaintIds'] as string[]);
    expect([...charged].sort()).to.deep.equal([...complaintIds].sort());

    // The suspension follows the penalty that reached 74, the ban the one that reached 54, and
    // each names that penalty's complaint.
    for (const [type, score] of [
      ['AppSuspended', 74],
      ['AppBanned', 54],
    ] as const) {
      const at = types.indexOf(type);
      const before = events[at - 1];
      expect(before?.type).to.equal('AppPenalized');
      expect(dataOf(before)['scoreAfter']).to.equal(score);
      expect(dataOf(events[at])['complaintIds']).to.deep.equal(dataOf(before)['complaintIds']);
      expect(dataOf(events[at])['reason']).to.equal('score_below_threshold');
    }

    // Upholding all 50 again, at once, charges nothing more.
    const count = await eventCount(server.tidings);
    const again = await Promise.all(
      complaintIds.map((complaintId, index) =>
        uphold(server, complaintId, severities[index % 3] ?? 'minor'),
      ),
    );
    expect(again.every((reply) => reply.status === 200)).to.equal(true);
    expect((await eventsAfter(server.tidings, count)).map((event) => event.type)).to.deep.equal([]);
    expect((await adminApp(server, app.appId)).score).to.equal(100 - COUNT);
  });
  it('50 ApplyPenalty commands racing on the App stream itself (no processor queue): optimistic concurrency keeps it exact', async () => {
    // The processor runs one app's penalties one after another; here 50 writers append to the
    // App stream at the same moment, each retrying on a conflict, as a second server would.
    const app = await createPipelineApp(server, 'Racing mailer');
    const ladder = ladderOf(server);
    const complaintIds = Array.from({ length: COUNT }, (_, i) => `cmp_race_${i}`);
    let conflicts = 0;
    await Promise.all(
      complaintIds.map(async (complaintId) => {
        for (let attempt = 0; attempt < 200; attempt += 1) {
          // One attempt per call, so every conflict surfaces here and is retried by this loop.
          const result = await handleCommand(
            server.tidings.store,
            { decider: appDecider, eventCodec: AppEventCodec },
            appStreamName(app.appId),
            {
              type: 'ApplyPenalty',
              data: { appId: app.appId, complaintId, severity: 'minor', ladder },
              metadata: { now: new Date().toISOString() },
            },
            { commandId: `race:${complaintId}`, actor: { kind: 'system', id: 'test' } },
            { maxAttempts: 1 },
          );
          if (E.isRight(result)) return;
          expect(result.left.code).to.equal('conflict');
          conflicts += 1;
        }
        throw new Error(`${complaintId}: still conflicting after 200 attempts`);
      }),
    );
    const events = await appEvents(server, app.appId);
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'AppPenalized')).to.have.length(COUNT);
    expect(types.filter((type) => type === 'AppSuspended')).to.have.length(1);
    expect(types.filter((type) => type === 'AppBanned')).to.have.length(1);
    const penalties = events.filter((event) => event.type === 'AppPenalized');
    expect(penalties.map((event) => dataOf(event)['scoreAfter'])).to.deep.equal(
      Array.from({ length: COUNT }, (_, i) => 99 - i),
    );
    const charged = penalties.flatMap((event) => dataOf(event)['complaintIds'] as string[]);
    expect([...charged].sort()).to.deep.equal([...complaintIds].sort());
    const view = await waitUntil(
      () => adminApp(server, app.appId),
      (v) => v.status === 'banned',
      'the read model',
    );
    expect(view.score).to.equal(100 - COUNT);
    // All 50 read the stream before any of them appended, so all but one lost the first round:
    // the writers really raced (otherwise this test would prove little).
    expect(conflicts, 'conflicts seen by the racing writers').to.be.at.least(COUNT - 1);
  });
});

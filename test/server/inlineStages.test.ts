import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  getMessage,
  messageEvents,
  send,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForStatus,
} from '../support/pipeline.js';
import type { TestServer } from '../support/testServer.js';

/** The parts of an event's record these tests compare. */
const shapeOf = (event: RecordedEvent) => ({
  type: event.type,
  actor: `${event.metadata.actor.kind}/${event.metadata.actor.id}`,
});

/** True when the events sit at consecutive positions of the log: one append, nothing between. */
const oneAppend = (events: readonly RecordedEvent[]): boolean =>
  events.every(
    (event, index) =>
      index === 0 || event.position.commit === (events[index - 1]?.position.commit ?? -1n) + 1n,
  );

/**
 * Moderation and routing in the submission's own command (TIDINGS_SUBMISSION_STAGES, issue 17):
 * the log holds the events the separate stages would have written, in one append, with the same
 * causal links, and the push budget counts submissions routed at the same time exactly.
 */
describe('pipeline: moderation and routing in the submission command', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let server: TestServer;
  let app: CreatedApp;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_PUSH_BUDGET_PER_HOUR: '3' } });
    app = await createPipelineApp(server, 'Inline app');
  });

  after(async () => {
    await server.stop();
    await bark.close();
  });

  it('records submission, approval, routing and inbox delivery as one append, linked like the stages', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'inline' });
    await waitForBark(server, app, messageId, 'delivered');
    const events = await messageEvents(server, messageId);
    const [submitted, approved, routed, inbox, pushed] = events;
    expect(events.map(shapeOf)).to.deep.equal([
      { type: 'MessageSubmitted', actor: `app/${app.appId}` },
      { type: 'MessageApproved', actor: `app/${app.appId}` },
      { type: 'MessageRouted', actor: `app/${app.appId}` },
      { type: 'MessageDelivered', actor: `app/${app.appId}` },
      { type: 'MessageDelivered', actor: 'system/delivery' },
    ]);
    expect(oneAppend(events.slice(0, 4)), 'the first four are one append').to.equal(true);
    expect((approved?.data as Record<string, unknown>)['policy']).to.equal('limits+denylist');
    expect((routed?.data as Record<string, unknown>)['channels']).to.have.length(2);
    // The verdict follows from the submission, the routing (and its inbox delivery) from the
    // verdict, the push from the routing; one request's correlation runs through all.
    expect(approved?.metadata.causationId).to.equal(submitted?.id);
    expect(routed?.metadata.causationId).to.equal(approved?.id);
    expect(inbox?.metadata.causationId).to.equal(approved?.id);
    expect(pushed?.metadata.causationId).to.equal(routed?.id);
    for (const event of events) {
      expect(event.metadata.correlationId).to.equal(submitted?.metadata.correlationId);
    }
    expect(barkPushesFor(bark, who.deviceKey).map((push) => push['body'])).to.deep.equal([
      'inline',
    ]);
  });

  it('rejects a denied term in the same append, and pushes nothing', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const messageId = await sendAccepted(server, app, {
      openid: who.openid,
      body: '在家刷单，日结三百',
    });
    await waitForStatus(server, app, messageId, 'rejected');
    const events = await messageEvents(server, messageId);
    expect(events.map((event) => event.type)).to.deep.equal([
      'MessageSubmitted',
      'MessageRejected',
    ]);
    expect(oneAppend(events)).to.equal(true);
    expect((events[1]?.data as Record<string, unknown>)['policy']).to.equal('denylist');
    expect(events[1]?.metadata.causationId).to.equal(events[0]?.id);
    expect(barkPushesFor(bark, who.deviceKey)).to.deep.equal([]);
  });

  it('leaves a scheduled message to the stages', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const answer = await send(server, app, {
      openid: who.openid,
      body: 'later',
      delaySeconds: 3600,
    });
    expect(answer.status).to.equal(202);
    expect(answer.body['status']).to.equal('scheduled');
    const later = answer.body.messageId;
    await waitForStatus(server, app, later, 'scheduled');
    const scheduled = await messageEvents(server, later);
    expect(scheduled.map(shapeOf)).to.deep.equal([
      { type: 'MessageSubmitted', actor: `app/${app.appId}` },
      { type: 'MessageApproved', actor: 'system/moderation' },
      { type: 'MessageScheduled', actor: 'system/moderation' },
    ]);
  });

  it('counts the push budget exactly when many messages of one binding arrive at once', async () => {
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        sendAccepted(server, app, { openid: who.openid, body: `burst ${index}` }),
      ),
    );
    for (const id of ids) await waitForStatus(server, app, id, 'delivered');
    const views = await Promise.all(ids.map((id) => getMessage(server, app, id)));
    const pushedIds = ids.filter((_, index) =>
      views[index]?.deliveries.some((delivery) => delivery.channel !== 'inbox'),
    );
    // A budget of 3 an hour: exactly 3 of the 8 reach the device, the rest the inbox only.
    expect(pushedIds).to.have.length(3);
    for (const id of pushedIds) await waitForBark(server, app, id, 'delivered');
    expect(barkPushesFor(bark, who.deviceKey)).to.have.length(3);
    const overBudget = await Promise.all(
      ids
        .filter((id) => !pushedIds.includes(id))
        .map(async (id) => {
          const routed = (await messageEvents(server, id)).find(
            (event) => event.type === 'MessageRouted',
          );
          return (routed?.data as Record<string, unknown>)['inboxOnly'];
        }),
    );
    expect(overBudget).to.deep.equal(Array.from({ length: 5 }, () => 'over_budget'));
  });
});

describe('pipeline: TIDINGS_SUBMISSION_STAGES=separate', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let server: TestServer;

  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_SUBMISSION_STAGES: 'separate' } });
  });

  after(async () => {
    await server.stop();
    await bark.close();
  });

  it('records the same events, each by its own stage', async () => {
    const app = await createPipelineApp(server, 'Staged app');
    const who = await bindPerson(server, bark, app, { level: 'strong' });
    const messageId = await sendAccepted(server, app, { openid: who.openid, body: 'staged' });
    await waitForBark(server, app, messageId, 'delivered');
    const events = await messageEvents(server, messageId);
    expect(events.map(shapeOf)).to.deep.equal([
      { type: 'MessageSubmitted', actor: `app/${app.appId}` },
      { type: 'MessageApproved', actor: 'system/moderation' },
      { type: 'MessageRouted', actor: 'system/router' },
      { type: 'MessageDelivered', actor: 'system/router' },
      { type: 'MessageDelivered', actor: 'system/delivery' },
    ]);
    expect(events[1]?.metadata.causationId).to.equal(events[0]?.id);
    expect(events[2]?.metadata.causationId).to.equal(events[1]?.id);
  });
});

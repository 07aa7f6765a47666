import { expect } from 'chai';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { call, type TestServer } from '../support/testServer.js';
import {
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  sendAccepted,
  startPipelineServer,
  waitUntil,
} from '../support/pipeline.js';

const AUDIT_TOKEN = 'test-audit-token-0123456789abcdef';

interface TrailItem {
  readonly position: string;
  readonly eventId: string;
  readonly stream: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: { readonly correlationId: string; readonly causationId: string };
}
interface Trail {
  readonly messageId: string;
  readonly items: readonly TrailItem[];
  readonly bindingAtRouting: { stream: string; revision: number; state: unknown } | null;
}

describe('audit trail of a message (GET /v1/audit/trail/:messageId, over HTTP)', () => {
  let server: TestServer;
  let bark: BarkStandIn;
  before(async () => {
    bark = await startBarkServer();
    server = await startPipelineServer({ env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN } });
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  const trailOf = (messageId: string) =>
    call<Trail>(server.base, 'GET', `/v1/audit/trail/${messageId}`, { token: AUDIT_TOKEN });

  it('lists submission, approval, routing, three Bark attempts and the complaint, linked by causation', async () => {
    const app = await createPipelineApp(server);
    const person = await bindPerson(server, bark, app);
    bark.failTimes(person.deviceKey, 2, 500, 'push service unavailable');
    const messageId = await sendAccepted(server, app, {
      key: person.key,
      title: 'Order 7',
      body: 'dispatched',
    });
    await waitUntil(
      () => getMessage(server, app, messageId),
      (view) => deliveryOn(view, 'bark')?.status === 'delivered',
      'the Bark delivery after two failures',
    );
    const complaint = await call<{ complaintId: string }>(
      server.base,
      'POST',
      `/v1/me/inbox/${messageId}/complaints`,
      { cookie: person.person.cookie, body: { category: 'spam', reason: 'not mine' } },
    );
    expect(complaint.status, JSON.stringify(complaint.body)).to.equal(201);

    const trail = await trailOf(messageId);
    expect(trail.status, JSON.stringify(trail.body)).to.equal(200);
    const items = trail.body.items;
    const positions = items.map((item) => Number(item.position));
    expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
    const barkEvents = items.filter(
      (item) =>
        item.stream === `message-${messageId}` &&
        typeof item.data['channel'] === 'string' &&
        item.data['channel'] !== 'inbox',
    );
    expect(barkEvents.map((item) => [item.type, item.data['attempt']])).to.deep.equal([
      ['MessageDeliveryFailed', 1],
      ['MessageDeliveryFailed', 2],
      ['MessageDelivered', 3],
    ]);
    expect(barkEvents[0]?.data['error']).to.include('push service unavailable');
    const byType = (type: string): TrailItem => {
      const found = items.find((item) => item.type === type);
      expect(found, type).to.not.equal(undefined);
      return found as TrailItem;
    };
    const submitted = byType('MessageSubmitted');
    const approved = byType('MessageApproved');
    const routed = byType('MessageRouted');
    expect(approved.data['policy']).to.be.a('string');
    // Each reaction names the event it follows from; one request's correlation runs through all.
    expect(approved.metadata.causationId).to.equal(submitted.eventId);
    expect(routed.metadata.causationId).to.equal(approved.eventId);
    for (const attempt of barkEvents) {
      expect(attempt.metadata.causationId).to.equal(routed.eventId);
      expect(attempt.metadata.correlationId).to.equal(submitted.metadata.correlationId);
    }
    expect(routed.metadata.correlationId).to.equal(submitted.metadata.correlationId);
    // In log order: submission, approval, routing, then the attempts, then the complaint.
    const order = (item: TrailItem): number => items.indexOf(item);
    expect(order(submitted)).to.be.lessThan(order(approved));
    expect(order(approved)).to.be.lessThan(order(routed));
    expect(order(routed)).to.be.lessThan(order(barkEvents[0] as TrailItem));
    const filed = byType('ComplaintFiled');
    expect(filed.stream).to.equal(`complaint-${complaint.body.complaintId}`);
    expect(order(filed)).to.be.greaterThan(order(barkEvents[2] as TrailItem));
    // The routing came with the binding as the router read it.
    expect(trail.body.bindingAtRouting?.stream).to.equal(`binding-${person.bindingId}`);
    expect(trail.body.bindingAtRouting?.state).to.deep.include({ level: 'strong' });
  });

  it('an unknown message is 404; an app secret is 401', async () => {
    const unknown = await trailOf('msg_unknown');
    expect(unknown.status).to.equal(404);
    expect((unknown.body as unknown as { code: string }).code).to.equal('not_found');
    const app = await createPipelineApp(server, 'Other');
    const refused = await call(server.base, 'GET', '/v1/audit/trail/msg_unknown', {
      token: app.appSecret,
    });
    expect(refused.status).to.equal(401);
  });
});

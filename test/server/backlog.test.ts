import { expect } from 'chai';
import { startBarkProbe, type BarkProbe } from '../../bench/barkProbe.js';
import {
  backlogSpanSeconds,
  flood,
  sampleMetrics,
  type FloodResult,
  type MetricsSample,
} from '../../bench/loadgen.js';
import {
  bindPerson,
  createPipelineApp,
  send,
  startPipelineServer,
  waitUntil,
  type BoundPerson,
} from '../support/pipeline.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import { call, type TestServer } from '../support/testServer.js';

// Issue 17, "no unbounded backlog": autocannon floods POST /v1/messages (64 connections, closed
// loop) while the Bark device answers each push after 2 s, so the worker's 64 places deliver at
// most 32 messages a second, far below what the server takes in. The load generator shares the
// server's process and clock (as in admission.test.ts).
//
// What admission bounds is how far back the backlog reaches: it refuses once the oldest waiting
// work is older than the limit, so every message still waiting was accepted within about the
// limit of the newest one. The lag itself goes on growing while the node refuses (the backlog
// taken in up to the limit drains at the delivery rate), so the lag is held to the limit only
// where the first refusal came. Without admission the same flood makes the backlog reach back
// nearly the whole run: a control checks that the bound below would catch a broken admission.

const LIMIT_SECONDS = 1;
/**
 * Slack for the sampling (the server measures four times a second, this test reads /metrics once
 * a second), the time from a 202 to the routing the lag counts from, and a busy machine.
 */
const MARGIN_SECONDS = 2;
const BOUND_SECONDS = LIMIT_SECONDS + MARGIN_SECONDS;
const FLOOD_SECONDS = 8;
const BARK_DELAY_MS = 2_000;
const LAG = 'tidings_delivery_lag_seconds';
const REFUSING = 'tidings_admission_refusing';

interface Flooded {
  readonly run: FloodResult;
  /** `performance.now()` of each 202, by message id. */
  readonly acceptedAt: ReadonlyMap<string, number>;
  readonly samples: readonly MetricsSample[];
}

/** A server with the admission limit given, an app and a person whose Bark device is `probe`. */
const startScene = async (
  probe: BarkProbe,
  limitSeconds: number,
): Promise<{ server: TestServer; app: CreatedApp; to: BoundPerson }> => {
  const server = await startPipelineServer({
    env: {
      TIDINGS_ADMISSION_MAX_LAG_SECONDS: String(limitSeconds),
      // Out of the way: every message is a push, and the app may send as fast as it likes.
      TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
      TIDINGS_APP_RATE_BURST: '1000000',
      TIDINGS_APP_RATE_PER_SECOND: '1000000',
    },
  });
  const app = await createPipelineApp(server);
  const to = await bindPerson(server, probe.standIn, app);
  return { server, app, to };
};

/** The flood, with the lag read from /metrics once a second meanwhile. */
const floodMessages = async (
  server: TestServer,
  app: CreatedApp,
  to: BoundPerson,
): Promise<Flooded> => {
  const acceptedAt = new Map<string, number>();
  const metrics = sampleMetrics(server.base, [LAG, REFUSING]);
  const run = await flood({
    url: server.base,
    path: '/v1/messages',
    headers: { authorization: `Bearer ${app.appSecret}` },
    connections: 64,
    seconds: FLOOD_SECONDS,
    body: (index) => ({ key: to.key, title: 'Order', body: `step ${index}` }),
    onAnswer: (status, body, at) => {
      if (status === 202) acceptedAt.set((JSON.parse(body) as { messageId: string }).messageId, at);
    },
  });
  await metrics.stop();
  return { run, acceptedAt, samples: metrics.samples };
};

describe('backlog: a closed-loop flood far faster than delivery is shed, not queued without bound (issue 17)', function () {
  this.timeout(120_000);

  it('refuses with 503 and Retry-After before the lag passes the limit, keeps the backlog within it, pushes every accepted message once, and accepts again', async () => {
    const probe = await startBarkProbe('unused');
    const { server, app, to } = await startScene(probe, LIMIT_SECONDS);
    try {
      probe.delay(to.deviceKey, BARK_DELAY_MS);
      const { run, acceptedAt, samples } = await floodMessages(server, app, to);
      const report = JSON.stringify({ ...run, accepted: acceptedAt.size, firstRefusal: undefined });

      // Shedding happened, each refusal saying when to come back.
      expect(run.refused, report).to.be.greaterThan(0);
      expect(run.statuses['503'], report).to.equal(run.refused);
      expect(run.refusedWithoutRetryAfter, report).to.equal(0);
      expect(run.retryAfterMin, report).to.be.at.least(1);
      expect(run.retryAfterMax, report).to.be.at.most(30);
      expect(acceptedAt.size, report).to.be.greaterThan(64);
      const refusal = JSON.parse(run.firstRefusal ?? '{}') as Record<string, unknown>;
      expect(refusal['code']).to.equal('overloaded');
      expect(refusal['limitSeconds']).to.equal(LIMIT_SECONDS);

      // It began before the lag passed the limit: by the server's own word in that refusal, and
      // by every reading of /metrics taken while it still accepted.
      const readings = JSON.stringify(samples.map((sample) => sample.values));
      expect(refusal['lagSeconds'], readings).to.be.a('number').and.at.most(BOUND_SECONDS);
      const accepting = samples.filter((sample) => sample.values[REFUSING] === 0);
      for (const sample of accepting)
        expect(sample.values[LAG], readings).to.be.at.most(BOUND_SECONDS);
      expect(
        samples.some((sample) => sample.values[REFUSING] === 1),
        'tidings_admission_refusing 1 while it refused',
      ).to.equal(true);

      // The backlog reached back no further than the limit (plus the margin).
      const span = backlogSpanSeconds(acceptedAt, probe.firstSeen);
      expect(span, `backlog span ${span.toFixed(2)} s; ${report}`).to.be.at.most(BOUND_SECONDS);

      // /readyz shows it while delivery is behind, and stays ready.
      const ready = await call<{ node: { delivery: { refusing: boolean; limitSeconds: number } } }>(
        server.base,
        'GET',
        '/readyz',
      );
      expect(ready.status).to.equal(200);
      expect(ready.body.node.delivery.limitSeconds).to.equal(LIMIT_SECONDS);

      // Once Bark is quick again, every accepted message arrives, each once; requests autocannon
      // gave up at the end of the run may have been accepted too, and are pushed once as well.
      probe.delay(to.deviceKey, 0);
      await probe.waitFor(acceptedAt.keys(), 60_000);
      await waitUntil(
        () => call<{ node: { delivery: { refusing: boolean } } }>(server.base, 'GET', '/readyz'),
        (reply) => !reply.body.node.delivery.refusing,
        'admission open again once delivery caught up',
        30_000,
        100,
      );
      const unseen = [...probe.firstSeen.keys()].filter((id) => !acceptedAt.has(id));
      expect(unseen.length, 'pushes of requests left unanswered at the end').to.be.at.most(64);
      expect(probe.received(), 'pushes made twice').to.equal(probe.firstSeen.size);
      const again = await send(server, app, { key: to.key, title: 'Order', body: 'after' });
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
    } finally {
      await server.dispose();
      await probe.close();
    }
  });

  it('control: with admission off the same flood lets the backlog reach back past that bound', async () => {
    const probe = await startBarkProbe('unused');
    const { server, app, to } = await startScene(probe, 0);
    try {
      probe.delay(to.deviceKey, BARK_DELAY_MS);
      const { run, acceptedAt, samples } = await floodMessages(server, app, to);
      expect(run.refused).to.equal(0);
      const span = backlogSpanSeconds(acceptedAt, probe.firstSeen);
      expect(span, `backlog span without admission`).to.be.greaterThan(BOUND_SECONDS);
      // The lag is still measured and shown with admission off.
      expect(Math.max(...samples.map((sample) => sample.values[LAG] ?? 0))).to.be.greaterThan(
        BOUND_SECONDS,
      );
    } finally {
      // The backlog is left behind: stopping waits only for the pushes in flight.
      probe.delay(to.deviceKey, 0);
      await server.dispose();
      await probe.close();
    }
  });
});

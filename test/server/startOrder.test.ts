import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Position } from '../../domain/shared/eventStore.js';
import { allProjections } from '../../projections/index.js';
import type { Projection } from '../../projections/projection.js';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  bindPerson,
  createPipelineApp,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitForStatus,
} from '../support/pipeline.js';
import { rejectionOf } from '../support/rejection.js';
import type { TestServer } from '../support/testServer.js';

/** Events appended beside the real ones so that a replay takes several batches (1,000 each). */
const NOISE_EVENTS = 2_500;

/**
 * A read model new to the data folder, so it replays the whole log at start, and slow (about a
 * millisecond an event): it notes when it has applied the event at `head`.
 */
const slowProjection = (head: Position, caughtUp: { at: number }): Projection => ({
  name: 'slow-test-read-model',
  version: 1,
  tables: [],
  setup: () => undefined,
  bind: () => (event) => {
    const until = performance.now() + 1;
    while (performance.now() < until) {
      // busy: a read model with a lot to do
    }
    if (event.position.commit === head.commit) caughtUp.at = Date.now();
  },
});

describe('server start: processors wait for the read models', function () {
  this.timeout(60_000);
  let bark: BarkStandIn;
  let server: TestServer | undefined;

  before(async () => {
    bark = await startBarkServer();
  });
  after(async () => {
    await server?.dispose();
    await bark.close();
  });

  it('moderates a message left waiting at a stop only once every read model has caught up with the log', async () => {
    // Separate stages: the message waits at `submitted` while moderation is stopped.
    const first = await startPipelineServer({ env: { TIDINGS_SUBMISSION_STAGES: 'separate' } });
    server = first;
    const app = await createPipelineApp(first, 'Start order app');
    const who = await bindPerson(first, bark, app, { level: 'weak' });
    const moderation = first.tidings.runners.find((runner) => runner.name === 'moderation');
    if (moderation === undefined) throw new Error('no moderation runner');
    await moderation.stop();
    const messageId = await sendAccepted(first, app, { openid: who.openid, body: 'after start' });
    for (let index = 0; index < NOISE_EVENTS; index += 100) {
      const events = Array.from({ length: 100 }, (_, offset) => ({
        id: crypto.randomUUID(),
        type: 'StartOrderTestNoise',
        data: { index: index + offset },
        metadata: {
          occurredAt: new Date().toISOString(),
          actor: { kind: 'system' as const, id: 'test' },
          correlationId: 'start-order-test',
          causationId: 'start-order-test',
          schemaVersion: 1,
        },
      }));
      await first.tidings.store.appendToStream(`start-order-noise`, events, {
        expectedRevision: 'any',
      });
    }
    const head = await first.tidings.store.headPosition();
    if (head === undefined) throw new Error('an empty log');
    await first.stop();

    const caughtUp = { at: Number.POSITIVE_INFINITY };
    server = await startPipelineServer({
      dir: first.dir,
      projections: [...allProjections, slowProjection(head, caughtUp)],
    });
    expect(caughtUp.at, 'the start waited for the slow read model').to.be.below(Date.now() + 1);
    await waitForStatus(server, app, messageId, 'delivered');
    const approved = (await messageEvents(server, messageId)).find(
      (event) => event.type === 'MessageApproved',
    );
    expect(Date.parse(approved?.metadata.occurredAt ?? '')).to.be.at.least(caughtUp.at);
  });
});

describe('server start: settings are checked before the read models replay', () => {
  it('a denylist file that cannot be read stops the start before any read model is set up', async () => {
    const touched: string[] = [];
    const spy: Projection = {
      name: 'spy-read-model',
      version: 1,
      tables: [],
      setup: () => {
        touched.push('setup');
      },
      bind: () => () => {
        touched.push('apply');
      },
    };
    const missing = join(tmpdir(), `tidings-no-such-denylist-${crypto.randomUUID()}.txt`);
    const error = await rejectionOf(
      startPipelineServer({ env: { TIDINGS_MODERATION_DENYLIST: missing }, projections: [spy] }),
    );
    expect(error.message).to.contain(missing);
    expect(touched, 'the read model was not set up nor replayed').to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { expectProblem } from '../support/httpFixtures.js';
import {
  bindPerson,
  createPipelineApp,
  sendAccepted,
  SHORT_RETRY,
  waitUntil,
} from '../support/pipeline.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';

/** One request a receiver got. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local callback receiver: records every request, answers what `answer` says (or hangs). */
interface Receiver {
  readonly url: string;
  readonly received: Received[];
  answer: (request: Received) => number | 'hang';
  close(): Promise<void>;
}

const startReceiver = async (): Promise<Receiver> => {
  const received: Received[] = [];
  const hanging = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    received,
    answer: () => 200,
    close: async () => {
      for (const end of hanging) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got = {
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(got);
      const status = receiver.answer(got);
      if (status === 'hang') {
        hanging.add(() => response.destroy());
        return;
      }
      response
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}` });
};

const FAST_CALLBACKS = {
  retry: { baseDelayMs: 50, factor: 2, maxDelayMs: 400, jitter: 0, windowMs: 60_000 },
  timeoutMs: 2_000,
};

const startServer = (dir?: string): Promise<TestServer> =>
  startTestServer({
    env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1' },
    retryPolicy: SHORT_RETRY,
    callbacks: FAST_CALLBACKS,
    ...(dir === undefined ? {} : { dir }),
  });

/** Polls until `read` gives something other than undefined or false (10 s at most). */
const eventually = async <T>(
  read: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
): Promise<T> =>
  (await waitUntil(read, (value) => value !== undefined && value !== false, what)) as T;

type Body = { type: string; id: string; occurredAt: string; data: Record<string, unknown> };

const bodiesOf = (receiver: Receiver, path: string): Body[] =>
  receiver.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Body);

/** The headers standardwebhooks reads, as one record of strings. */
const webhookHeaders = (headers: IncomingHttpHeaders): Record<string, string> => ({
  'webhook-id': String(headers['webhook-id']),
  'webhook-timestamp': String(headers['webhook-timestamp']),
  'webhook-signature': String(headers['webhook-signature']),
});

const setCallback = async (
  server: TestServer,
  secret: string,
  body: Record<string, unknown>,
): Promise<{ url: string; events: string[]; secret: string }> => {
  const reply = await call<{ url: string; events: string[]; secret: string }>(
    server.base,
    'PUT',
    '/v1/app/callback',
    { token: secret, body },
  );
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  return reply.body;
};

describe('app callbacks (docs/api.md, "App callbacks")', function () {
  this.timeout(60_000);
  let server: TestServer;
  let bark: BarkStandIn;
  let receiver: Receiver;

  before(async () => {
    bark = await startBarkServer();
    receiver = await startReceiver();
    server = await startServer();
  });
  after(async () => {
    await server.dispose();
    await receiver.close();
    await bark.close();
  });

  it('POSTs the events an app chose, signed as Standard Webhooks verify, without contents', async () => {
    const app = await createPipelineApp(server, 'Signed');
    const set = await setCallback(server, app.appSecret, { url: `${receiver.url}/signed` });
    expect(set.secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(set.events).to.include.members(['binding.authorized', 'message.delivered']);
    const got = await call(server.base, 'GET', '/v1/app/callback', { token: app.appSecret });
    expect(got.body).to.deep.equal({ url: `${receiver.url}/signed`, events: set.events });

    const bound = await bindPerson(server, bark, app);
    const messageId = await sendAccepted(server, app, {
      key: bound.key,
      title: 'Order 4711 departed',
      body: 'The technician is on the way',
    });
    await eventually(
      () => bodiesOf(receiver, '/signed').filter((b) => b.type === 'message.delivered').length >= 2,
      'inbox and bark deliveries reported',
    );
    const webhook = new Webhook(set.secret);
    for (const request of receiver.received.filter((r) => r.path === '/signed')) {
      // Throws unless the signature is the secret's over the exact bytes.
      const verified = webhook.verify(request.body, webhookHeaders(request.headers)) as Body;
      expect(verified.id).to.equal(request.headers['webhook-id']);
      expect(request.body).to.not.include('4711').and.not.include('technician');
      expect(request.body).to.not.include(bound.person.username);
    }
    const bodies = bodiesOf(receiver, '/signed');
    const authorized = bodies.find((b) => b.type === 'binding.authorized');
    expect(authorized?.data).to.deep.equal({
      bindingId: bound.bindingId,
      openid: bound.openid,
      level: 'strong',
    });
    const delivered = bodies.filter((b) => b.type === 'message.delivered');
    expect(delivered.map((b) => b.data['channel']).sort()).to.deep.equal(['bark', 'inbox']);
    expect(delivered.every((b) => b.data['messageId'] === messageId)).to.equal(true);
    // A forged signature fails the same check: the verification above could fail.
    const first = receiver.received.find((r) => r.path === '/signed');
    if (first === undefined) expect.fail('no request');
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(
        first.body,
        webhookHeaders(first.headers),
      ),
    ).to.throw();
  });

  it('retries a failing receiver with the same webhook-id and lists every attempt', async () => {
    const app = await createPipelineApp(server, 'Flaky');
    await setCallback(server, app.appSecret, {
      url: `${receiver.url}/flaky`,
      events: ['binding.authorized'],
    });
    let failures = 2;
    receiver.answer = (request) => (request.path === '/flaky' && failures-- > 0 ? 503 : 200);
    await bindPerson(server, undefined, app, { device: false });
    const list = await eventually(async () => {
      const reply = await call<{ items: { status: string; attempts: number; id: string }[] }>(
        server.base,
        'GET',
        '/v1/app/callback/deliveries?status=delivered',
        { token: app.appSecret },
      );
      return reply.body.items.length > 0 ? reply.body.items : undefined;
    }, 'the delivery delivered');
    expect(list[0]?.attempts).to.equal(3);
    const ids = receiver.received
      .filter((r) => r.path === '/flaky')
      .map((r) => r.headers['webhook-id']);
    expect(ids).to.have.length(3);
    expect(new Set(ids).size).to.equal(1);
    const events = await server.tidings.store.readStream(`callback-${list[0]?.id ?? ''}`);
    expect(events.map((e) => e.type)).to.deep.equal([
      'CallbackQueued',
      'CallbackFailed',
      'CallbackFailed',
      'CallbackDelivered',
    ]);
    receiver.answer = () => 200;

    // By hand: sent again with the same id; another app's id is not found.
    const retry = await call(
      server.base,
      'POST',
      `/v1/app/callback/deliveries/${list[0]?.id ?? ''}/retry`,
      {
        token: app.appSecret,
      },
    );
    expect(retry.status).to.equal(202);
    await eventually(
      () => receiver.received.filter((r) => r.path === '/flaky').length === 4,
      'the manual retry sent',
    );
    const other = await createPipelineApp(server, 'Other');
    const foreign = await call(
      server.base,
      'POST',
      `/v1/app/callback/deliveries/${list[0]?.id ?? ''}/retry`,
      {
        token: other.appSecret,
      },
    );
    expectProblem(foreign, 404, 'not_found');
  });

  it('signs with the old and the new secret during a rotation', async () => {
    const app = await createPipelineApp(server, 'Rotating');
    const before = await setCallback(server, app.appSecret, {
      url: `${receiver.url}/rotating`,
      events: ['binding.authorized'],
    });
    const after = await setCallback(server, app.appSecret, {
      url: `${receiver.url}/rotating`,
      events: ['binding.authorized'],
      rotateSecret: true,
    });
    expect(after.secret).to.not.equal(before.secret);
    await bindPerson(server, undefined, app, { device: false });
    await eventually(
      () => receiver.received.some((r) => r.path === '/rotating'),
      'a callback after the rotation',
    );
    const request = receiver.received.find((r) => r.path === '/rotating');
    if (request === undefined) expect.fail('no request');
    expect(String(request.headers['webhook-signature']).split(' ')).to.have.length(2);
    for (const secret of [before.secret, after.secret]) {
      expect(() =>
        new Webhook(secret).verify(request.body, webhookHeaders(request.headers)),
      ).to.not.throw();
    }
  });

  it("lets one app's hanging receiver delay neither another app's callbacks nor Bark", async () => {
    const stuck = await createPipelineApp(server, 'Stuck');
    await setCallback(server, stuck.appSecret, { url: `${receiver.url}/stuck` });
    const lively = await createPipelineApp(server, 'Lively');
    await setCallback(server, lively.appSecret, { url: `${receiver.url}/lively` });
    receiver.answer = (request) => (request.path === '/stuck' ? 'hang' : 200);
    for (let i = 0; i < 4; i += 1) await bindPerson(server, undefined, stuck, { device: false });
    await eventually(
      () => receiver.received.filter((r) => r.path === '/stuck').length >= 2,
      'the stuck receiver holding two requests',
    );
    const started = Date.now();
    const bound = await bindPerson(server, bark, lively);
    await sendAccepted(server, lively, { key: bound.key, body: 'on time' });
    await eventually(
      () =>
        bodiesOf(receiver, '/lively').some(
          (b) => b.type === 'message.delivered' && b.data['channel'] === 'bark',
        ),
      "the lively app's bark delivery reported",
    );
    // Well inside the stuck receiver's 2 s time limit: nothing waited for it.
    expect(Date.now() - started).to.be.below(1_900);
    expect(receiver.received.filter((r) => r.path === '/stuck').length).to.equal(2);
    receiver.answer = () => 200;
  });

  it('refuses private addresses and plain http to hosts not allowlisted, writing nothing', async () => {
    const app = await createPipelineApp(server, 'Guarded');
    for (const url of [
      'https://10.0.0.7/hook',
      'https://169.254.169.254/latest',
      'http://93.184.216.34/hook',
    ]) {
      const reply = await call(server.base, 'PUT', '/v1/app/callback', {
        token: app.appSecret,
        body: { url },
      });
      const problem = expectProblem(reply, 400, 'forbidden_destination');
      expect(problem.errors?.[0]?.path).to.equal('/url');
    }
    const none = await call(server.base, 'GET', '/v1/app/callback', { token: app.appSecret });
    expectProblem(none, 404, 'not_found');
  });
});

describe('app callbacks across a restart', function () {
  this.timeout(60_000);

  it('keeps retrying after a restart, with the same webhook-id', async () => {
    const receiver = await startReceiver();
    let server = await startServer();
    try {
      receiver.answer = () => 500;
      const app = await createPipelineApp(server, 'Restarted');
      await setCallback(server, app.appSecret, {
        url: `${receiver.url}/restart`,
        events: ['binding.authorized'],
      });
      await bindPerson(server, undefined, app, { device: false });
      await eventually(() => receiver.received.length >= 1, 'a first attempt');
      await server.stop();
      const before = receiver.received.length;
      receiver.answer = () => 200;
      server = await server.restart();
      const delivered = await eventually(async () => {
        const reply = await call<{ items: { attempts: number }[] }>(
          server.base,
          'GET',
          '/v1/app/callback/deliveries?status=delivered',
          { token: app.appSecret },
        );
        return reply.body.items[0];
      }, 'delivered after the restart');
      expect(receiver.received.length).to.be.above(before);
      expect(delivered.attempts).to.equal(receiver.received.length);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).to.equal(1);
    } finally {
      await server.dispose();
      await receiver.close();
    }
  });
});

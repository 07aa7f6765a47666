import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  createTidingsClient,
  retryAfterMs,
  TidingsError,
  type Fetch,
  type TidingsClient,
  type TidingsClientOptions,
} from '../../clients/typescript/src/index.js';
import { repoRoot } from '../support/docs.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  waitUntil,
  type BoundPerson,
} from '../support/pipeline.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';
import { unique } from '../support/unique.js';

/**
 * The typed client for apps (clients/typescript/) against a real Tidings: every method over HTTP,
 * its errors as TidingsError, and its retries (driven through a wrapped `fetch` that answers in
 * the server's place, and a `sleep` that only records).
 */

/** One request as the wrapped fetch saw it. */
interface Sent {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | null;
}

/** A fetch that records every attempt and lets `answer` stand in for the server on some of them. */
const recordingFetch = (
  answer: (attempt: number, request: Request) => Response | Error | undefined = () => undefined,
): { readonly fetch: Fetch; readonly sent: Sent[] } => {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: (request) => {
      sent.push({
        method: request.method,
        path: new URL(request.url).pathname,
        idempotencyKey: request.headers.get('idempotency-key'),
      });
      const standIn = answer(sent.length, request);
      if (standIn instanceof Error) return Promise.reject(standIn);
      return standIn === undefined ? fetch(request) : Promise.resolve(standIn);
    },
  };
};

/** A problem+json answer, as the server writes them. */
const problemAnswer = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(
    JSON.stringify({
      type: `https://tidings.dev/problems/${code.replaceAll('_', '-')}`,
      title: code,
      status,
      detail: `stand-in ${code}`,
      code,
    }),
    { status, headers: { 'content-type': 'application/problem+json', ...headers } },
  );

/** One request the callback receiver got. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local callback receiver on 127.0.0.1 that records every request and answers 200. */
const startReceiver = async (): Promise<{
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}> => {
  const received: Received[] = [];
  const receiver: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) =>
        receiver.close(() => {
          resolve();
        }),
      );
    },
  };
};

/** Runs `action`, expects it to throw a TidingsError, and returns it. */
const tidingsErrorFrom = async (action: () => Promise<unknown>): Promise<TidingsError> => {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(TidingsError);
    return error as TidingsError;
  }
  throw new Error('expected a TidingsError, the call succeeded');
};

describe('clients/typescript: the typed client for apps', function () {
  this.timeout(60_000);
  let server: TestServer;
  let app: CreatedApp;
  let bound: BoundPerson;
  let sleeps: number[];

  const clientWith = (options: Partial<TidingsClientOptions> = {}): TidingsClient =>
    createTidingsClient({
      baseUrl: server.base,
      appSecret: app.appSecret,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      ...options,
    });

  before(async () => {
    // The callback receiver below is plain http on 127.0.0.1, which only an allowlist lets through.
    server = await startTestServer({ env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
    app = await createPipelineApp(server, 'Client orders');
    bound = await bindWithoutDevice(server, app);
  });
  after(async () => {
    await server.dispose();
  });
  beforeEach(() => {
    sleeps = [];
  });

  describe('the app routes', () => {
    it('push answers the message id, and status follows it to delivered', async () => {
      const tidings = clientWith();
      const pushed = await tidings.push({ openid: bound.openid, title: 'Shipped', body: 'Box 1' });
      expect(pushed.status).to.equal('accepted');
      expect(pushed.messageId).to.be.a('string').and.not.equal('');
      const view = await waitUntil(
        () => tidings.status(pushed.messageId),
        (status) => status.status === 'delivered',
        'the pushed message delivered',
      );
      expect(view.messageId).to.equal(pushed.messageId);
      expect(view.deliveries.map((delivery) => delivery.channel)).to.include('inbox');
      expect(sleeps).to.deep.equal([]);
    });

    it('push by binding key works as well as by openid', async () => {
      const pushed = await clientWith().push({ key: bound.key, body: 'by key' });
      expect(pushed.status).to.equal('accepted');
    });

    it('pushBatch answers one result per message, a failed one with its problem', async () => {
      const batch = await clientWith().pushBatch([
        { openid: bound.openid, body: 'one' },
        { openid: unique('nobody-'), body: 'two' },
        { key: bound.key, body: 'three', delaySeconds: 3600 },
      ]);
      expect(batch.results.map((result) => result.index)).to.deep.equal([0, 1, 2]);
      expect(batch.results[0]?.status).to.equal('accepted');
      expect(batch.results[1]?.error?.['code']).to.equal('not_found');
      expect(batch.results[2]?.status).to.equal('scheduled');
    });

    it('recall cancels a scheduled message and recalls a delivered one', async () => {
      const tidings = clientWith();
      const scheduled = await tidings.push({
        openid: bound.openid,
        body: 'later',
        delaySeconds: 600,
      });
      expect(scheduled.status).to.equal('scheduled');
      expect(await tidings.recall(scheduled.messageId)).to.deep.equal({ status: 'cancelled' });
      expect((await tidings.status(scheduled.messageId)).status).to.equal('cancelled');

      const sent = await tidings.push({ openid: bound.openid, body: 'now' });
      await waitUntil(
        () => tidings.status(sent.messageId),
        (status) => status.status === 'delivered',
        'delivered before its recall',
      );
      expect(await tidings.recall(sent.messageId)).to.deep.equal({ status: 'recalled' });
    });

    it('bindings finds the binding by openid', async () => {
      const binding = await clientWith().bindings({ openid: bound.openid });
      expect(binding).to.include({
        bindingId: bound.bindingId,
        openid: bound.openid,
        status: 'active',
      });
      expect(Date.parse(binding.authorizedAt)).to.not.be.NaN;
    });

    it('app answers the standing of the calling app', async () => {
      const standing = await clientWith().app();
      expect(standing).to.include({ appId: app.appId, name: 'Client orders', status: 'active' });
      expect(standing.score).to.be.a('number');
      expect(standing.upheldComplaints).to.deep.equal([]);
    });

    it('raw reaches every route of the schema, typed, with the same credential', async () => {
      const { data, response } = await clientWith().raw.GET('/v1/bindings', {
        params: { query: { openid: bound.openid } },
      });
      expect(response.status).to.equal(200);
      expect(data?.bindingId).to.equal(bound.bindingId);
    });
  });

  describe('callbacks', () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
    });

    /** A client of a fresh app, so no other test's events reach its callback. */
    const freshApp = async (name: string): Promise<{ app: CreatedApp; tidings: TidingsClient }> => {
      const created = await createPipelineApp(server, name);
      return { app: created, tidings: clientWith({ appSecret: created.appSecret }) };
    };

    it('setCallback answers the callback with its secret, and getCallback reads it back', async () => {
      const { tidings } = await freshApp('Client callback set');
      const url = `${receiver.url}/set`;
      const set = await tidings.setCallback({
        url,
        events: ['binding.authorized', 'message.delivered'],
      });
      expect(set.url).to.equal(url);
      expect(set.events).to.have.members(['binding.authorized', 'message.delivered']);
      expect(set.secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(await tidings.getCallback()).to.deep.equal({ url, events: set.events });

      // Events left out means every type; the secret stays until rotateSecret asks for a new one.
      const every = await tidings.setCallback({ url });
      expect(every.events).to.include.members([
        'binding.authorized',
        'binding.revoked',
        'message.delivered',
        'message.failed',
      ]);
      expect(every.secret).to.equal(set.secret);
      const rotated = await tidings.setCallback({ url, rotateSecret: true });
      expect(rotated.secret)
        .to.match(/^whsec_/)
        .and.not.equal(set.secret);
      expect((await tidings.getCallback()).events).to.deep.equal(every.events);
    });

    it('setCallback to plain http of a host not allowlisted is 400 forbidden_destination', async () => {
      const { tidings } = await freshApp('Client callback guarded');
      const error = await tidingsErrorFrom(() =>
        tidings.setCallback({ url: 'http://93.184.216.34/hook' }),
      );
      expect(error).to.include({ status: 400, code: 'forbidden_destination' });
      expect(error.errors?.[0]?.path).to.equal('/url');
    });

    it('callbackDeliveries lists none before any event, then the delivered binding.authorized', async () => {
      const { app: created, tidings } = await freshApp('Client callback deliveries');
      await tidings.setCallback({
        url: `${receiver.url}/deliveries`,
        events: ['binding.authorized'],
      });
      expect(await tidings.callbackDeliveries()).to.deep.equal({ items: [] });

      const person = await bindWithoutDevice(server, created);
      const { items } = await waitUntil(
        () => tidings.callbackDeliveries({ status: 'delivered' }),
        (list) => list.items.length > 0,
        'the binding.authorized delivery delivered',
      );
      expect(items).to.have.length(1);
      const [delivery] = items;
      expect(delivery).to.include({ type: 'binding.authorized', status: 'delivered' });
      expect(delivery?.attempts).to.equal(1);
      expect(Date.parse(delivery?.createdAt ?? '')).to.not.be.NaN;
      const sent = receiver.received.filter((request) => request.path === '/deliveries');
      expect(sent.map((request) => request.headers['webhook-id'])).to.deep.equal([delivery?.id]);
      const event = JSON.parse(sent[0]?.body ?? '{}') as { data?: Record<string, unknown> };
      expect(event.data).to.include({ bindingId: person.bindingId, openid: person.openid });
      // The query is sent: no delivery is pending, and limit is honoured.
      expect(await tidings.callbackDeliveries({ status: 'pending' })).to.deep.equal({ items: [] });
      expect((await tidings.callbackDeliveries({ limit: 1 })).items).to.have.length(1);
    });

    it('retryCallbackDelivery sends a delivered one again with the same webhook-id', async () => {
      const { app: created, tidings } = await freshApp('Client callback retry');
      await tidings.setCallback({ url: `${receiver.url}/retry`, events: ['binding.authorized'] });
      await bindWithoutDevice(server, created);
      const { items } = await waitUntil(
        () => tidings.callbackDeliveries({ status: 'delivered' }),
        (list) => list.items.length > 0,
        'the first delivery delivered',
      );
      const id = items[0]?.id ?? '';
      const recorder = recordingFetch();
      const retried = await clientWith({
        appSecret: created.appSecret,
        fetch: recorder.fetch,
      }).retryCallbackDelivery(id);
      expect(retried).to.deep.equal({ id, status: 'pending' });
      expect(recorder.sent).to.have.length(1);
      expect(recorder.sent[0]?.method).to.equal('POST');
      expect(recorder.sent[0]?.idempotencyKey).to.be.a('string').and.not.equal('');
      const again = await waitUntil(
        () => receiver.received.filter((request) => request.path === '/retry'),
        (requests) => requests.length >= 2,
        'the delivery sent again',
      );
      expect(new Set(again.map((request) => request.headers['webhook-id']))).to.deep.equal(
        new Set([id]),
      );
    });

    it('retryCallbackDelivery of an unknown id is 404 not_found', async () => {
      const { tidings } = await freshApp('Client callback unknown');
      await tidings.setCallback({ url: `${receiver.url}/unknown` });
      const error = await tidingsErrorFrom(() =>
        tidings.retryCallbackDelivery('cb-does-not-exist'),
      );
      expect(error).to.include({ name: 'TidingsError', status: 404, code: 'not_found' });
    });

    it('removeCallback removes it: getCallback is then 404 not_found, and removing again is fine', async () => {
      const { tidings } = await freshApp('Client callback removed');
      await tidings.setCallback({ url: `${receiver.url}/removed` });
      expect((await tidings.getCallback()).url).to.equal(`${receiver.url}/removed`);
      await tidings.removeCallback();
      const error = await tidingsErrorFrom(() => tidings.getCallback());
      expect(error).to.include({ status: 404, code: 'not_found' });
      await tidings.removeCallback();
      expect((await tidingsErrorFrom(() => tidings.getCallback())).status).to.equal(404);
    });

    it('removeCallback with a wrong secret throws 401 unauthorized', async () => {
      const error = await tidingsErrorFrom(() =>
        clientWith({ appSecret: 'wrong-secret' }).removeCallback(),
      );
      expect(error).to.include({ status: 401, code: 'unauthorized' });
    });

    it('setCompatIngress turns the compatible ingress on and off', async () => {
      const { tidings } = await freshApp('Client compat');
      expect(await tidings.setCompatIngress(true)).to.deep.equal({ compatIngress: true });
      expect(await tidings.setCompatIngress(false)).to.deep.equal({ compatIngress: false });
    });
  });

  describe('idempotency', () => {
    it('the same key twice answers the same message', async () => {
      const tidings = clientWith();
      const idempotencyKey = unique('job-');
      const message = { openid: bound.openid, body: 'exactly once' };
      const first = await tidings.push(message, { idempotencyKey });
      const again = await tidings.push(message, { idempotencyKey });
      expect(again.messageId).to.equal(first.messageId);
    });

    it('every POST gets a fresh key from the generator unless given one', async () => {
      const recorder = recordingFetch();
      let made = 0;
      const tidings = clientWith({
        fetch: recorder.fetch,
        idempotencyKey: () => `generated-${(made += 1)}`,
      });
      await tidings.push({ openid: bound.openid, body: 'a' });
      await tidings.pushBatch([{ openid: bound.openid, body: 'b' }]);
      await tidings.push({ openid: bound.openid, body: 'c' }, { idempotencyKey: 'mine-1' });
      await tidings.status((await tidings.push({ openid: bound.openid, body: 'd' })).messageId);
      expect(recorder.sent.map((sent) => [sent.method, sent.idempotencyKey])).to.deep.equal([
        ['POST', 'generated-1'],
        ['POST', 'generated-2'],
        ['POST', 'mine-1'],
        ['POST', 'generated-3'],
        ['GET', null],
      ]);
    });

    it('a 503 with Retry-After: 2 waits 2000 ms and retries with the same key', async () => {
      const recorder = recordingFetch((attempt) =>
        attempt === 1 ? problemAnswer(503, 'unavailable', { 'retry-after': '2' }) : undefined,
      );
      const message = { openid: bound.openid, body: 'retried once' };
      const pushed = await clientWith({ fetch: recorder.fetch }).push(message);
      expect(sleeps).to.deep.equal([2000]);
      expect(recorder.sent).to.have.length(2);
      const [first, second] = recorder.sent;
      expect(first?.idempotencyKey).to.be.a('string').and.not.equal('');
      expect(second?.idempotencyKey).to.equal(first?.idempotencyKey);
      // The server took the retry under that key: the same key and body answer the same message.
      const replay = await call<{ messageId: string }>(server.base, 'POST', '/v1/messages', {
        token: app.appSecret,
        body: message,
        headers: { 'idempotency-key': String(second?.idempotencyKey) },
      });
      expect(replay.status).to.equal(202);
      expect(replay.body.messageId).to.equal(pushed.messageId);
    });

    it('a lost connection is retried for a keyed POST, with the same key', async () => {
      const recorder = recordingFetch((attempt) =>
        attempt === 1 ? new TypeError('fetch failed') : undefined,
      );
      await clientWith({ fetch: recorder.fetch }).push({ openid: bound.openid, body: 'lost' });
      expect(sleeps).to.deep.equal([500]);
      const [first, second] = recorder.sent;
      expect(recorder.sent).to.have.length(2);
      expect(first?.idempotencyKey).to.be.a('string').and.not.equal('');
      expect(second?.idempotencyKey).to.equal(first?.idempotencyKey);
    });

    it('a lost connection is not retried for a DELETE, which carries no key', async () => {
      const recorder = recordingFetch(() => new TypeError('fetch failed'));
      const tidings = clientWith({ fetch: recorder.fetch });
      let thrown: unknown;
      try {
        await tidings.recall('m-anything');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(TypeError);
      expect(recorder.sent).to.have.length(1);
      expect(sleeps).to.deep.equal([]);
    });
  });

  describe('rate limits', () => {
    it('429 is retried after Retry-After, up to maxRetries, then thrown with its fields', async () => {
      const recorder = recordingFetch(() =>
        problemAnswer(429, 'rate_limited', { 'retry-after': '1' }),
      );
      const tidings = clientWith({ fetch: recorder.fetch, maxRetries: 2 });
      const error = await tidingsErrorFrom(() => tidings.push({ openid: bound.openid, body: 'x' }));
      expect(error).to.include({ status: 429, code: 'rate_limited', retryAfter: 1 });
      expect(error.detail).to.equal('stand-in rate_limited');
      expect(sleeps).to.deep.equal([1000, 1000]);
      expect(new Set(recorder.sent.map((sent) => sent.idempotencyKey)).size).to.equal(1);
      expect(recorder.sent).to.have.length(3);
    });

    it('429 without Retry-After backs off exponentially; a GET is retried too', async () => {
      const recorder = recordingFetch((attempt) =>
        attempt <= 3 ? problemAnswer(429, 'rate_limited') : undefined,
      );
      const standing = await clientWith({ fetch: recorder.fetch }).app();
      expect(standing.appId).to.equal(app.appId);
      expect(sleeps).to.deep.equal([500, 1000, 2000]);
    });

    it('Retry-After as an HTTP date waits until then', async () => {
      const now = Date.parse('2030-01-01T00:00:00Z');
      const recorder = recordingFetch((attempt) =>
        attempt === 1
          ? problemAnswer(503, 'unavailable', { 'retry-after': 'Tue, 01 Jan 2030 00:00:05 GMT' })
          : undefined,
      );
      await clientWith({ fetch: recorder.fetch, now: () => now }).app();
      expect(sleeps).to.deep.equal([5000]);
      expect(retryAfterMs('Mon, 31 Dec 2029 00:00:00 GMT', now)).to.equal(0);
      expect(retryAfterMs('soon', now)).to.equal(undefined);
    });

    it('a Retry-After longer than maxRetryDelayMs is thrown at once, not slept through', async () => {
      const recorder = recordingFetch(() =>
        problemAnswer(429, 'rate_limited', { 'retry-after': '3600' }),
      );
      const tidings = clientWith({ fetch: recorder.fetch, maxRetryDelayMs: 10_000 });
      const error = await tidingsErrorFrom(() => tidings.app());
      expect(error).to.include({ status: 429, retryAfter: 3600 });
      expect(sleeps).to.deep.equal([]);
      expect(recorder.sent).to.have.length(1);
    });

    it("the server's own 429: slept through with a real timer, thrown when retries run out", async () => {
      const limited = await startTestServer({
        env: { TIDINGS_APP_RATE_BURST: '1', TIDINGS_APP_RATE_PER_SECOND: '1' },
      });
      try {
        const limitedApp = await createPipelineApp(limited, 'Limited');
        const person = await bindWithoutDevice(limited, limitedApp);
        const options = { baseUrl: limited.base, appSecret: limitedApp.appSecret };
        const recording = createTidingsClient({
          ...options,
          maxRetries: 1,
          sleep: (ms) => {
            sleeps.push(ms);
            return Promise.resolve();
          },
        });
        await recording.push({ openid: person.openid, body: 'takes the only token' });
        const error = await tidingsErrorFrom(() =>
          recording.push({ openid: person.openid, body: 'over the limit' }),
        );
        expect(error).to.include({ status: 429, code: 'rate_limited' });
        expect(error.retryAfter).to.be.a('number').and.be.greaterThan(0);
        expect(sleeps).to.deep.equal([(error.retryAfter ?? 0) * 1000]);
        // With the default timer the client waits for the token and gets through.
        const patient = createTidingsClient(options);
        expect((await patient.push({ openid: person.openid, body: 'waited' })).status).to.equal(
          'accepted',
        );
      } finally {
        await limited.dispose();
      }
    });
  });

  describe('TidingsError', () => {
    it('404 not_found for a message that does not exist', async () => {
      const error = await tidingsErrorFrom(() => clientWith().status('m-does-not-exist'));
      expect(error).to.include({ name: 'TidingsError', status: 404, code: 'not_found' });
      expect(error.detail).to.be.a('string').and.not.equal('');
      expect(error.message).to.equal(`404 not_found: ${error.detail}`);
      expect(error.problem?.['type']).to.equal('https://tidings.dev/problems/not-found');
    });

    it('400 validation_failed with the field problems in errors', async () => {
      const error = await tidingsErrorFrom(() =>
        clientWith().push({ openid: bound.openid, body: 'x', level: 'loud' as 'active' }),
      );
      expect(error).to.include({ status: 400, code: 'validation_failed' });
      expect(error.errors?.map((problem) => problem.path)).to.include('/level');
    });

    it('410 binding_revoked once the person unbound the app', async () => {
      const gone = await bindWithoutDevice(server, app);
      const revoked = await call(server.base, 'DELETE', `/v1/me/apps/${gone.bindingId}`, {
        cookie: gone.person.cookie,
      });
      expect(revoked.status, JSON.stringify(revoked.body)).to.be.oneOf([200, 204]);
      const error = await tidingsErrorFrom(() =>
        clientWith().push({ openid: gone.openid, body: 'still there?' }),
      );
      expect(error).to.include({ status: 410, code: 'binding_revoked' });
      expect((await clientWith().bindings({ openid: gone.openid })).status).to.equal('revoked');
    });

    it('401 unauthorized for a wrong secret, with no retryAfter', async () => {
      const error = await tidingsErrorFrom(() =>
        createTidingsClient({ baseUrl: server.base, appSecret: 'wrong-secret' }).app(),
      );
      expect(error).to.include({ status: 401, code: 'unauthorized' });
      expect(error.retryAfter).to.equal(undefined);
    });

    it('an answer that is no problem is unexpected_response with its status', async () => {
      const recorder = recordingFetch(
        () => new Response('<html>bad gateway</html>', { status: 502 }),
      );
      const error = await tidingsErrorFrom(() => clientWith({ fetch: recorder.fetch }).app());
      expect(error).to.include({ status: 502, code: 'unexpected_response' });
      expect(error.detail).to.include('bad gateway');
    });
  });

  it('the generated schema on disk is what the server documents now', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/generateClientSchema.ts', '--check'],
      { cwd: repoRoot },
    ).catch((error: unknown) => {
      const failed = error as { stderr?: string };
      throw new Error(`the client schema is stale: ${failed.stderr ?? String(error)}`);
    });
    expect(stdout).to.include('up to date');
  });
});

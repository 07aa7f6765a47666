import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createJsonLogger, silentLogger } from '../../../adapters/logging/logger.js';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../../../adapters/outbound/guardedHttpClient.js';
import type { ChannelContext, OutgoingMessage, SendOutcome } from '../../../channels/channel.js';
import {
  createWebhookChannel,
  webhookChannel,
  type WebhookSettings,
} from '../../../channels/webhook/webhookChannel.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../../devtools/webhookReceiver.js';

// Every request goes to the recording endpoint on 127.0.0.1 (or a closed port there), reached
// through the guarded client because the allowlist names 127.0.0.1. The verifier checks the
// timestamp against the real clock (5 minutes either way), so these contexts use real time.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const guarded = createGuardedHttpClient({ allowlist: parseAllowlist(['127.0.0.1']) });

const context = (overrides: Partial<ChannelContext> = {}): ChannelContext => ({
  http: guarded,
  logger: silentLogger,
  now: () => new Date(),
  ...overrides,
});

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42',
  body: '技术员已出发 😀 "quoted" <b>',
  thread: 'order-42',
  ...overrides,
});

/** The headers as the verifier takes them. */
const headersOf = (received: ReceivedWebhook): Record<string, string> => ({
  'webhook-id': String(received.headers['webhook-id']),
  'webhook-timestamp': String(received.headers['webhook-timestamp']),
  'webhook-signature': String(received.headers['webhook-signature']),
});

describe('webhook channel: send', () => {
  let receiver: WebhookReceiver;
  let settings: WebhookSettings;

  before(async () => {
    receiver = await startWebhookReceiver();
    settings = { url: receiver.url, secret: SECRET };
  });
  after(() => receiver.close());
  beforeEach(() => {
    receiver.reset();
  });

  const send = (
    to: WebhookSettings = settings,
    ctx: ChannelContext = context(),
    channel = webhookChannel,
  ): Promise<SendOutcome> => channel.send(channel.render(message(), to), ctx);

  const only = (): ReceivedWebhook => {
    expect(receiver.received).to.have.length(1);
    const [received] = receiver.received;
    if (received === undefined) expect.fail('nothing received');
    return received;
  };

  it('delivers a POST whose signature the standardwebhooks library verifies', async () => {
    expect(await send()).to.deep.equal({ kind: 'delivered' });
    const received = only();
    expect(received.method).to.equal('POST');
    expect(received.path).to.equal('/hooks/tidings');
    expect(received.headers['content-type']).to.match(/^application\/json/);
    const payload = new Webhook(SECRET).verify(received.raw, headersOf(received));
    const timestamp = Number(received.headers['webhook-timestamp']);
    expect(payload).to.deep.equal({
      id: 'msg_msg-0001',
      type: 'message.created',
      timestamp: new Date(timestamp * 1000).toISOString(),
      data: {
        messageId: 'msg-0001',
        appId: 'app-1',
        appName: 'Repairs Desk',
        title: 'Order 42',
        body: '技术员已出发 😀 "quoted" <b>',
        thread: 'order-42',
      },
    });
    expect(received.headers['webhook-id']).to.equal('msg_msg-0001');
    expect(Math.abs(timestamp - Date.now() / 1000)).to.be.below(5);
  });

  it('keeps webhook-id across two attempts while timestamp and signature are fresh each time', async () => {
    const start = Date.now();
    const request = webhookChannel.render(message(), settings);
    receiver.answerNext(1, { status: 503 });
    expect(
      await webhookChannel.send(request, context({ now: () => new Date(start - 90_000) })),
    ).to.deep.include({ kind: 'failed' });
    expect(
      await webhookChannel.send(request, context({ now: () => new Date(start) })),
    ).to.deep.equal({ kind: 'delivered' });
    const [first, second] = receiver.received;
    if (first === undefined || second === undefined) expect.fail('expected two attempts');
    expect(first.headers['webhook-id']).to.equal(second.headers['webhook-id']);
    expect(
      Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp']),
    ).to.equal(90);
    expect(first.headers['webhook-signature']).to.not.equal(second.headers['webhook-signature']);
    for (const attempt of [first, second]) {
      expect(() => new Webhook(SECRET).verify(attempt.raw, headersOf(attempt))).to.not.throw();
    }
  });

  it('fails verification for a tampered body, a swapped timestamp or another secret', async () => {
    await send();
    const received = only();
    const headers = headersOf(received);
    const verifier = new Webhook(SECRET);
    const tampered = Buffer.from(received.raw.toString('utf8').replace('Order 42', 'Order 43'));
    expect(() => verifier.verify(tampered, headers)).to.throw(WebhookVerificationError);
    expect(() =>
      verifier.verify(received.raw, {
        ...headers,
        'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1),
      }),
    ).to.throw(WebhookVerificationError);
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    expect(() => other.verify(received.raw, headers)).to.throw(WebhookVerificationError);
    expect(() => verifier.verify(received.raw, headers)).to.not.throw();
  });

  it('sends a recall as a signed message.recalled event with its own id', async () => {
    const recall = webhookChannel.renderRecall?.(message(), settings);
    if (recall === undefined) expect.fail('webhook declares recall');
    expect(await webhookChannel.send(recall, context())).to.deep.equal({ kind: 'delivered' });
    const received = only();
    const payload = new Webhook(SECRET).verify(received.raw, headersOf(received));
    expect(payload).to.deep.include({ id: 'rcl_msg-0001', type: 'message.recalled' });
    expect((payload as { data: unknown }).data).to.deep.equal({
      messageId: 'msg-0001',
      appId: 'app-1',
      thread: 'order-42',
    });
    expect(received.headers['webhook-id']).to.equal('rcl_msg-0001');
  });

  it('sends nothing unsigned: a device without a usable secret is misconfigured', async () => {
    expect(await send({ url: receiver.url })).to.deep.equal({
      kind: 'rejected',
      code: 'misconfigured',
      reason: 'the device has no signing secret',
    });
    expect(await send({ url: receiver.url, secret: 'whsec_short' })).to.deep.include({
      kind: 'rejected',
      code: 'misconfigured',
    });
    expect(receiver.received).to.have.length(0);
  });

  describe('answers', () => {
    for (const status of [200, 201, 202, 204]) {
      it(`${status} is delivered`, async () => {
        receiver.answerNext(1, { status });
        expect(await send()).to.deep.equal({ kind: 'delivered' });
      });
    }

    it('410 Gone is device_unknown: the endpoint is gone for good', async () => {
      receiver.answerNext(1, { status: 410, body: 'hook deleted' });
      expect(await send()).to.deep.equal({
        kind: 'rejected',
        code: 'device_unknown',
        reason: 'the endpoint answered 410: hook deleted',
      });
    });

    for (const status of [401, 403, 404, 405]) {
      it(`${status} is misconfigured`, async () => {
        receiver.answerNext(1, { status });
        expect(await send()).to.deep.equal({
          kind: 'rejected',
          code: 'misconfigured',
          reason: `the endpoint answered ${status}`,
        });
      });
    }

    it('a redirect is misconfigured and not followed', async () => {
      receiver.answerNext(1, { status: 301, headers: { Location: `${receiver.origin}/moved` } });
      expect(await send()).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: `the endpoint answered 301, a redirect to ${receiver.origin}/moved; redirects are not followed, so the URL must be the final one`,
      });
      expect(receiver.received).to.have.length(1);
    });

    for (const status of [400, 413, 415, 422]) {
      it(`${status} is bad_request: the same bytes would be refused again`, async () => {
        receiver.answerNext(1, { status, body: 'no thanks' });
        expect(await send()).to.deep.equal({
          kind: 'rejected',
          code: 'bad_request',
          reason: `the endpoint answered ${status}: no thanks`,
        });
      });
    }

    for (const status of [408, 425, 429, 500, 502, 503]) {
      it(`${status} is failed, after the Retry-After given`, async () => {
        receiver.answerNext(1, { status, headers: { 'Retry-After': '45' } });
        expect(await send()).to.deep.equal({
          kind: 'failed',
          reason: `the endpoint answered ${status}`,
          retryAfterMs: 45_000,
        });
      });
    }

    it('an endpoint slower than the time limit is failed', async () => {
      receiver.delay(500);
      const quick = createWebhookChannel({ timeoutMs: 100 });
      expect(await send(settings, context(), quick)).to.deep.equal({
        kind: 'failed',
        reason: 'the endpoint did not answer within 100 ms',
      });
    });

    it('an endpoint that is not listening is failed', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        closed.close(() => {
          resolve();
        });
      });
      const outcome = await send({ ...settings, url: `http://127.0.0.1:${port}/hook` });
      expect(outcome.kind === 'failed' && outcome.reason).to.match(
        /^could not reach the endpoint \(ECONNREFUSED\)/,
      );
    });

    it('a private endpoint outside the allowlist is forbidden, and nothing is sent', async () => {
      const strict = createGuardedHttpClient({ allowlist: emptyAllowlist });
      expect(await send(settings, context({ http: strict }))).to.deep.include({
        kind: 'rejected',
        code: 'forbidden_destination',
      });
      expect(receiver.received).to.have.length(0);
    });
  });

  it("never logs the secret, the body or the URL's path", async () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    receiver.answerNext(1, { status: 500 });
    await send(settings, context({ logger }));
    await send({ url: receiver.url, secret: 'whsec_short' }, context({ logger }));
    expect(lines).to.have.length(2);
    for (const line of lines) {
      expect(line).to.include('webhook not delivered');
      expect(line).to.include(receiver.origin);
      for (const secret of [SECRET, SECRET.slice(6), 'whsec_short', '/hooks/tidings', '技术员']) {
        expect(line).to.not.include(secret);
      }
    }
  });
});

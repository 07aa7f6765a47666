import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJsonLogger, silentLogger } from '../../../adapters/logging/logger.js';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../../../adapters/outbound/guardedHttpClient.js';
import type { ChannelContext, OutgoingMessage, SendOutcome } from '../../../channels/channel.js';
import { createSmsChannel, type SmsSettings } from '../../../channels/sms/smsChannel.js';
import { startSmsGateway, type SmsGatewayStandIn } from '../../../devtools/smsGateway.js';

// Every request goes to the stand-in gateway on 127.0.0.1 (or a closed port there); the guarded
// client reaches loopback only because the allowlist names 127.0.0.1, as an operator's would
// name a gateway on their private network.

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const TOKEN = 'gw-token-5e3c1d';
const PHONE = '+8613800138000';
const UNKNOWN = '+8613900000000';
const OPTED_OUT = '+15551234567';

const guarded = createGuardedHttpClient({ allowlist: parseAllowlist(['127.0.0.1']) });

const context = (overrides: Partial<ChannelContext> = {}): ChannelContext => ({
  http: guarded,
  logger: silentLogger,
  now: () => new Date(NOW),
  ...overrides,
});

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  title: 'Order 42',
  body: 'Technician dispatched',
  ...overrides,
});

describe('sms channel: send', () => {
  let gateway: SmsGatewayStandIn;

  before(async () => {
    gateway = await startSmsGateway({
      token: TOKEN,
      unknownNumbers: [UNKNOWN],
      optedOut: [OPTED_OUT],
    });
  });
  after(() => gateway.close());
  beforeEach(() => {
    gateway.reset();
  });

  const channelFor = (options: { url?: string; token?: string; timeoutMs?: number } = {}) =>
    createSmsChannel({
      gatewayUrl: options.url ?? gateway.url,
      token: options.token ?? TOKEN,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });

  const send = (
    settings: SmsSettings = { phone: PHONE },
    options: Parameters<typeof channelFor>[0] = {},
    ctx: ChannelContext = context(),
  ): Promise<SendOutcome> => {
    const channel = channelFor(options);
    return channel.send(channel.render(message(), settings), ctx);
  };

  it('delivers: one JSON POST with the Bearer token, carrying exactly the rendered message', async () => {
    const channel = channelFor();
    const request = channel.render(message(), { phone: PHONE });
    expect(await channel.send(request, context())).to.deep.equal({ kind: 'delivered' });
    expect(gateway.requests).to.have.length(1);
    const [received] = gateway.requests;
    expect(received?.method).to.equal('POST');
    expect(received?.path).to.equal('/send');
    expect(received?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(received?.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(received?.raw ?? '')).to.deep.equal(request.message);
    expect(gateway.sent.map(({ to, text }) => [to, text])).to.deep.equal([
      [PHONE, '[Repairs Desk] Order 42: Technician dispatched'],
    ]);
  });

  it('sends a retry with the same reference, so the gateway sends the SMS once', async () => {
    expect(await send()).to.deep.equal({ kind: 'delivered' });
    expect(await send()).to.deep.equal({ kind: 'delivered' });
    expect(gateway.requests).to.have.length(2);
    expect(gateway.sent).to.have.length(1);
  });

  describe('a number that will never receive is device_unknown, the number never quoted', () => {
    it('404 unknown_number', async () => {
      expect(await send({ phone: UNKNOWN })).to.deep.equal({
        kind: 'rejected',
        code: 'device_unknown',
        reason: 'the SMS gateway answered 404: unknown_number (no such subscriber)',
      });
    });

    it('422 opted_out and 422 invalid_number', async () => {
      expect(await send({ phone: OPTED_OUT })).to.deep.include({
        kind: 'rejected',
        code: 'device_unknown',
      });
      gateway.failNext(1, { status: 422, json: { code: 'invalid_number' } });
      expect(await send()).to.deep.include({ kind: 'rejected', code: 'device_unknown' });
    });

    it('masks the number when the gateway echoes it, with or without its +', async () => {
      gateway.failNext(1, {
        status: 400,
        json: { code: 'unknown_number', message: `${PHONE} (8613800138000) is not a subscriber` },
      });
      const outcome = await send();
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'device_unknown',
        reason:
          'the SMS gateway answered 400: unknown_number (<redacted> (<redacted>) is not a subscriber)',
      });
    });

    it('a setting that is not E.164 is refused without asking the gateway', async () => {
      expect(await send({ phone: '13800138000' })).to.deep.include({
        kind: 'rejected',
        code: 'device_unknown',
      });
      expect(gateway.requests).to.have.length(0);
    });
  });

  describe('the operator must fix the settings: misconfigured', () => {
    it('401 for a wrong token, without quoting it', async () => {
      const outcome = await send(undefined, { token: 'wrong-token-77' });
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: 'the SMS gateway answered 401: unauthorized (bad or missing token)',
      });
    });

    it('403 and 404 (a wrong path) and 405', async () => {
      gateway.failNext(1, { status: 403, json: { code: 'forbidden' } });
      expect(await send()).to.deep.include({ kind: 'rejected', code: 'misconfigured' });
      expect(await send(undefined, { url: `${gateway.url}/extra` })).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: 'the SMS gateway answered 404: not_found',
      });
      gateway.failNext(1, { status: 405, json: { code: 'method_not_allowed' } });
      expect(await send()).to.deep.include({ kind: 'rejected', code: 'misconfigured' });
    });

    it('a redirect, which is never followed', async () => {
      gateway.failNext(1, { status: 308, headers: { Location: 'https://elsewhere.example/' } });
      expect(await send()).to.deep.include({ kind: 'rejected', code: 'misconfigured' });
      expect(gateway.requests).to.have.length(1);
    });
  });

  it('400 without a number code, and 413: bad_request', async () => {
    gateway.failNext(1, { status: 400, json: { code: 'bad_request', message: 'text missing' } });
    expect(await send()).to.deep.equal({
      kind: 'rejected',
      code: 'bad_request',
      reason: 'the SMS gateway answered 400: bad_request (text missing)',
    });
    gateway.failNext(1, { status: 413, rawBody: 'Payload Too Large' });
    expect(await send()).to.deep.equal({
      kind: 'rejected',
      code: 'bad_request',
      reason: 'the SMS gateway answered 413: Payload Too Large',
    });
  });

  describe('transient trouble is failed, to be retried', () => {
    it('429 with Retry-After in seconds', async () => {
      gateway.failNext(1, {
        status: 429,
        json: { code: 'rate_limited' },
        headers: { 'Retry-After': '30' },
      });
      expect(await send()).to.deep.equal({
        kind: 'failed',
        reason: 'the SMS gateway answered 429: rate_limited',
        retryAfterMs: 30_000,
      });
    });

    it('503 with Retry-After as an HTTP date, counted from the context clock', async () => {
      gateway.failNext(1, {
        status: 503,
        rawBody: 'upstream down',
        headers: { 'Retry-After': new Date(NOW + 120_000).toUTCString() },
      });
      expect(await send()).to.deep.equal({
        kind: 'failed',
        reason: 'the SMS gateway answered 503: upstream down',
        retryAfterMs: 120_000,
      });
    });

    it('500 without Retry-After, then delivered once the gateway is back', async () => {
      gateway.failNext(1, { status: 500, json: { code: 'provider_error' } });
      expect(await send()).to.deep.equal({
        kind: 'failed',
        reason: 'the SMS gateway answered 500: provider_error',
      });
      expect(await send()).to.deep.equal({ kind: 'delivered' });
      expect(gateway.sent).to.have.length(1);
    });

    it('a gateway slower than the time limit', async () => {
      gateway.delay(500);
      expect(await send(undefined, { timeoutMs: 100 })).to.deep.equal({
        kind: 'failed',
        reason: 'the SMS gateway did not answer within 100 ms',
      });
    });

    it('a gateway that is not listening', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) =>
        closed.close(() => {
          resolve();
        }),
      );
      const outcome = await send(undefined, { url: `http://127.0.0.1:${port}/send` });
      expect(outcome).to.deep.include({ kind: 'failed' });
      expect(outcome.kind === 'failed' && outcome.reason).to.match(
        /^could not reach the SMS gateway \(ECONNREFUSED\)/,
      );
    });
  });

  it('a gateway on a private address not in the allowlist is forbidden, and nothing is sent', async () => {
    const strict = createGuardedHttpClient({ allowlist: emptyAllowlist });
    const outcome = await send(undefined, {}, context({ http: strict }));
    expect(outcome).to.deep.include({ kind: 'rejected', code: 'forbidden_destination' });
    expect(outcome.kind === 'rejected' && outcome.reason).to.include('TIDINGS_OUTBOUND_ALLOWLIST');
    expect(gateway.requests).to.have.length(0);
  });

  it('never logs the number, the text or the token, whatever the outcome', async () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    gateway.failNext(1, {
      status: 400,
      json: { code: 'unknown_number', message: `no ${PHONE}, token ${TOKEN}` },
    });
    await send(undefined, {}, context({ logger }));
    await send(undefined, { token: 'wrong-token-77' }, context({ logger }));
    gateway.failNext(1, { status: 503, rawBody: `busy sending to 8613800138000` });
    await send(undefined, {}, context({ logger }));
    expect(lines).to.have.length(3);
    for (const line of lines) {
      expect(line).to.include('sms not delivered');
      expect(line).to.include('"reference":"msg-0001"');
      for (const secret of [PHONE, '8613800138000', TOKEN, 'wrong-token-77', 'Technician']) {
        expect(line).to.not.include(secret);
      }
    }
  });
});

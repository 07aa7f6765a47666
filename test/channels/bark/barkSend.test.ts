import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  barkChannel,
  createBarkChannel,
  renderBark,
  renderBarkRecall,
  type BarkRequest,
  type BarkSettings,
} from '../../../channels/bark/barkChannel.js';
import type { ChannelContext, OutgoingMessage } from '../../../channels/channel.js';
import { createJsonLogger, silentLogger } from '../../../adapters/logging/logger.js';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../../../adapters/outbound/guardedHttpClient.js';
import { startBarkServer, type BarkStandIn } from '../../../devtools/barkServer.js';

// Every request in this file goes to the stand-in on 127.0.0.1 (or a closed port there); the
// guarded client allows loopback only because the allowlist names 127.0.0.1.

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const DEVICE = 'DeviceKey7f3a';

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
  thread: 'order-42',
  ...overrides,
});

describe('bark channel: send', () => {
  let bark: BarkStandIn;
  let settings: BarkSettings;

  before(async () => {
    bark = await startBarkServer({ devices: [DEVICE] });
    settings = { serverUrl: bark.url, deviceKey: DEVICE };
  });
  after(() => bark.close());
  beforeEach(() => {
    bark.reset();
  });

  const push = (overrides: Partial<OutgoingMessage> = {}, to: BarkSettings = settings) =>
    barkChannel.send(renderBark(message(overrides), to), context());

  it('delivers: one JSON POST /push carrying exactly the rendered body', async () => {
    const request = renderBark(message(), settings);
    expect(await barkChannel.send(request, context())).to.deep.equal({ kind: 'delivered' });
    expect(bark.requests).to.have.length(1);
    const [received] = bark.requests;
    expect(received?.method).to.equal('POST');
    expect(received?.path).to.equal('/push');
    expect(received?.headers['content-type']).to.match(/^application\/json/);
    expect(received?.json).to.deep.equal(request.body);
    expect(bark.notificationsOf(DEVICE)).to.have.length(1);
  });

  it('lets the steps of one work order replace each other on the device', async () => {
    for (const [index, body] of ['dispatched', 'departed', 'arrived'].entries()) {
      expect(await push({ messageId: `msg-${index}`, body })).to.deep.equal({ kind: 'delivered' });
    }
    await push({ messageId: 'other', thread: 'order-43', body: 'dispatched' });
    const shown = bark.notificationsOf(DEVICE);
    expect(shown.map((n) => [n.id, n.body])).to.deep.equal([
      ['app-1:order-42', 'arrived'],
      ['app-1:order-43', 'dispatched'],
    ]);
  });

  it('delivers a long Chinese message within the 4 KiB APNs limit', async () => {
    const body = '请在明天上午九点前到达现场并联系业主核实维修范围。'.repeat(150);
    expect(await push({ body })).to.deep.equal({ kind: 'delivered' });
    expect(bark.notificationsOf(DEVICE)[0]?.body.endsWith('…')).to.equal(true);
  });

  it('would have failed without the cap: the stand-in refuses an oversized payload as bark-server does', async () => {
    const oversized: BarkRequest = {
      url: `${bark.url}/push`,
      body: { device_key: DEVICE, body: '长'.repeat(1400), level: 'active', group: 'g', id: 'i' },
    };
    const outcome = await barkChannel.send(oversized, context());
    expect(outcome).to.deep.include({ kind: 'failed' });
    expect(outcome.kind === 'failed' && outcome.reason).to.include('push failed: PayloadTooLarge');
  });

  describe('permanent refusals are rejected', () => {
    it('400 for an unknown device key: device_unknown, with the message and the key masked', async () => {
      const outcome = await push({}, { ...settings, deviceKey: 'NoSuchKey99' });
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'device_unknown',
        reason:
          'bark-server answered 400: failed to get device token: failed to get [<device key>] device token from database',
      });
    });

    it('400 device key is empty: bad_request', async () => {
      const outcome = await push({}, { ...settings, deviceKey: '' });
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'bad_request',
        reason: 'bark-server answered 400: device key is empty',
      });
    });

    it('418 from a server behind Basic auth: misconfigured', async () => {
      const locked = await startBarkServer({
        devices: [DEVICE],
        basicAuth: { user: 'u', password: 'p' },
      });
      try {
        const outcome = await push({}, { ...settings, serverUrl: locked.url });
        expect(outcome).to.deep.equal({
          kind: 'rejected',
          code: 'misconfigured',
          reason: "bark-server answered 418: I'm a teapot",
        });
      } finally {
        await locked.close();
      }
    });

    it('404 for a server URL that is not a bark-server root: misconfigured', async () => {
      const outcome = await push({}, { ...settings, serverUrl: `${bark.url}/a/b/c/d` });
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: 'bark-server answered 404: Cannot POST /a/b/c/d/push',
      });
    });

    it('500 push failed: Unregistered (a token Apple invalidated) is permanent: device_unknown', async () => {
      for (const reason of ['Unregistered', 'BadDeviceToken']) {
        bark.respond(DEVICE, 500, `push failed: ${reason}`);
        expect(await push()).to.deep.include({ kind: 'rejected', code: 'device_unknown' });
      }
    });

    it('410 Gone: misconfigured', async () => {
      bark.respond(DEVICE, 410, 'gone for good');
      expect(await push()).to.deep.include({ kind: 'rejected', code: 'misconfigured' });
    });
  });

  describe('transient failures are failed', () => {
    it('500 push failed, then success on the next attempt', async () => {
      bark.failTimes(DEVICE, 1, 500, 'push failed: ServiceUnavailable');
      expect(await push()).to.deep.equal({
        kind: 'failed',
        reason: 'bark-server answered 500: push failed: ServiceUnavailable',
      });
      expect(await push()).to.deep.equal({ kind: 'delivered' });
    });

    it('503 with Retry-After: 7 → retryAfterMs 7000', async () => {
      bark.respond(DEVICE, 503, 'Service Unavailable', { headers: { 'Retry-After': '7' } });
      expect(await push()).to.deep.equal({
        kind: 'failed',
        reason: 'bark-server answered 503: Service Unavailable',
        retryAfterMs: 7000,
      });
    });

    it('429 with a Retry-After date → the wait from the context clock', async () => {
      const at = new Date(NOW + 90_000).toUTCString();
      bark.respond(DEVICE, 429, 'slow down', { headers: { 'Retry-After': at } });
      expect(await push()).to.deep.include({ kind: 'failed', retryAfterMs: 90_000 });
    });

    it('502 and 504 from a proxy, with an HTML page: failed, quoting an excerpt', async () => {
      for (const status of [502, 504]) {
        bark.respond(DEVICE, status, undefined, {
          rawBody: `<html>\n<body><h1>${status} Bad Gateway</h1></body>\n</html>`,
        });
        const outcome = await push();
        expect(outcome).to.deep.equal({
          kind: 'failed',
          reason: `bark-server answered ${status}: <html> <body><h1>${status} Bad Gateway</h1></body> </html>`,
        });
      }
    });

    it('ignores a garbage Retry-After', async () => {
      bark.respond(DEVICE, 503, 'busy', { headers: { 'Retry-After': 'soon' } });
      expect(await push()).to.not.have.property('retryAfterMs');
    });

    it('no answer within the time limit → failed', async () => {
      bark.delay(DEVICE, 2_000);
      const quick = createBarkChannel({ timeoutMs: 50 });
      const outcome = await quick.send(renderBark(message(), settings), context());
      expect(outcome).to.deep.equal({
        kind: 'failed',
        reason: 'bark-server did not answer within 50 ms',
      });
    });

    it('a refused connection → failed', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        closed.close(() => {
          resolve();
        });
      });
      const outcome = await push({}, { ...settings, serverUrl: `http://127.0.0.1:${port}` });
      expect(outcome.kind).to.equal('failed');
      expect(outcome.kind === 'failed' && outcome.reason).to.match(/ECONNREFUSED/);
    });

    it('a 2xx that is not the success envelope → failed, saying so', async () => {
      bark.respond(DEVICE, 200, undefined, { rawBody: '<html>Welcome to the hotel Wi-Fi</html>' });
      expect(await push()).to.deep.equal({
        kind: 'failed',
        reason:
          'bark-server answered 200 without its success envelope ({"code":200,…}): <html>Welcome to the hotel Wi-Fi</html>',
      });
      bark.respond(DEVICE, 204, undefined, { rawBody: '' });
      expect(await push()).to.deep.include({ kind: 'failed' });
      bark.respond(DEVICE, 200, 'ok?', { headers: {} });
      // A 200 envelope with code 200 is success whatever its message says.
      expect(await push()).to.deep.equal({ kind: 'delivered' });
    });
  });

  it('does not follow a redirect: rejected as misconfigured, naming the target', async () => {
    const target = `${bark.url}/elsewhere`;
    bark.respond(DEVICE, 302, 'Found', { headers: { Location: target } });
    const outcome = await push();
    expect(outcome).to.deep.equal({
      kind: 'rejected',
      code: 'misconfigured',
      reason: `bark-server answered 302, a redirect to ${target}; redirects are not followed, so the server URL must be the final one`,
    });
    expect(bark.requests.map((r) => r.path)).to.deep.equal(['/push']);
  });

  it('refuses a destination outside the allowlist: rejected, and nothing reaches the server', async () => {
    const strict = createGuardedHttpClient({ allowlist: emptyAllowlist });
    const outcome = await barkChannel.send(
      renderBark(message(), settings),
      context({ http: strict }),
    );
    expect(outcome.kind).to.equal('rejected');
    expect(outcome.kind === 'rejected' && outcome.code).to.equal('forbidden_destination');
    expect(outcome.kind === 'rejected' && outcome.reason).to.match(/127\.0\.0\.1 is a loopback/);
    expect(bark.requests).to.have.length(0);
  });

  it('treats a host name that does not resolve as transient (DNS can come back): failed', async () => {
    // The injected resolver answers nothing, so no DNS query leaves the machine.
    const noDns = createGuardedHttpClient({
      allowlist: emptyAllowlist,
      lookup: () => Promise.resolve([]),
    });
    const outcome = await barkChannel.send(
      renderBark(message(), { ...settings, serverUrl: 'http://bark.invalid' }),
      context({ http: noDns }),
    );
    expect(outcome).to.deep.equal({
      kind: 'failed',
      reason: 'the host name bark.invalid does not resolve to any address',
    });
  });

  it('recalls with delete "1" and the same id, removing the notification', async () => {
    await push();
    await push({ messageId: 'msg-other', thread: 'order-43' });
    const recall = barkChannel.renderRecall!(message(), settings);
    expect(await barkChannel.send(recall, context())).to.deep.equal({ kind: 'delivered' });
    const [first, , third] = bark.requests;
    expect(third?.json).to.deep.equal({ device_key: DEVICE, id: 'app-1:order-42', delete: '1' });
    expect((first?.json as { id: string }).id).to.equal('app-1:order-42');
    expect(bark.notificationsOf(DEVICE).map((n) => n.id)).to.deep.equal(['app-1:order-43']);
  });

  it('recalls a message without a thread by its message id', async () => {
    await push({ thread: '' });
    expect(bark.notificationsOf(DEVICE).map((n) => n.id)).to.deep.equal(['msg-0001']);
    await barkChannel.send(renderBarkRecall(message({ thread: '' }), settings), context());
    expect(bark.notificationsOf(DEVICE)).to.deep.equal([]);
  });

  it('never logs the device key', async () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    bark.failTimes(DEVICE, 1, 500, `push failed: token for ${DEVICE} rejected`);
    await barkChannel.send(renderBark(message(), settings), context({ logger }));
    await barkChannel.send(
      renderBark(message(), { ...settings, deviceKey: 'UnknownKey42' }),
      context({ logger }),
    );
    expect(lines).to.have.length(2);
    for (const line of lines) {
      expect(line).to.not.include(DEVICE);
      expect(line).to.not.include('UnknownKey42');
    }
  });
});

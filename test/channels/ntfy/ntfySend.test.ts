import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJsonLogger, silentLogger } from '../../../adapters/logging/logger.js';
import { emptyAllowlist, parseAllowlist } from '../../../adapters/outbound/addressPolicy.js';
import { createGuardedHttpClient } from '../../../adapters/outbound/guardedHttpClient.js';
import type { ChannelContext, OutgoingMessage } from '../../../channels/channel.js';
import {
  createNtfyChannel,
  ntfyChannel,
  renderNtfy,
  renderNtfyRecall,
  type NtfyRequest,
  type NtfySettings,
} from '../../../channels/ntfy/ntfyChannel.js';
import { startNtfyServer, type NtfyStandIn } from '../../../devtools/ntfyServer.js';

// Every request in this file goes to the ntfy stand-in on 127.0.0.1 (or a closed port there); the
// guarded client allows loopback only because the allowlist names 127.0.0.1.

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const TOPIC = 'repairs_7f3a';
const TOKEN = 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2';

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

describe('ntfy channel: send', () => {
  let ntfy: NtfyStandIn;
  let settings: NtfySettings;

  before(async () => {
    ntfy = await startNtfyServer();
    settings = { serverUrl: ntfy.url, topic: TOPIC };
  });
  after(() => ntfy.close());
  beforeEach(() => {
    ntfy.reset();
  });

  const push = (overrides: Partial<OutgoingMessage> = {}, to: NtfySettings = settings) =>
    ntfyChannel.send(renderNtfy(message(overrides), to), context());

  it('delivers: one JSON POST / carrying exactly the rendered body, and no Authorization', async () => {
    const request = renderNtfy(message({ url: 'https://desk.example/o/42' }), settings);
    expect(await ntfyChannel.send(request, context())).to.deep.equal({ kind: 'delivered' });
    expect(ntfy.requests).to.have.length(1);
    const [received] = ntfy.requests;
    expect(received?.method).to.equal('POST');
    expect(received?.path).to.equal('/');
    expect(received?.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(received?.headers).to.not.have.property('authorization');
    expect(request.kind === 'publish' && received?.json).to.deep.equal(
      request.kind === 'publish' && request.body,
    );
    const [shown] = ntfy.notificationsOf(TOPIC);
    expect(shown?.message).to.deep.include({
      event: 'message',
      title: 'Order 42',
      message: 'Technician dispatched',
      priority: 3,
      tags: ['Repairs Desk'],
      click: 'https://desk.example/o/42',
    });
  });

  it('shows an app name with commas as one tag (ntfy splits tags on commas)', async () => {
    expect(await push({ appName: 'Acme, Inc.' })).to.deep.equal({ kind: 'delivered' });
    const [shown] = ntfy.notificationsOf(TOPIC);
    expect(shown?.message.tags).to.deep.equal(['Acme Inc.']);
  });

  it('sends the token as Bearer, and a protected topic takes it', async () => {
    const locked = await startNtfyServer({
      auth: { defaultAccess: 'deny-all', tokens: { [TOKEN]: [TOPIC] } },
    });
    try {
      const to = { serverUrl: locked.url, topic: TOPIC, token: TOKEN };
      expect(await push({}, to)).to.deep.equal({ kind: 'delivered' });
      expect(locked.requests[0]?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(locked.notificationsOf(TOPIC)).to.have.length(1);
    } finally {
      await locked.close();
    }
  });

  it('lets the steps of one work order replace each other; another app’s same thread stays apart', async () => {
    for (const [index, body] of ['dispatched', 'departed', 'arrived'].entries()) {
      expect(await push({ messageId: `msg-${index}`, body })).to.deep.equal({ kind: 'delivered' });
    }
    await push({ messageId: 'other', appId: 'app-2', body: 'dispatched' });
    await push({ messageId: 'msg-9', thread: '工单 43', body: '已派工' });
    const shown = ntfy.notificationsOf(TOPIC).map((n) => n.message.message);
    expect(shown).to.deep.equal(['arrived', 'dispatched', '已派工']);
    expect(ntfy.messagesOf(TOPIC)).to.have.length(5);
  });

  it('delivers a long Chinese message as text, within the limit', async () => {
    const body = '请在明天上午九点前到达现场并联系业主核实维修范围。'.repeat(150);
    expect(await push({ body })).to.deep.equal({ kind: 'delivered' });
    const [shown] = ntfy.notificationsOf(TOPIC);
    expect(shown?.message.attachment).to.equal(undefined);
    expect(shown?.message.message?.endsWith('…')).to.equal(true);
  });

  it('would have lost the text without the cut: the stand-in turns it into an attachment, as ntfy does', async () => {
    const rendered = renderNtfy(message(), settings);
    if (rendered.kind !== 'publish') throw new Error('expected a publish');
    const uncut: NtfyRequest = {
      ...rendered,
      body: { ...rendered.body, message: '长'.repeat(1400) },
    };
    expect(await ntfyChannel.send(uncut, context())).to.deep.equal({ kind: 'delivered' });
    expect(ntfy.notificationsOf(TOPIC)[0]?.message).to.deep.include({
      message: 'You received a file: attachment.txt',
    });
  });

  describe('recall', () => {
    it('deletes the notification with DELETE /{topic}/{sequenceId}, the delivery’s id', async () => {
      await push({ thread: '' });
      await push({ messageId: 'msg-0002', thread: '', body: 'stays' });
      const recall = renderNtfyRecall(message({ thread: '' }), { ...settings, token: '' });
      expect(await ntfyChannel.send(recall, context())).to.deep.equal({ kind: 'delivered' });
      const last = ntfy.requests.at(-1);
      expect([last?.method, last?.path]).to.deep.equal(['DELETE', `/${TOPIC}/msg-0001`]);
      expect(last?.headers).to.not.have.property('authorization');
      expect(ntfy.notificationsOf(TOPIC).map((n) => n.message.message)).to.deep.equal(['stays']);
    });

    it('takes back a thread’s current notification, with the token', async () => {
      const locked = await startNtfyServer({
        auth: { defaultAccess: 'deny-all', tokens: { [TOKEN]: '*' } },
      });
      try {
        const to = { serverUrl: locked.url, topic: TOPIC, token: TOKEN };
        await push({ thread: '工单 42' }, to);
        await push({ messageId: 'msg-0002', thread: '工单 42', body: 'arrived' }, to);
        const recall = renderNtfyRecall(message({ thread: '工单 42' }), to);
        expect(await ntfyChannel.send(recall, context())).to.deep.equal({ kind: 'delivered' });
        expect(locked.requests.at(-1)?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
        expect(locked.notificationsOf(TOPIC)).to.deep.equal([]);
      } finally {
        await locked.close();
      }
    });

    it('a server without the delete route (before 2.16) is misconfigured, saying so', async () => {
      ntfy.respond({ status: 404, error: 'page not found' });
      const outcome = await ntfyChannel.send(renderNtfyRecall(message(), settings), context());
      expect(outcome).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason:
          'the ntfy server answered 404: page not found (not an ntfy server root, or one older than 2.16, which cannot delete notifications)',
      });
    });
  });

  describe('permanent refusals are rejected', () => {
    it('a topic outside ntfy’s rule: misconfigured, and nothing is sent', async () => {
      const outcome = await push({}, { ...settings, topic: 'my topic' });
      expect(outcome).to.deep.include({ kind: 'rejected', code: 'misconfigured' });
      expect(ntfy.requests).to.have.length(0);
    });

    it('400 for a topic name ntfy keeps for itself: misconfigured, with the server’s words', async () => {
      expect(await push({}, { ...settings, topic: 'docs' })).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: 'the ntfy server answered 400: invalid request: topic name is not allowed',
      });
    });

    it('400 for a sequence id ntfy refuses: bad_request (our bug)', async () => {
      const rendered = renderNtfy(message(), settings);
      if (rendered.kind !== 'publish') throw new Error('expected a publish');
      const bad: NtfyRequest = {
        ...rendered,
        body: { ...rendered.body, sequence_id: 'app-1:order-42' },
      };
      expect(await ntfyChannel.send(bad, context())).to.deep.equal({
        kind: 'rejected',
        code: 'bad_request',
        reason: 'the ntfy server answered 400: invalid request: sequence ID invalid',
      });
    });

    it('401 for a token the server does not know, 403 for a protected topic without one: misconfigured', async () => {
      const locked = await startNtfyServer({
        auth: { defaultAccess: 'deny-all', tokens: { [TOKEN]: ['other'] } },
      });
      try {
        const to = { serverUrl: locked.url, topic: TOPIC };
        expect(await push({}, { ...to, token: 'tk_unknown' })).to.deep.equal({
          kind: 'rejected',
          code: 'misconfigured',
          reason:
            'the ntfy server answered 401: unauthorized (the topic needs a token with write access)',
        });
        for (const token of [undefined, TOKEN]) {
          const outcome = await push({}, token === undefined ? to : { ...to, token });
          expect(outcome).to.deep.equal({
            kind: 'rejected',
            code: 'misconfigured',
            reason:
              'the ntfy server answered 403: forbidden (the topic needs a token with write access)',
          });
        }
      } finally {
        await locked.close();
      }
    });

    it('masks the token where the server’s words quote it', async () => {
      ntfy.respond({ status: 403, error: `token ${TOKEN} may not write` });
      const outcome = await push({}, { ...settings, token: TOKEN });
      expect(outcome).to.deep.include({
        reason:
          'the ntfy server answered 403: token <token> may not write (the topic needs a token with write access)',
      });
    });

    it('404 for a server URL that is not an ntfy root: misconfigured', async () => {
      expect(await push({}, { ...settings, serverUrl: `${ntfy.url}/a/b` })).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason: 'the ntfy server answered 404: page not found (not an ntfy server root)',
      });
    });

    it('413 for a body over the server’s JSON limit: bad_request', async () => {
      const small = await startNtfyServer({ jsonBodyLimit: 100 });
      try {
        expect(await push({}, { ...settings, serverUrl: small.url })).to.deep.equal({
          kind: 'rejected',
          code: 'bad_request',
          reason: 'the ntfy server answered 413: JSON body too large',
        });
      } finally {
        await small.close();
      }
    });

    it('3xx: misconfigured, naming the target, and the redirect is not followed', async () => {
      ntfy.failTimes(1, { status: 301, rawBody: '', headers: { Location: 'https://ntfy.sh/' } });
      expect(await push()).to.deep.equal({
        kind: 'rejected',
        code: 'misconfigured',
        reason:
          'the ntfy server answered 301, a redirect to https://ntfy.sh/; redirects are not followed, so the server URL must be the final one',
      });
      expect(ntfy.requests).to.have.length(1);
    });

    it('any other 4xx (422) is bad_request', async () => {
      ntfy.failTimes(1, { status: 422 });
      expect(await push()).to.deep.include({ kind: 'rejected', code: 'bad_request' });
    });

    it('refused by the outbound guard: forbidden_destination, nothing sent', async () => {
      const strict = createGuardedHttpClient({ allowlist: emptyAllowlist });
      const outcome = await ntfyChannel.send(
        renderNtfy(message(), settings),
        context({ http: strict }),
      );
      expect(outcome).to.deep.include({ kind: 'rejected', code: 'forbidden_destination' });
      expect(ntfy.requests).to.have.length(0);
    });
  });

  describe('transient failures are failed', () => {
    it('429 past the rate limit, with Retry-After in seconds: retryAfterMs', async () => {
      const limited = await startNtfyServer({ rateLimit: { burst: 1, retryAfterSeconds: 30 } });
      try {
        const to = { ...settings, serverUrl: limited.url };
        expect(await push({}, to)).to.deep.equal({ kind: 'delivered' });
        expect(await push({}, to)).to.deep.equal({
          kind: 'failed',
          reason: 'the ntfy server answered 429: limit reached: too many requests, please be nice',
          retryAfterMs: 30_000,
        });
      } finally {
        await limited.close();
      }
    });

    it('429 with Retry-After as an HTTP date counts from the context clock; without one, no retryAfterMs', async () => {
      ntfy.failTimes(1, {
        status: 429,
        headers: { 'Retry-After': new Date(NOW + 90_000).toUTCString() },
      });
      expect(await push()).to.deep.include({ kind: 'failed', retryAfterMs: 90_000 });
      ntfy.failTimes(1, { status: 429 });
      const outcome = await push();
      expect(outcome.kind).to.equal('failed');
      expect(outcome).to.not.have.property('retryAfterMs');
    });

    it('507, 500, 502, 503 and 408 are failed', async () => {
      for (const status of [507, 500, 502, 503, 408]) {
        ntfy.failTimes(1, { status });
        expect(await push(), String(status)).to.deep.include({ kind: 'failed' });
      }
    });

    it('a 200 that is not ntfy speaking (a captive portal) is failed', async () => {
      ntfy.failTimes(1, { status: 200, rawBody: '<html>Welcome to the hotel wifi</html>' });
      expect(await push()).to.deep.equal({
        kind: 'failed',
        reason:
          'the ntfy server answered 200 without a message ({"id":…,"event":…}): <html>Welcome to the hotel wifi</html>',
      });
    });

    it('a server slower than the time limit is failed', async () => {
      ntfy.delay(300);
      const quick = createNtfyChannel({ timeoutMs: 50 });
      expect(await quick.send(renderNtfy(message(), settings), context())).to.deep.equal({
        kind: 'failed',
        reason: 'the ntfy server did not answer within 50 ms',
      });
    });

    it('a refused connection is failed', async () => {
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
      expect(outcome.kind === 'failed' && outcome.reason).to.include('ECONNREFUSED');
    });
  });

  it('logs what was not delivered with the URL and status, never the token', async () => {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    const to = { ...settings, token: TOKEN };
    ntfy.respond({ status: 503 });
    await ntfyChannel.send(renderNtfy(message(), to), context({ logger }));
    await ntfyChannel.send(renderNtfyRecall(message(), to), context({ logger }));
    expect(lines).to.have.length(2);
    for (const line of lines) {
      expect(line).to.not.include(TOKEN);
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).to.deep.include({
        msg: 'ntfy request not delivered',
        status: 503,
        kind: 'failed',
      });
      expect(entry['url']).to.be.a('string');
    }
    expect(ntfy.requests.map((r) => r.headers.authorization)).to.deep.equal([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
    ]);
  });
});

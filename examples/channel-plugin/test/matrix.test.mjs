import assert from 'node:assert/strict';
import { describeChannelConformance } from 'tidings/conformance';
import matrix from '../matrix.mjs';
import { fetchClient } from './fetchClient.mjs';
import { startHomeserver } from './homeserver.mjs';

const settings = {
  homeserver: 'https://matrix.example',
  roomId: '!room:matrix.example',
  token: 'syt_secret_access_token',
};

// The kit: declaration, pure render, every scripted answer, no secret in the logs.
describeChannelConformance(matrix, {
  settings,
  okAnswer: { body: JSON.stringify({ event_id: '$event1' }) },
});

/** A logger that keeps its lines, to see what the plugin says. */
const keepingLogger = (lines = []) => ({
  lines,
  debug: (message, fields) => lines.push({ message, fields }),
  info: (message, fields) => lines.push({ message, fields }),
  warn: (message, fields) => lines.push({ message, fields }),
  error: (message, fields) => lines.push({ message, fields }),
  child() {
    return this;
  },
});

const message = {
  messageId: 'msg-1',
  appId: 'app-1',
  appName: 'Work orders',
  recipientId: 'r-1',
  title: 'Order <1042>',
  body: 'The technician has arrived',
  url: 'https://orders.example/1042',
};

describe('matrix plugin against a local homeserver', () => {
  let homeserver;
  const account = { token: 'syt_local_token', roomId: '!ops:localhost' };
  beforeEach(async () => {
    homeserver = await startHomeserver(account);
  });
  afterEach(async () => {
    await homeserver.close();
  });
  const context = (logger = keepingLogger()) => ({
    http: fetchClient(),
    logger,
    now: () => new Date(),
  });
  const local = () => ({
    homeserver: `${homeserver.url}/`,
    roomId: account.roomId,
    token: account.token,
  });

  it('posts the message into the room as m.text with an escaped HTML part', async () => {
    const outcome = await matrix.send(matrix.render(message, local()), context());
    assert.deepEqual(outcome, { kind: 'delivered' });
    assert.deepEqual(homeserver.events, [
      {
        roomId: '!ops:localhost',
        type: 'm.room.message',
        content: {
          msgtype: 'm.text',
          body: '[Work orders] Order <1042>\nThe technician has arrived\nhttps://orders.example/1042',
          format: 'org.matrix.custom.html',
          formatted_body:
            '<b>[Work orders] Order &lt;1042&gt;</b><br>The technician has arrived<br><a href="https://orders.example/1042">https://orders.example/1042</a>',
        },
      },
    ]);
  });

  it('posts a retry of the same message once (the message id is the transaction id)', async () => {
    const rendered = matrix.render(message, local());
    await matrix.send(rendered, context());
    await matrix.send(matrix.render(message, local()), context());
    assert.equal(homeserver.events.length, 1);
    await matrix.send(
      matrix.render({ ...message, messageId: 'msg-2', level: 'passive' }, local()),
      context(),
    );
    assert.equal(homeserver.events.length, 2);
    assert.equal(homeserver.events[1].content.msgtype, 'm.notice');
  });

  it('is misconfigured with a wrong token or a room it is not in, and logs no token', async () => {
    const logger = keepingLogger();
    const wrongToken = await matrix.send(
      matrix.render(message, { ...local(), token: 'syt_wrong' }),
      context(logger),
    );
    assert.deepEqual(wrongToken, {
      kind: 'rejected',
      reason: 'homeserver answered 401: M_UNKNOWN_TOKEN Unknown access token',
      code: 'misconfigured',
    });
    const wrongRoom = await matrix.send(
      matrix.render(message, { ...local(), roomId: '!other:localhost' }),
      context(logger),
    );
    assert.deepEqual(wrongRoom, {
      kind: 'rejected',
      reason: 'homeserver answered 403: M_FORBIDDEN User not in room',
      code: 'misconfigured',
    });
    assert.equal(logger.lines.length, 2);
    assert.ok(!JSON.stringify(logger.lines).includes('syt_'));
  });

  it("honours Matrix's retry_after_ms when rate limited", async () => {
    homeserver.state.overload = true;
    const outcome = await matrix.send(matrix.render(message, local()), context());
    assert.deepEqual(outcome, {
      kind: 'failed',
      reason: 'homeserver answered 429: M_LIMIT_EXCEEDED Too many requests',
      retryAfterMs: 2000,
    });
  });

  it('fails (to retry) when nothing listens at the homeserver', async () => {
    const outcome = await matrix.send(
      matrix.render(message, { ...local(), homeserver: 'http://127.0.0.1:9' }),
      context(),
    );
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.reason, /^homeserver unreachable/);
  });
});

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { OutgoingMessage } from '../../../channels/channel.js';
import {
  renderWebhook,
  renderWebhookRecall,
  webhookChannel,
} from '../../../channels/webhook/webhookChannel.js';
import { bodyOf } from '../../../channels/webhook/webhookEvent.js';
import { signatureOf, signingKeyOf } from '../../../channels/webhook/webhookSecret.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const settings = { url: 'https://automation.example/hooks/tidings', secret: SECRET };

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: 'msg-0001',
  appId: 'app-1',
  appName: 'Repairs Desk',
  recipientId: 'rcp-1',
  body: 'Technician dispatched',
  ...overrides,
});

describe('webhook channel: declaration', () => {
  it('is kind webhook with a required url and a generated, secret, optional secret', () => {
    expect(webhookChannel.kind).to.equal('webhook');
    expect(webhookChannel.name).to.equal('Webhook (your own endpoint)');
    expect(
      webhookChannel.settings.map(({ name, type, secret, required, generated }) => ({
        name,
        type,
        secret,
        required,
        generated,
      })),
    ).to.deep.equal([
      { name: 'url', type: 'url', secret: false, required: true, generated: undefined },
      { name: 'secret', type: 'string', secret: true, required: false, generated: true },
    ]);
    expect(typeof webhookChannel.renderRecall).to.equal('function');
  });
});

describe('webhook channel: render', () => {
  it('builds the message.created event, its id derived from the message id, empty fields left out', () => {
    const request = renderWebhook(
      message({
        title: 'Order 42',
        subtitle: '',
        url: '',
        thread: 'order-42',
        level: 'timeSensitive',
      }),
      settings,
    );
    expect(request.url).to.equal(settings.url);
    expect(request.event).to.deep.equal({
      id: 'msg_msg-0001',
      type: 'message.created',
      data: {
        messageId: 'msg-0001',
        appId: 'app-1',
        appName: 'Repairs Desk',
        title: 'Order 42',
        body: 'Technician dispatched',
        thread: 'order-42',
        level: 'timeSensitive',
      },
    });
    expect(request.key.kind).to.equal('key');
  });

  it('is deterministic: the same message gives the same request, so every retry has the same webhook-id', () => {
    expect(renderWebhook(message(), settings)).to.deep.equal(renderWebhook(message(), settings));
  });

  it('builds message.recalled for a recall, another event id and none of the content', () => {
    const request = renderWebhookRecall(
      message({ title: 'Order 42', thread: 'order-42' }),
      settings,
    );
    expect(request.event).to.deep.equal({
      id: 'rcl_msg-0001',
      type: 'message.recalled',
      data: { messageId: 'msg-0001', appId: 'app-1', thread: 'order-42' },
    });
  });

  it('writes the body as { id, type, timestamp, data } with the attempt time', () => {
    const { event } = renderWebhook(message(), settings);
    expect(JSON.parse(bodyOf(event, new Date(Date.UTC(2025, 0, 15, 12))))).to.deep.equal({
      id: 'msg_msg-0001',
      type: 'message.created',
      timestamp: '2025-01-15T12:00:00.000Z',
      data: event.data,
    });
  });
});

describe('webhook channel: secret and signature', () => {
  it('takes whsec_ and base64 of 24 to 64 bytes, with or without the prefix', () => {
    for (const size of [24, 32, 64]) {
      const encoded = randomBytes(size).toString('base64');
      const key = signingKeyOf(`whsec_${encoded}`);
      expect(key.kind === 'key' && key.bytes.toString('base64')).to.equal(encoded);
      expect(signingKeyOf(encoded).kind).to.equal('key');
    }
  });

  it('refuses a missing, malformed, short or long secret without quoting it', () => {
    for (const secret of [
      undefined,
      '',
      'whsec_not base64!',
      'whsec_abc',
      `whsec_${randomBytes(16).toString('base64')}`,
      `whsec_${randomBytes(65).toString('base64')}`,
    ]) {
      const key = signingKeyOf(secret);
      expect(key.kind, String(secret)).to.equal('invalid');
      if (key.kind === 'invalid' && secret !== undefined && secret.length > 6) {
        expect(key.reason).to.not.include(secret.slice(6));
      }
    }
  });

  it('signs exactly as the standardwebhooks library does', () => {
    const key = signingKeyOf(SECRET);
    if (key.kind !== 'key') expect.fail(key.reason);
    const body = '{"id":"msg_1","data":{"body":"维修 😀"}}';
    expect(signatureOf(key.bytes, 'msg_1', 1_736_942_400, body)).to.equal(
      new Webhook(SECRET).sign('msg_1', new Date(1_736_942_400_000), body),
    );
  });
});

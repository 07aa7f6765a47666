import { expect } from 'chai';
import type { Channel } from '../../channels/channel.js';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../../adapters/config/settings.js';
import {
  builtInChannels,
  builtInKinds,
  builtInRegistry,
  configuredChannels,
  createBuiltInRegistry,
} from '../../channels/index.js';
import { createEmailChannel } from '../../channels/email/emailChannel.js';
import { webhookChannel } from '../../channels/webhook/webhookChannel.js';

const plugin = (kind: string): Channel<unknown, string> => ({
  kind,
  name: `Plugin ${kind}`,
  settings: [
    {
      name: 'address',
      description: 'Where to send',
      type: 'string',
      secret: false,
      required: true,
    },
  ],
  render: (message) => message.body,
  send: () => Promise.resolve({ kind: 'delivered' }),
});

describe('built-in channels', () => {
  it('are inbox, bark, ntfy and webhook, in that order, in the built-in registry', () => {
    expect(builtInChannels.map((channel) => channel.kind)).to.deep.equal([
      'inbox',
      'bark',
      'ntfy',
      'webhook',
    ]);
    expect(builtInRegistry.kinds).to.deep.equal(['inbox', 'bark', 'ntfy', 'webhook']);
    expect(builtInRegistry.get('ntfy')).to.equal(builtInChannels[2]);
    expect(builtInRegistry.get('bark')).to.equal(builtInChannels[1]);
    expect(builtInRegistry.get('webhook')).to.equal(webhookChannel);
  });

  it('leave out sms, which needs the operator’s gateway, and add it when one is configured', () => {
    expect(builtInRegistry.get('sms')).to.equal(undefined);
    expect(configuredChannels({})).to.deep.equal([]);
    const configured = configuredChannels({
      sms: { gatewayUrl: 'https://sms.example/send', token: 'tok' },
    });
    expect(configured.map((channel) => [channel.kind, channel.name])).to.deep.equal([
      ['sms', 'SMS'],
    ]);
    expect(createBuiltInRegistry(configured).kinds).to.deep.equal([
      'inbox',
      'bark',
      'ntfy',
      'webhook',
      'sms',
    ]);
  });

  it('reserve every built-in kind, configured or not: PLUGINS.md’s six, each channel’s kind among them', () => {
    expect(builtInKinds).to.deep.equal(['inbox', 'bark', 'ntfy', 'email', 'sms', 'webhook']);
    const email = createEmailChannel({
      transport: { send: () => Promise.reject(new Error('unused')) },
      from: { address: 'tidings@example.com' },
    });
    const sms = configuredChannels({ sms: { gatewayUrl: 'https://sms.example/', token: 't' } });
    for (const channel of [...builtInChannels, ...sms, email]) {
      expect(builtInKinds).to.include(channel.kind);
    }
  });

  it('take the server settings as they are, SMS gateway and all', () => {
    const settings = loadSettings({
      TIDINGS_SMS_GATEWAY_URL: 'https://sms.example/send',
      TIDINGS_SMS_GATEWAY_TOKEN: 'tok',
    });
    if (E.isLeft(settings)) expect.fail(settings.left);
    const [sms] = configuredChannels(settings.right);
    const request = sms?.render(
      { messageId: 'm', appId: 'a', appName: 'A', recipientId: 'r', body: 'b' },
      { phone: '+8613800138000' },
    );
    expect(request).to.deep.include({ url: 'https://sms.example/send', token: 'tok' });
  });

  it('accept plugins of new kinds after them', () => {
    const registry = createBuiltInRegistry([plugin('email'), plugin('matrix')]);
    expect(registry.kinds).to.deep.equal(['inbox', 'bark', 'ntfy', 'webhook', 'email', 'matrix']);
  });

  it('refuse a plugin that declares a built-in kind, naming it', () => {
    expect(() => createBuiltInRegistry([plugin('bark')])).to.throw(/kind "bark"/);
    expect(() => createBuiltInRegistry([plugin('inbox')])).to.throw(/kind "inbox"/);
    expect(() => createBuiltInRegistry([plugin('email'), plugin('email')])).to.throw(
      /kind "email"/,
    );
  });

  it('mark every credential-like setting secret', () => {
    const secrets = builtInChannels.flatMap((channel) =>
      channel.settings.filter((setting) => setting.secret).map((s) => `${channel.kind}.${s.name}`),
    );
    expect(secrets).to.deep.equal(['bark.deviceKey', 'ntfy.token', 'webhook.secret']);
  });
});

import { expect } from 'chai';
import type { Channel } from '../../channels/channel.js';
import { builtInChannels, builtInRegistry, createBuiltInRegistry } from '../../channels/index.js';

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
  it('are inbox, bark and ntfy, in that order, in the built-in registry', () => {
    expect(builtInChannels.map((channel) => channel.kind)).to.deep.equal(['inbox', 'bark', 'ntfy']);
    expect(builtInRegistry.kinds).to.deep.equal(['inbox', 'bark', 'ntfy']);
    expect(builtInRegistry.get('bark')).to.equal(builtInChannels[1]);
    expect(builtInRegistry.get('ntfy')).to.equal(builtInChannels[2]);
  });

  it('accept plugins of new kinds after them', () => {
    const registry = createBuiltInRegistry([plugin('email'), plugin('sms')]);
    expect(registry.kinds).to.deep.equal(['inbox', 'bark', 'ntfy', 'email', 'sms']);
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
    expect(secrets).to.deep.equal(['bark.deviceKey', 'ntfy.token']);
  });
});

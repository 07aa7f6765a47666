import { expect } from 'chai';
import type { Channel } from '../../channels/channel.js';
import { createChannelRegistry } from '../../channels/registry.js';

const channel = (kind: string): Channel<unknown, string> => ({
  kind,
  name: `Channel ${kind}`,
  settings: [
    { name: 'token', description: 'API token', type: 'string', secret: true, required: true },
  ],
  render: (message) => message.body,
  send: () => Promise.resolve({ kind: 'delivered' }),
});

describe('channel registry', () => {
  it('finds channels by kind and lists the kinds in registration order', () => {
    const registry = createChannelRegistry([channel('inbox'), channel('bark')]);
    expect(registry.kinds).to.deep.equal(['inbox', 'bark']);
    expect(registry.get('bark')?.kind).to.equal('bark');
    expect(registry.get('sms')).to.equal(undefined);
  });

  it('refuses two channels of the same kind, naming it', () => {
    expect(() =>
      createChannelRegistry([channel('bark'), channel('inbox'), channel('bark')]),
    ).to.throw(/kind "bark"/);
  });

  it('refuses a kind that is not a short lowercase name', () => {
    for (const kind of ['', 'Bark', 'web push', 'x'.repeat(33)]) {
      expect(() => createChannelRegistry([channel(kind)]), kind).to.throw(/must be 1-32 lowercase/);
    }
  });
});

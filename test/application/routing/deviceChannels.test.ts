import { expect } from 'chai';
import { deviceChannelsOf } from '../../../application/routing/deviceChannels.js';
import { builtInChannels } from '../../../channels/index.js';
import { createChannelRegistry } from '../../../channels/registry.js';
import { pagerChannel, pagerDevice } from '../../support/pagerChannel.js';

describe('deviceChannelsOf (the router: which devices a strong message goes to)', () => {
  const registry = createChannelRegistry([...builtInChannels, pagerChannel()]);

  it('routes to a device of any kind the registry has, not only the built-in ones', () => {
    expect(deviceChannelsOf([pagerDevice()], registry)).to.deep.equal(['pager']);
  });
  it('leaves out a broken device', () => {
    expect(deviceChannelsOf([pagerDevice('unknown pager')], registry)).to.deep.equal([]);
  });
  it('leaves out a device whose kind the server does not have', () => {
    expect(deviceChannelsOf([pagerDevice()], createChannelRegistry(builtInChannels))).to.deep.equal(
      [],
    );
  });
  it('routes to every working device, each kind once, in the person’s order', () => {
    const bark = { kind: 'bark', settings: { serverUrl: 'https://api.day.app', deviceKey: 'k' } };
    expect(
      deviceChannelsOf([pagerDevice(), bark, { ...pagerDevice(), settings: {} }], registry),
    ).to.deep.equal(['pager', 'bark']);
  });
});

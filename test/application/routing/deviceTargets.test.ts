import { expect } from 'chai';
import { deviceTargetsOf } from '../../../application/routing/deviceTargets.js';
import { builtInChannels } from '../../../channels/index.js';
import { createChannelRegistry } from '../../../channels/registry.js';
import { legacyBarkDevice } from '../../../domain/recipient/recipientDevices.js';
import { PAGER_DEVICE_ID, pagerChannel, pagerDevice } from '../../support/pagerChannel.js';

describe('deviceTargetsOf (the router: which devices a strong message goes to)', () => {
  const registry = createChannelRegistry([...builtInChannels, pagerChannel()]);
  const bark = legacyBarkDevice('https://api.day.app', 'key');

  it('routes to a device of any kind the registry has, one target per device', () => {
    expect(deviceTargetsOf([pagerDevice()], registry)).to.deep.equal([`pager:${PAGER_DEVICE_ID}`]);
  });
  it('leaves out a broken device', () => {
    expect(deviceTargetsOf([pagerDevice('unknown pager')], registry)).to.deep.equal([]);
  });
  it('leaves out a device whose kind the server does not have', () => {
    expect(deviceTargetsOf([pagerDevice()], createChannelRegistry(builtInChannels))).to.deep.equal(
      [],
    );
  });
  it('routes to every working device, two of one kind included, in the person’s order', () => {
    expect(
      deviceTargetsOf([pagerDevice(), bark, pagerDevice(undefined, 'dev_second')], registry),
    ).to.deep.equal([`pager:${PAGER_DEVICE_ID}`, 'bark', 'pager:dev_second']);
  });
  it('keeps the legacy Bark device under the bare target `bark` it always had', () => {
    expect(deviceTargetsOf([bark], registry)).to.deep.equal(['bark']);
  });
  it('reaches only the devices the binding chose', () => {
    expect(
      deviceTargetsOf([pagerDevice(), bark, pagerDevice(undefined, 'dev_second')], registry, {
        chosen: ['dev_second', 'bark'],
      }),
    ).to.deep.equal(['bark', 'pager:dev_second']);
  });
  it('reaches only the one device a message names (a test push), whatever the binding chose', () => {
    expect(
      deviceTargetsOf([pagerDevice(), bark], registry, { chosen: ['bark'], only: PAGER_DEVICE_ID }),
    ).to.deep.equal([`pager:${PAGER_DEVICE_ID}`]);
    expect(
      deviceTargetsOf([pagerDevice('gone')], registry, { only: PAGER_DEVICE_ID }),
    ).to.deep.equal([]);
  });
});

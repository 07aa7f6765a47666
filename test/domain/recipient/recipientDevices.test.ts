import { expect } from 'chai';
import { fold } from '../../../domain/shared/decider.js';
import { recipientDecider } from '../../../domain/recipient/recipientDecider.js';
import { devicesOf } from '../../../domain/recipient/recipientDevices.js';
import type { RecipientEvent } from '../../../domain/recipient/recipientEvents.js';

const recipientId = 'r-1';
const registered: RecipientEvent = {
  type: 'RecipientRegistered',
  data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
};
const deviceSet: RecipientEvent = {
  type: 'RecipientBarkDeviceSet',
  data: { recipientId, serverUrl: 'https://api.day.app', deviceKey: 'key-1' },
};

/** The generic device view of the account after `events`. */
const devicesAfter = (events: readonly RecipientEvent[]) => {
  const state = fold(recipientDecider, events);
  return state.status === 'active' ? devicesOf(state) : undefined;
};

describe('devicesOf', () => {
  it('reads no device for an account without one', () => {
    expect(devicesAfter([registered])).to.deep.equal([]);
  });
  it('reads a Bark device as a device of kind bark with its settings', () => {
    expect(devicesAfter([registered, deviceSet])).to.deep.equal([
      { kind: 'bark', settings: { serverUrl: 'https://api.day.app', deviceKey: 'key-1' } },
    ]);
  });
  it('reads a refused device as broken, and a removed one as gone', () => {
    const broken: RecipientEvent = {
      type: 'RecipientBarkDeviceBroken',
      data: { recipientId, deviceKey: 'key-1', reason: 'unknown device' },
    };
    expect(devicesAfter([registered, deviceSet, broken])).to.deep.equal([
      {
        kind: 'bark',
        settings: { serverUrl: 'https://api.day.app', deviceKey: 'key-1' },
        broken: 'unknown device',
      },
    ]);
    expect(
      devicesAfter([
        registered,
        deviceSet,
        { type: 'RecipientBarkDeviceRemoved', data: { recipientId } },
      ]),
    ).to.deep.equal([]);
  });
});

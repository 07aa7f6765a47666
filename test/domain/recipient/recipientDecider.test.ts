import { expect } from 'chai';
import type { RecipientCommand } from '../../../domain/recipient/recipientCommands.js';
import {
  recipientDecider,
  recipientStreamName,
} from '../../../domain/recipient/recipientDecider.js';
import type { RecipientEvent } from '../../../domain/recipient/recipientEvents.js';
import {
  RecipientEventCodec,
  recipientEventTypes,
} from '../../../domain/recipient/recipientEvents.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const metadata = { now: '2025-03-01T12:00:00.000Z' };
const recipientId = 'r-1';
const device = { serverUrl: 'https://api.day.app', deviceKey: 'key-1' };

const registered: RecipientEvent = {
  type: 'RecipientRegistered',
  data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
};
const deviceSet: RecipientEvent = {
  type: 'RecipientBarkDeviceSet',
  data: { recipientId, ...device },
};
const deviceRemoved: RecipientEvent = { type: 'RecipientBarkDeviceRemoved', data: { recipientId } };

const register: RecipientCommand = {
  type: 'RegisterRecipient',
  data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
  metadata,
};
const setDevice = (data: typeof device): RecipientCommand => ({
  type: 'SetBarkDevice',
  data: { recipientId, ...data },
  metadata,
});
const removeDevice: RecipientCommand = {
  type: 'RemoveBarkDevice',
  data: { recipientId },
  metadata,
};

describe('recipientDecider', () => {
  const recipient = spec(recipientDecider);

  it('names the stream recipient-<recipientId>', () => {
    expect(recipientStreamName('r-9')).to.equal('recipient-r-9');
  });

  describe('RegisterRecipient', () => {
    it('creates an account', () => {
      recipient.given([]).when(register).then([registered]);
    });
    it('ignores an identical repeat', () => {
      recipient.given([registered]).when(register).thenNothing();
    });
    it('refuses a different account under the same id', () => {
      recipient
        .given([registered])
        .when({ ...register, data: { ...register.data, username: 'bob' } })
        .thenError('already_exists', { recipientId });
    });
  });

  describe('SetBarkDevice', () => {
    it('sets a first device', () => {
      recipient.given([registered]).when(setDevice(device)).then([deviceSet]);
    });
    it('replaces a device with another key', () => {
      recipient
        .given([registered, deviceSet])
        .when(setDevice({ ...device, deviceKey: 'key-2' }))
        .then([
          { type: 'RecipientBarkDeviceSet', data: { recipientId, ...device, deviceKey: 'key-2' } },
        ]);
    });
    it('ignores setting the identical device', () => {
      recipient.given([registered, deviceSet]).when(setDevice(device)).thenNothing();
    });
    it('refuses an unknown recipient', () => {
      recipient.given([]).when(setDevice(device)).thenError('not_found', { recipientId });
    });
  });

  describe('RemoveBarkDevice', () => {
    it('removes the device', () => {
      recipient.given([registered, deviceSet]).when(removeDevice).then([deviceRemoved]);
    });
    it('ignores removing an absent device', () => {
      recipient.given([registered]).when(removeDevice).thenNothing();
    });
    it('ignores removing a device twice', () => {
      recipient.given([registered, deviceSet, deviceRemoved]).when(removeDevice).thenNothing();
    });
    it('lets the same device be set again after removal', () => {
      recipient
        .given([registered, deviceSet, deviceRemoved])
        .when(setDevice(device))
        .then([deviceSet]);
    });
    it('refuses an unknown recipient', () => {
      recipient.given([]).when(removeDevice).thenError('not_found');
    });
  });

  describe('events', () => {
    it('round-trip through RecipientEventCodec, and a malformed one is refused', () => {
      expectEventsRoundTrip(RecipientEventCodec, recipientEventTypes, recipient.recorded, {
        type: 'RecipientBarkDeviceSet',
        data: { recipientId, serverUrl: 'file:///etc/passwd', deviceKey: 'k' },
      });
    });
  });
});

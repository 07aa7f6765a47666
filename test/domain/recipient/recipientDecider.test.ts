import { expect } from 'chai';
import { fold } from '../../../domain/shared/decider.js';
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

  describe('MarkDeviceBroken', () => {
    const reason = 'HTTP 400: failed to get device token';
    const markBroken = (
      settings: Readonly<Record<string, string>> = device,
      kind = 'bark',
    ): RecipientCommand => ({
      type: 'MarkDeviceBroken',
      data: { recipientId, kind, settings, reason },
      metadata,
    });
    const deviceBroken: RecipientEvent = {
      type: 'RecipientBarkDeviceBroken',
      data: { recipientId, deviceKey: device.deviceKey, reason },
    };
    it('marks the device Bark refused', () => {
      recipient.given([registered, deviceSet]).when(markBroken()).then([deviceBroken]);
      const state = fold(recipientDecider, [registered, deviceSet, deviceBroken]);
      expect(state.status === 'active' ? state.bark : undefined).to.deep.equal({
        ...device,
        broken: reason,
      });
    });
    it('ignores a report about a key the person has replaced since', () => {
      recipient
        .given([registered, deviceSet])
        .when(markBroken({ ...device, deviceKey: 'key-0' }))
        .thenNothing();
    });
    it('knows a Bark device by its key, as the event records it', () => {
      recipient
        .given([registered, deviceSet])
        .when(markBroken({ serverUrl: 'https://bark.example', deviceKey: device.deviceKey }))
        .then([deviceBroken]);
      recipient.given([registered, deviceSet]).when(markBroken({})).thenNothing();
    });
    it('ignores a report about a kind of device the person does not have', () => {
      recipient.given([registered, deviceSet]).when(markBroken(device, 'pager')).thenNothing();
    });
    it('ignores a report when there is no device, or it is already marked', () => {
      recipient.given([registered]).when(markBroken()).thenNothing();
      recipient.given([registered, deviceSet, deviceBroken]).when(markBroken()).thenNothing();
    });
    it('lets the person set the same device again, which mends it', () => {
      recipient
        .given([registered, deviceSet, deviceBroken])
        .when(setDevice(device))
        .then([deviceSet]);
      const state = fold(recipientDecider, [registered, deviceSet, deviceBroken, deviceSet]);
      expect(state.status === 'active' ? state.bark : undefined).to.deep.equal(device);
    });
  });

  describe('StartSession / EndSession', () => {
    const start = (
      sessionHash: string,
      expiresAt: string,
      now = metadata.now,
    ): RecipientCommand => ({
      type: 'StartSession',
      data: { recipientId, sessionHash, expiresAt },
      metadata: { now },
    });
    const started = (
      sessionHash: string,
      startedAt: string,
      expiresAt: string,
    ): RecipientEvent => ({
      type: 'RecipientSessionStarted',
      data: { recipientId, sessionHash, startedAt, expiresAt },
    });
    const end: RecipientCommand = {
      type: 'EndSession',
      data: { recipientId, sessionHash: 'h1' },
      metadata,
    };
    const ended: RecipientEvent = {
      type: 'RecipientSessionEnded',
      data: { recipientId, sessionHash: 'h1' },
    };

    it('starts a session', () => {
      recipient
        .given([registered])
        .when(start('h1', '2025-03-31T12:00:00.000Z'))
        .then([started('h1', metadata.now, '2025-03-31T12:00:00.000Z')]);
    });
    it('ignores starting the same session twice', () => {
      recipient
        .given([registered, started('h1', metadata.now, '2025-03-31T12:00:00.000Z')])
        .when(start('h1', '2025-03-31T12:00:00.000Z'))
        .thenNothing();
    });
    it('refuses a session that expires before it starts', () => {
      recipient
        .given([registered])
        .when(start('h1', '2025-03-01T11:00:00.000Z'))
        .thenError('validation_failed');
    });
    it('refuses a session for an unknown person', () => {
      recipient.given([]).when(start('h1', '2025-03-31T12:00:00.000Z')).thenError('not_found');
    });
    it('ends an open session, and ignores ending it again', () => {
      const open = started('h1', metadata.now, '2025-03-31T12:00:00.000Z');
      recipient.given([registered, open]).when(end).then([ended]);
      recipient.given([registered, open, ended]).when(end).thenNothing();
    });
    it('forgets sessions that expired before a later login, so they cannot be ended twice', () => {
      recipient
        .given([
          registered,
          started('h1', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'),
          started('h2', metadata.now, '2025-03-31T12:00:00.000Z'),
        ])
        .when(end)
        .thenNothing();
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

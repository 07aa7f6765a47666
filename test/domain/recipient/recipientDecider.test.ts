import { expect } from 'chai';
import { fold } from '../../../domain/shared/decider.js';
import type { RecipientCommand } from '../../../domain/recipient/recipientCommands.js';
import {
  recipientDecider,
  recipientStreamName,
  type RecipientState,
} from '../../../domain/recipient/recipientDecider.js';
import type { RecipientEvent } from '../../../domain/recipient/recipientEvents.js';
import {
  RecipientEventCodec,
  recipientEventTypes,
} from '../../../domain/recipient/recipientEvents.js';
import {
  LEGACY_BARK_DEVICE_ID,
  legacyBarkFingerprint,
  MAX_DEVICES_PER_PERSON,
} from '../../../domain/recipient/recipientDevices.js';
import {
  DEFAULT_PREFERENCES,
  type Preferences,
} from '../../../domain/recipient/recipientPreferences.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const metadata = { now: '2025-03-01T12:00:00.000Z' };
const recipientId = 'r-1';
const device = { serverUrl: 'https://api.day.app', deviceKey: 'key-1' };

const registered: RecipientEvent = {
  type: 'RecipientRegistered',
  data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
};
/** The legacy events: no code writes them any more, old logs hold them. */
const legacySet = (data: typeof device = device): RecipientEvent => ({
  type: 'RecipientBarkDeviceSet',
  data: { recipientId, ...data },
});
const legacyRemoved: RecipientEvent = { type: 'RecipientBarkDeviceRemoved', data: { recipientId } };
const legacyBroken = (deviceKey: string): RecipientEvent => ({
  type: 'RecipientBarkDeviceBroken',
  data: { recipientId, deviceKey, reason: 'failed to get device token' },
});

const register: RecipientCommand = {
  type: 'RegisterRecipient',
  data: { recipientId, username: 'alice', passwordHash: 'scrypt$abc' },
  metadata,
};

/** A new device's saved form, as the edge hands it over: secrets sealed, a fingerprint. */
const ntfy: {
  recipientId: string;
  deviceId: string;
  kind: string;
  name: string;
  settings: Readonly<Record<string, string>>;
  secrets: Readonly<Record<string, string>>;
  fingerprint: string;
} = {
  recipientId,
  deviceId: 'dev_ntfy',
  kind: 'ntfy',
  name: 'Phone',
  settings: { serverUrl: 'https://ntfy.sh', topic: 'alice' },
  secrets: { token: 'v1.sealed-token' },
  fingerprint: 'fp-1',
};
const add = (data: Partial<typeof ntfy> = {}): RecipientCommand => ({
  type: 'AddDevice',
  data: { ...ntfy, ...data },
  metadata,
});
const added = (data: Partial<typeof ntfy> = {}): RecipientEvent => ({
  type: 'RecipientDeviceAdded',
  data: { ...ntfy, ...data, addedAt: metadata.now },
});
const { kind: _kind, ...ntfyUpdate } = ntfy;
const update = (data: Partial<typeof ntfyUpdate> = {}): RecipientCommand => ({
  type: 'UpdateDevice',
  data: { ...ntfyUpdate, ...data },
  metadata,
});
const updated = (data: Partial<typeof ntfyUpdate> = {}): RecipientEvent => ({
  type: 'RecipientDeviceUpdated',
  data: { ...ntfyUpdate, ...data },
});
const remove = (deviceId: string): RecipientCommand => ({
  type: 'RemoveDevice',
  data: { recipientId, deviceId },
  metadata,
});
const markBroken = (deviceId: string, fingerprint: string): RecipientCommand => ({
  type: 'MarkDeviceBroken',
  data: { recipientId, deviceId, fingerprint, reason: 'unknown device' },
  metadata,
});
const broken = (deviceId: string): RecipientEvent => ({
  type: 'RecipientDeviceBroken',
  data: { recipientId, deviceId, reason: 'unknown device' },
});

const devicesOf = (state: RecipientState) => (state.status === 'active' ? state.devices : []);

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

  describe('legacy Bark events (old logs)', () => {
    it('fold into the device list as the device `bark`, its key in clearSecrets', () => {
      expect(devicesOf(fold(recipientDecider, [registered, legacySet()]))).to.deep.equal([
        {
          deviceId: LEGACY_BARK_DEVICE_ID,
          kind: 'bark',
          name: 'Bark',
          settings: { serverUrl: device.serverUrl },
          secrets: {},
          clearSecrets: { deviceKey: device.deviceKey },
          fingerprint: legacyBarkFingerprint(device.serverUrl, device.deviceKey),
        },
      ]);
    });
    it('replace it in place when set again, and drop it when removed', () => {
      const state = fold(recipientDecider, [
        registered,
        legacySet(),
        added(),
        legacySet({ ...device, deviceKey: 'key-2' }),
      ]);
      expect(devicesOf(state).map((d) => [d.deviceId, d.clearSecrets])).to.deep.equal([
        ['bark', { deviceKey: 'key-2' }],
        ['dev_ntfy', {}],
      ]);
      expect(
        devicesOf(fold(recipientDecider, [registered, legacySet(), added(), legacyRemoved])).map(
          (d) => d.deviceId,
        ),
      ).to.deep.equal(['dev_ntfy']);
    });
    it('mark it broken only for the key that was refused', () => {
      const refused = fold(recipientDecider, [registered, legacySet(), legacyBroken('key-1')]);
      expect(devicesOf(refused)[0]?.broken).to.equal('failed to get device token');
      const other = fold(recipientDecider, [registered, legacySet(), legacyBroken('key-0')]);
      expect(devicesOf(other)[0]?.broken).to.equal(undefined);
      recipient
        .given([registered, legacySet(), legacyBroken('key-1')])
        .when(markBroken('bark', legacyBarkFingerprint(device.serverUrl, device.deviceKey)))
        .thenNothing();
      recipient
        .given([registered, legacySet(), legacyRemoved])
        .when(remove('bark'))
        .thenError('not_found');
    });
    it('are addressed by the generic commands: the device `bark` can be broken, saved and removed', () => {
      const fingerprint = legacyBarkFingerprint(device.serverUrl, device.deviceKey);
      recipient
        .given([registered, legacySet()])
        .when(markBroken('bark', fingerprint))
        .then([broken('bark')]);
      recipient
        .given([registered, legacySet()])
        .when(update({ deviceId: 'bark', name: 'Bark' }))
        .then([updated({ deviceId: 'bark', name: 'Bark' })]);
      recipient
        .given([registered, legacySet()])
        .when(remove('bark'))
        .then([{ type: 'RecipientDeviceRemoved', data: { recipientId, deviceId: 'bark' } }]);
    });
    it('a legacy device saved again keeps its place and leaves its clear key behind', () => {
      const state = fold(recipientDecider, [
        registered,
        legacySet(),
        added(),
        updated({
          deviceId: 'bark',
          name: 'Bark',
          settings: device,
          secrets: { deviceKey: 'v1.x' },
        }),
      ]);
      expect(devicesOf(state).map((d) => [d.deviceId, d.clearSecrets, d.secrets])).to.deep.equal([
        ['bark', {}, { deviceKey: 'v1.x' }],
        ['dev_ntfy', {}, { token: 'v1.sealed-token' }],
      ]);
    });
  });

  describe('AddDevice', () => {
    it('adds a device with its time of adding', () => {
      recipient.given([registered]).when(add()).then([added()]);
    });
    it('ignores a retry of the same add, and refuses another device under the same id', () => {
      recipient.given([registered, added()]).when(add()).thenNothing();
      recipient
        .given([registered, added()])
        .when(add({ fingerprint: 'fp-2' }))
        .thenError('already_exists', { deviceId: 'dev_ntfy' });
    });
    it(`refuses a device beyond the ${MAX_DEVICES_PER_PERSON}th`, () => {
      const full = Array.from({ length: MAX_DEVICES_PER_PERSON }, (_, i) =>
        added({ deviceId: `dev_${i}` }),
      );
      recipient
        .given([registered, ...full])
        .when(add({ deviceId: 'dev_more' }))
        .thenError('illegal_state', { limit: MAX_DEVICES_PER_PERSON });
      recipient
        .given([registered, ...full.slice(1)])
        .when(add({ deviceId: 'dev_more' }))
        .then([added({ deviceId: 'dev_more' })]);
    });
    it('refuses an unknown recipient', () => {
      recipient.given([]).when(add()).thenError('not_found');
    });
  });

  describe('UpdateDevice', () => {
    it('replaces name, settings and secrets as a whole', () => {
      recipient
        .given([registered, added()])
        .when(update({ name: 'Work phone', fingerprint: 'fp-2', secrets: {} }))
        .then([updated({ name: 'Work phone', fingerprint: 'fp-2', secrets: {} })]);
    });
    it('ignores the same device saved again (same fingerprint and name), although sealed anew', () => {
      recipient
        .given([registered, added()])
        .when(update({ secrets: { token: 'v1.sealed-again' } }))
        .thenNothing();
    });
    it('mends a broken device saved again unchanged', () => {
      recipient
        .given([registered, added(), broken('dev_ntfy')])
        .when(update())
        .then([updated()]);
      const state = fold(recipientDecider, [registered, added(), broken('dev_ntfy'), updated()]);
      expect(devicesOf(state)[0]?.broken).to.equal(undefined);
    });
    it('refuses a device the person does not have', () => {
      recipient.given([registered]).when(update()).thenError('not_found', { deviceId: 'dev_ntfy' });
    });
  });

  describe('RemoveDevice', () => {
    it('removes the device, and refuses removing it again', () => {
      const removed: RecipientEvent = {
        type: 'RecipientDeviceRemoved',
        data: { recipientId, deviceId: 'dev_ntfy' },
      };
      recipient.given([registered, added()]).when(remove('dev_ntfy')).then([removed]);
      recipient
        .given([registered, added(), removed])
        .when(remove('dev_ntfy'))
        .thenError('not_found');
    });
    it('turns off a digest to the device it removes, keeping the other preferences', () => {
      const preferences = {
        locale: 'zh-CN' as const,
        timeZone: 'Asia/Shanghai',
        quietHours: null,
        digest: { at: '08:00', deviceId: 'dev_ntfy' },
      };
      const chosen: RecipientEvent = {
        type: 'RecipientPreferencesSet',
        data: { recipientId, preferences },
      };
      recipient
        .given([registered, added(), chosen])
        .when(remove('dev_ntfy'))
        .then([
          { type: 'RecipientDeviceRemoved', data: { recipientId, deviceId: 'dev_ntfy' } },
          {
            type: 'RecipientPreferencesSet',
            data: { recipientId, preferences: { ...preferences, digest: null } },
          },
        ]);
    });
  });

  describe('MarkDeviceBroken', () => {
    it('marks the device whose configuration was refused', () => {
      recipient
        .given([registered, added()])
        .when(markBroken('dev_ntfy', 'fp-1'))
        .then([broken('dev_ntfy')]);
    });
    it('ignores a refusal of a configuration the person has saved differently since', () => {
      recipient
        .given([registered, added(), updated({ fingerprint: 'fp-2' })])
        .when(markBroken('dev_ntfy', 'fp-1'))
        .thenNothing();
    });
    it('ignores a removed or unknown device, and one already marked', () => {
      recipient.given([registered]).when(markBroken('dev_ntfy', 'fp-1')).thenNothing();
      recipient
        .given([registered, added(), broken('dev_ntfy')])
        .when(markBroken('dev_ntfy', 'fp-1'))
        .thenNothing();
    });
    it('marks only that device: the person’s other devices keep working', () => {
      const state = fold(recipientDecider, [
        registered,
        added(),
        added({ deviceId: 'dev_two' }),
        broken('dev_ntfy'),
      ]);
      expect(devicesOf(state).map((d) => [d.deviceId, d.broken])).to.deep.equal([
        ['dev_ntfy', 'unknown device'],
        ['dev_two', undefined],
      ]);
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

  describe('erasure (docs/audit.md, "Erasure")', () => {
    const erase: RecipientCommand = {
      type: 'EraseRecipient',
      data: { recipientId, by: 'operator', reason: 'court order' },
      metadata,
    };
    const erased: RecipientEvent = {
      type: 'RecipientErased',
      data: { recipientId, by: 'operator', reason: 'court order' },
    };
    const listed = [{ position: 3, dataDigest: 'ab'.repeat(32) }];
    const record: RecipientCommand = {
      type: 'RecordDataErased',
      data: { recipientId, events: listed },
      metadata,
    };
    const recorded: RecipientEvent = {
      type: 'RecipientDataErased',
      data: { recipientId, events: listed },
    };

    it('deletes an account, and deleting it again changes nothing', () => {
      recipient.given([registered, added()]).when(erase).then([erased]);
      recipient.given([registered, erased]).when(erase).thenNothing();
    });
    it('refuses to delete an account that never existed', () => {
      recipient.given([]).when(erase).thenError('not_found');
    });
    it('leaves a deleted account with no device, session or name', () => {
      const state = fold(recipientDecider, [registered, added(), erased]);
      expect(state).to.deep.equal({ status: 'erased', recipientId });
      expect(devicesOf(state)).to.deep.equal([]);
    });
    it('takes no other command once deleted: no login, no device, no new registration', () => {
      recipient.given([registered, erased]).when(add()).thenError('not_found');
      recipient
        .given([registered, erased])
        .when({
          type: 'StartSession',
          data: { recipientId, sessionHash: 'h', expiresAt: '2025-03-31T12:00:00.000Z' },
          metadata,
        })
        .thenError('not_found');
      recipient.given([registered, erased]).when(register).thenError('already_exists');
    });
    it('records erased data only for a deleted account, and an empty list not at all', () => {
      recipient.given([registered, erased]).when(record).then([recorded]);
      recipient.given([registered, erased, recorded]).when(record).then([recorded]);
      recipient
        .given([registered, erased])
        .when({ ...record, data: { recipientId, events: [] } })
        .thenNothing();
      recipient.given([registered]).when(record).thenError('illegal_state');
    });
  });

  describe('SetPreferences', () => {
    const chosen: Preferences = {
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      quietHours: { start: '22:00', end: '07:30', allowTimeSensitive: true },
      digest: { at: '08:00', deviceId: 'dev_ntfy' },
    };
    const set = (preferences: Preferences): RecipientCommand => ({
      type: 'SetPreferences',
      data: { recipientId, preferences },
      metadata,
    });
    const wasSet = (preferences: Preferences): RecipientEvent => ({
      type: 'RecipientPreferencesSet',
      data: { recipientId, preferences },
    });

    it('starts with nothing chosen, and keeps what was saved', () => {
      const state = fold(recipientDecider, [registered]);
      expect(state.status === 'active' && state.preferences).to.deep.equal(DEFAULT_PREFERENCES);
      const after = fold(recipientDecider, [registered, added(), wasSet(chosen)]);
      expect(after.status === 'active' && after.preferences).to.deep.equal(chosen);
    });
    it('saves all four fields in one event', () => {
      recipient
        .given([registered, added()])
        .when(set(chosen))
        .then([wasSet(chosen)]);
    });
    it('writes nothing for the same preferences again, whatever order their fields came in', () => {
      const reordered: Preferences = {
        digest: { deviceId: 'dev_ntfy', at: '08:00' },
        quietHours: { allowTimeSensitive: true, end: '07:30', start: '22:00' },
        timeZone: 'Asia/Shanghai',
        locale: 'zh-CN',
      };
      recipient
        .given([registered, added(), wasSet(chosen)])
        .when(set(reordered))
        .thenNothing();
      recipient.given([registered]).when(set(DEFAULT_PREFERENCES)).thenNothing();
    });
    it('goes back to nothing chosen', () => {
      recipient
        .given([registered, added(), wasSet(chosen)])
        .when(set(DEFAULT_PREFERENCES))
        .then([wasSet(DEFAULT_PREFERENCES)]);
    });
    it('refuses an unknown time zone, naming the field', () => {
      recipient
        .given([registered])
        .when(set({ ...DEFAULT_PREFERENCES, timeZone: 'Asia/Atlantis' }))
        .thenError('validation_failed', {
          errors: [
            {
              path: '/timeZone',
              message: 'is not an IANA time zone name (e.g. Asia/Shanghai, Europe/London, UTC)',
            },
          ],
        });
    });
    it('refuses times that are not HH:MM and quiet hours that end as they start', () => {
      recipient
        .given([registered])
        .when(
          set({
            ...DEFAULT_PREFERENCES,
            quietHours: { start: '7:00', end: '7:00', allowTimeSensitive: false },
          }),
        )
        .thenError('validation_failed', {
          errors: [
            { path: '/quietHours/start', message: 'must be a time HH:MM (00:00–23:59)' },
            { path: '/quietHours/end', message: 'must be a time HH:MM (00:00–23:59)' },
            { path: '/quietHours/end', message: 'must differ from start' },
          ],
        });
    });
    it('refuses a digest to a device the person does not have (or removed)', () => {
      const problem = {
        errors: [{ path: '/digest/deviceId', message: 'is not one of your devices' }],
      };
      recipient.given([registered]).when(set(chosen)).thenError('validation_failed', problem);
      recipient
        .given([
          registered,
          added(),
          { type: 'RecipientDeviceRemoved', data: { recipientId, deviceId: 'dev_ntfy' } },
        ])
        .when(set(chosen))
        .thenError('validation_failed', problem);
    });
    it('refuses an unknown or deleted account', () => {
      recipient.given([]).when(set(chosen)).thenError('not_found');
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

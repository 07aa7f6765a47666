import { createHash } from 'node:crypto';
import type { DeviceSettingValues, RecipientEvent, SealedSecrets } from './recipientEvents.js';

/**
 * The id of the Bark device that the events written before devices were generic describe
 * (RecipientBarkDeviceSet …): it folds into the device list under this fixed id.
 */
export const LEGACY_BARK_DEVICE_ID = 'bark';

/** How many devices one person may have. */
export const MAX_DEVICES_PER_PERSON = 20;

/**
 * One of a person's devices as its events left it. Routing and delivery read devices only
 * through this shape, so they never name a kind.
 *
 * Settings come in three members, so that nobody mistakes one for another: `settings` the
 * non-secret values, `secrets` the secret ones SEALED (the SecretBox opens them just before a
 * push), and `clearSecrets` the secret values the legacy Bark events wrote in clear (the device
 * key), empty for every device saved since.
 */
export interface StoredDevice {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: DeviceSettingValues;
  readonly secrets: SealedSecrets;
  readonly clearSecrets: Readonly<Record<string, string>>;
  /** The keyed hash over every setting (secrets included) the device was saved with. */
  readonly fingerprint: string;
  /** Why its channel refused the device for good: nothing is pushed to it until it is saved again. */
  readonly broken?: string;
  /** When it was added; absent for the legacy Bark device, whose events carry no time. */
  readonly addedAt?: string;
}

/**
 * The fingerprint of a legacy Bark device: a plain hash of its server and key, which its events
 * hold in clear anyway (the keyed fingerprints of newer devices need the data folder's key,
 * which the domain never sees). Its `legacy:` prefix can never equal a keyed one.
 */
export const legacyBarkFingerprint = (serverUrl: string, deviceKey: string): string =>
  `legacy:${createHash('sha256').update(`${serverUrl}\n${deviceKey}`, 'utf8').digest('base64url')}`;

/** The legacy Bark device as the generic list holds it. */
export const legacyBarkDevice = (serverUrl: string, deviceKey: string): StoredDevice => ({
  deviceId: LEGACY_BARK_DEVICE_ID,
  kind: 'bark',
  name: 'Bark',
  settings: { serverUrl },
  secrets: {},
  clearSecrets: { deviceKey },
  fingerprint: legacyBarkFingerprint(serverUrl, deviceKey),
});

const replace = (
  devices: readonly StoredDevice[],
  deviceId: string,
  change: (device: StoredDevice) => StoredDevice,
): readonly StoredDevice[] =>
  devices.map((device) => (device.deviceId === deviceId ? change(device) : device));

const withoutBroken = (device: StoredDevice): StoredDevice => {
  const { broken: _broken, ...rest } = device;
  return rest;
};

/**
 * Folds one device event into the person's ordered device list (other events leave it as it
 * is). The legacy Bark events fold into the same list as the device `bark`.
 */
export const evolveDevices = (
  devices: readonly StoredDevice[],
  event: RecipientEvent,
): readonly StoredDevice[] => {
  switch (event.type) {
    case 'RecipientBarkDeviceSet': {
      const device = legacyBarkDevice(event.data.serverUrl, event.data.deviceKey);
      return devices.some(({ deviceId }) => deviceId === LEGACY_BARK_DEVICE_ID)
        ? replace(devices, LEGACY_BARK_DEVICE_ID, () => device)
        : [...devices, device];
    }
    case 'RecipientBarkDeviceRemoved':
      return devices.filter(({ deviceId }) => deviceId !== LEGACY_BARK_DEVICE_ID);
    case 'RecipientBarkDeviceBroken':
      // The refusal was about the phone behind that key; a key set since is another phone.
      return replace(devices, LEGACY_BARK_DEVICE_ID, (device) =>
        device.clearSecrets['deviceKey'] === event.data.deviceKey
          ? { ...device, broken: event.data.reason }
          : device,
      );
    case 'RecipientDeviceAdded': {
      const { recipientId: _recipientId, ...device } = event.data;
      return [...devices, { ...device, clearSecrets: {} }];
    }
    case 'RecipientDeviceUpdated': {
      const { name, settings, secrets, fingerprint } = event.data;
      return replace(devices, event.data.deviceId, (device) => ({
        ...withoutBroken(device),
        name,
        settings,
        secrets,
        clearSecrets: {},
        fingerprint,
      }));
    }
    case 'RecipientDeviceRemoved':
      return devices.filter(({ deviceId }) => deviceId !== event.data.deviceId);
    case 'RecipientDeviceBroken':
      return replace(devices, event.data.deviceId, (device) => ({
        ...device,
        broken: event.data.reason,
      }));
    case 'RecipientRegistered':
    case 'RecipientSessionStarted':
    case 'RecipientSessionEnded':
    case 'RecipientPreferencesSet':
    case 'RecipientDataErased':
      return devices;
    case 'RecipientErased':
      return [];
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

/** The person's device with this id, if they have it. */
export const deviceById = (
  devices: readonly StoredDevice[],
  deviceId: string,
): StoredDevice | undefined => devices.find((device) => device.deviceId === deviceId);

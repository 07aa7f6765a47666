import type { RecipientEvent } from './recipientEvents.js';

/**
 * What a person saved for one device, setting by setting, under the names its channel declares
 * (docs/plugins.md). Every setting a device has today is text.
 */
export type DeviceSettings = Readonly<Record<string, string>>;

/**
 * One of a person's devices as every channel sees it: the channel kind that serves it, its
 * settings, and whether that channel refused it for good. Routing and delivery read devices only
 * through this view, so they never name a kind.
 */
export interface Device {
  readonly kind: string;
  readonly settings: DeviceSettings;
  /** Why the channel refused this device for good: no pushes go to it until it is saved again. */
  readonly broken?: string;
}

/** A Bark device: the server to call and the key that names the phone on it (docs/bark.md). */
export interface BarkDevice {
  readonly serverUrl: string;
  readonly deviceKey: string;
  /** Why Bark refused this key for good, once it has: no pushes go to it until it is set again. */
  readonly broken?: string;
}

/**
 * The devices a person's events can hold, stored the way their events write them: today one Bark
 * device at most. The account state and the recipients read model both keep this shape.
 */
export interface StoredDevices {
  readonly bark?: BarkDevice;
}

/** The person's devices as generic {@link Device} views. */
export const devicesOf = (stored: StoredDevices): readonly Device[] =>
  stored.bark === undefined
    ? []
    : [
        {
          kind: 'bark',
          settings: { serverUrl: stored.bark.serverUrl, deviceKey: stored.bark.deviceKey },
          ...(stored.bark.broken === undefined ? {} : { broken: stored.bark.broken }),
        },
      ];

/**
 * The events that mark the device of `kind` broken because its channel refused the push made
 * with `refused`: none when that device is no longer the person's current one (replaced or
 * removed since), or is already marked. Each kind is written with the event its devices have
 * always had, so the log keeps reading as it was written.
 */
export const deviceBrokenEvents = (
  stored: StoredDevices,
  recipientId: string,
  kind: string,
  refused: DeviceSettings,
  reason: string,
): readonly RecipientEvent[] => {
  switch (kind) {
    case 'bark': {
      // A Bark device is named by its key: the refusal is about the phone behind that key.
      const deviceKey = refused['deviceKey'];
      if (
        deviceKey === undefined ||
        stored.bark?.deviceKey !== deviceKey ||
        stored.bark.broken !== undefined
      )
        return [];
      return [{ type: 'RecipientBarkDeviceBroken', data: { recipientId, deviceKey, reason } }];
    }
    default:
      // The log holds devices of no other kind yet, so there is nothing of this kind to mark.
      return [];
  }
};

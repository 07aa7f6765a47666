import * as t from 'io-ts';
import { maskedSettings } from '../../../application/devices/deviceValues.js';
import type { DeviceView as StoredView } from '../../../projections/recipients/recipientQueries.js';

/** A setting's value in a request or an answer. */
export const SettingValueCodec = t.union([t.string, t.number, t.boolean], 'SettingValue');

/** A device as `GET /v1/me/devices` lists it; secret settings read `********`. */
export const DeviceView = t.type(
  {
    deviceId: t.string,
    kind: t.string,
    name: t.string,
    settings: t.record(t.string, SettingValueCodec),
    broken: t.union([t.string, t.null]),
    createdAt: t.string,
  },
  'Device',
);

/** The device as the API shows it: never a secret value, only its name. */
export const deviceView = (device: StoredView): t.TypeOf<typeof DeviceView> => ({
  deviceId: device.deviceId,
  kind: device.kind,
  name: device.name,
  settings: maskedSettings(device),
  broken: device.broken ?? null,
  createdAt: device.createdAt,
});

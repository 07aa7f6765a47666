import type { Channel, SettingValue, SettingValues } from '../../channels/channel.js';
import type { StoredDevice } from '../../domain/recipient/recipientDevices.js';
import { MASKED_SECRET } from '../../channels/settingsValidation.js';
import type { SecretBox } from '../shared/secretBox.js';

/** A device's settings as stored: the non-secret ones, the secret ones sealed, and the fingerprint. */
export interface SealedValues {
  readonly settings: SettingValues;
  readonly secrets: Readonly<Record<string, string>>;
  readonly fingerprint: string;
}

/**
 * Splits checked values by what the channel declares secret, seals the secret ones, and takes
 * the fingerprint of them all (in clear, before sealing: sealing is new each time).
 */
export const sealValues = (
  channel: Pick<Channel, 'settings'>,
  values: SettingValues,
  secrets: SecretBox,
): SealedValues => {
  const secretNames = new Set(channel.settings.filter((s) => s.secret).map((s) => s.name));
  const settings: Record<string, SettingValue> = {};
  const sealed: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (secretNames.has(name)) sealed[name] = secrets.seal(String(value));
    else settings[name] = value;
  }
  return { settings, secrets: sealed, fingerprint: secrets.fingerprint(values) };
};

/**
 * Every setting of a device in clear: the non-secret ones, the legacy clear secrets, and the
 * sealed ones opened. Throws when the key cannot open them (see {@link SecretBox.open}).
 */
export const openSettings = (
  device: Pick<StoredDevice, 'settings' | 'secrets' | 'clearSecrets'>,
  secrets: SecretBox,
): SettingValues => ({
  ...device.settings,
  ...device.clearSecrets,
  ...Object.fromEntries(
    Object.entries(device.secrets).map(([name, sealed]) => [name, secrets.open(sealed)]),
  ),
});

/** A device's settings opened one by one: those in clear, and the secret ones that did not open. */
export interface OpenedSettings {
  readonly values: SettingValues;
  /** Secret settings sealed under another key (the data folder's key changed). */
  readonly unreadable: ReadonlySet<string>;
}

/**
 * Like {@link openSettings}, but a sealed value this key cannot open is left out and named in
 * `unreadable` instead of throwing, so a save can tell the person which ones to enter again.
 */
export const openEachSetting = (
  device: Pick<StoredDevice, 'settings' | 'secrets' | 'clearSecrets'>,
  secrets: SecretBox,
): OpenedSettings => {
  const values: Record<string, SettingValue> = { ...device.settings, ...device.clearSecrets };
  const unreadable = new Set<string>();
  for (const [name, sealed] of Object.entries(device.secrets)) {
    try {
      values[name] = secrets.open(sealed);
    } catch {
      unreadable.add(name);
    }
  }
  return { values, unreadable };
};

/** A device's settings as the API and pages show them: every secret one as `********`. */
export const maskedSettings = (
  device: Pick<StoredDevice, 'settings' | 'secrets' | 'clearSecrets'>,
): SettingValues => ({
  ...device.settings,
  ...Object.fromEntries(
    [...Object.keys(device.clearSecrets), ...Object.keys(device.secrets)].map((name) => [
      name,
      MASKED_SECRET,
    ]),
  ),
});

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_BOX_KEY_BYTES } from '../security/secretBox.js';
import { DEVICE_SECRETS_KEY_FILE } from './dataFolderFiles.js';

/** The device secrets key and where it came from. */
export interface DeviceSecretsKey {
  readonly key: Buffer;
  readonly file: string;
  readonly generated: boolean;
}

/**
 * The key that seals devices' secret settings: read from `<dataDir>/device-secrets.key` (32
 * bytes in base64 on one line), or made and written there with mode 0600 on the first start.
 * A file that holds no such key stops the start with one line: making a new key would leave
 * every sealed secret in the log unreadable.
 */
export const resolveDeviceSecretsKey = (dataDir: string): DeviceSecretsKey => {
  const file = join(dataDir, DEVICE_SECRETS_KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== SECRET_BOX_KEY_BYTES) {
      throw new Error(
        `${file} does not hold a ${SECRET_BOX_KEY_BYTES}-byte key in base64; restore it from a backup (without it the devices must be saved again, after removing the file)`,
      );
    }
    return { key, file, generated: false };
  }
  const key = randomBytes(SECRET_BOX_KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, file, generated: true };
};

import type { Logger } from '../domain/shared/logger.js';
import type { SecretBox } from '../application/shared/secretBox.js';
import { resolveDeviceSecretsKey } from '../adapters/config/deviceSecretsKey.js';
import { createSecretBox } from '../adapters/security/secretBox.js';

/**
 * The SecretBox of the data folder's device key (`device-secrets.key`, made on the first start;
 * docs/devices.md "Secrets"). Where the key came from is logged, never the key.
 */
export const openDeviceSecrets = (dataDir: string, logger: Logger): SecretBox => {
  const { key, file, generated } = resolveDeviceSecretsKey(dataDir);
  logger.info(
    `device secrets key ${generated ? 'generated and written to' : 'read from'} its file`,
    {
      file,
    },
  );
  return createSecretBox(key);
};

import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_SIGNING_KEY_FILE } from './dataFolderFiles.js';

/** The server's chain-head signing key and where it came from. */
export interface AuditSigningKey {
  readonly privateKey: KeyObject;
  readonly file: string;
  readonly generated: boolean;
}

/**
 * The Ed25519 key that signs the log's chain head: read from `<dataDir>/audit-signing-key.pem`
 * (PKCS #8 PEM), or made and written there with mode 0600 on the first start. A file that holds
 * no Ed25519 private key stops the start with one line naming it.
 */
export const resolveAuditSigningKey = (dataDir: string): AuditSigningKey => {
  const file = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  if (existsSync(file)) {
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    } catch {
      throw new Error(`${file} does not hold a private key in PEM; restore it from a backup`);
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`${file} holds a ${String(privateKey.asymmetricKeyType)} key, not Ed25519`);
    }
    return { privateKey, file, generated: false };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { privateKey, file, generated: true };
};

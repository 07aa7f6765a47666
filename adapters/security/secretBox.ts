import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SecretBox } from '../../application/shared/secretBox.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The key's length: AES-256 takes 32 bytes. */
export const SECRET_BOX_KEY_BYTES = 32;

/**
 * The SecretBox of a 32-byte key: AES-256-GCM with a fresh 96-bit IV per value (authenticated,
 * so an altered value fails to open), and HMAC-SHA256 fingerprints under a subkey that HKDF
 * derives from the same key, so the fingerprint key is never the encryption key.
 */
export const createSecretBox = (key: Uint8Array): SecretBox => {
  if (key.length !== SECRET_BOX_KEY_BYTES) {
    throw new Error(`the device secrets key must be ${SECRET_BOX_KEY_BYTES} bytes`);
  }
  const fingerprintKey = Buffer.from(
    hkdfSync('sha256', key, new Uint8Array(0), 'tidings device fingerprint v1', 32),
  );
  return {
    seal: (plain) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
    },
    open: (sealed) => {
      const dot = sealed.indexOf('.');
      if (dot < 0 || sealed.slice(0, dot) !== VERSION) {
        throw new Error('not a sealed value of version v1');
      }
      const bytes = Buffer.from(sealed.slice(dot + 1), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('the sealed value is too short');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
    fingerprint: (values) => {
      // Sorted entries as JSON: one text per set of values, whatever order they came in.
      const canonical = JSON.stringify(
        Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      return createHmac('sha256', fingerprintKey).update(canonical, 'utf8').digest('base64url');
    },
  };
};

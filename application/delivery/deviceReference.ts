import { createHash } from 'node:crypto';

/**
 * The reference an app sees for one of the person's devices: 12 base64url characters of
 * SHA-256 over `<bindingId>:<deviceId>`. The same for every message of one binding, so the app
 * can tell its deliveries apart, and unrelated across bindings, so two apps cannot link one
 * person by a device (which is what per-app openids are for).
 */
export const deviceReference = (bindingId: string, deviceId: string): string =>
  createHash('sha256').update(`${bindingId}:${deviceId}`, 'utf8').digest('base64url').slice(0, 12);

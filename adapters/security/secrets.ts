import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A new random credential: `prefix` + 32 bytes (256 bits) of base64url. The prefix makes a leaked
 * value recognisable (secret scanners, logs): `tds_` app secrets, `tbk_` binding keys,
 * `tss_` sessions.
 */
export const newSecret = (prefix: string): string =>
  `${prefix}${randomBytes(32).toString('base64url')}`;

/**
 * The stored form of a high-entropy credential. A fast hash is enough here: the input is 256
 * random bits, so there is nothing to brute-force; passwords use `passwords.ts` instead.
 */
export const hashSecret = (secret: string): string =>
  createHash('sha256').update(secret, 'utf8').digest('hex');

/** Compares two strings in time independent of where they differ. */
export const constantTimeEqual = (a: string, b: string): boolean => {
  // Hashing first gives equal lengths, so not even the length leaks.
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right);
};

/** A short opaque id for new objects (`app_…`, `rcp_…`), 128 random bits. */
export const newId = (prefix: string): string =>
  `${prefix}${randomBytes(16).toString('base64url')}`;

/** Crockford's base32: its digits sort in ASCII order as they do in value. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new id that sorts by creation time (`msg_…`): 10 base32 digits of the millisecond clock,
 * then 96 random bits. Ids made close in time sit close together in every index keyed by them,
 * so a busy stream of new messages touches a few index pages per commit instead of one page
 * per message; the random part keeps ids unguessable.
 */
export const newOrderedId = (prefix: string, now: number = Date.now()): string => {
  let time = '';
  for (let rest = Math.max(0, Math.floor(now)), digit = 0; digit < 10; digit += 1) {
    time = `${BASE32[rest % 32] ?? '0'}${time}`;
    rest = Math.floor(rest / 32);
  }
  return `${prefix}${time}${randomBytes(12).toString('base64url')}`;
};

/** A stable id derived from parts, for objects whose identity is a natural key (binding: app + openid). */
export const derivedId = (prefix: string, ...parts: readonly string[]): string =>
  `${prefix}${createHash('sha256')
    .update(parts.map((part) => `${part.length}:${part}`).join('|'), 'utf8')
    .digest('base64url')
    .slice(0, 22)}`;

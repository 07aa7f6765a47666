import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordHasher } from '../../application/shared/passwordHasher.js';

/** scrypt cost parameters; the defaults take roughly 50–100 ms and 16 MiB per hash. */
export interface PasswordCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_PASSWORD_COST: PasswordCost = { N: 2 ** 14, r: 8, p: 1 };

const KEY_LENGTH = 32;

const derive = (password: string, salt: Buffer, cost: PasswordCost): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const options: ScryptOptions = {
      N: cost.N,
      r: cost.r,
      p: cost.p,
      maxmem: 256 * cost.N * cost.r,
    };
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });

/**
 * Hashes a password with scrypt and a random salt, in a self-describing form
 * `scrypt$N$r$p$salt$hash` so the cost can be raised later without breaking old hashes.
 */
export const hashPassword = async (
  password: string,
  cost: PasswordCost = DEFAULT_PASSWORD_COST,
): Promise<string> => {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return [
    'scrypt',
    cost.N,
    cost.r,
    cost.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
};

/** Checks a password against a stored hash in constant time; false for a malformed hash. */
export const verifyPassword = async (password: string, stored: string): Promise<boolean> => {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every((value) => Number.isInteger(value) && value > 0))
    return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), cost);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
};

/** A valid hash of a random password, checked against when the username does not exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43);

/** Passwords hashed with scrypt at `cost`, as the use cases take them. */
export const passwordHasher = (cost: PasswordCost = DEFAULT_PASSWORD_COST): PasswordHasher => ({
  hash: (password) => hashPassword(password, cost),
  verify: async (password, stored) => {
    if (stored !== undefined) return verifyPassword(password, stored);
    // The same work as for a real hash, so the answer time does not tell that no one has it.
    await verifyPassword(password, DUMMY_HASH);
    return false;
  },
});

import { randomBytes } from 'node:crypto';

/**
 * `prefix` followed by ten random hex digits: a name (username, openid, device key, command id)
 * that no other test, nor a rerun against the same folder, uses.
 */
export const unique = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex')}`;

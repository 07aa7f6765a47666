import type { Ids } from '../shared/ids.js';

/** A username as one person: case and Unicode width do not make a different person. */
export const canonicalName = (username: string): string => username.normalize('NFKC').toLowerCase();

/**
 * The recipient id of a username. Derived, so two registrations of one name race for one stream
 * and exactly one wins.
 */
export const recipientIdFor = (ids: Pick<Ids, 'derived'>, username: string): string =>
  ids.derived('rcp_', canonicalName(username));

import type { Ids } from '../../application/shared/ids.js';
import { derivedId, hashSecret, newId, newOrderedId, newSecret } from './secrets.js';

/** New ids and credentials from the system's secure random source, as the use cases take them. */
export const secureIds: Ids = {
  ordered: (prefix) => newOrderedId(prefix),
  random: newId,
  derived: derivedId,
  secret: newSecret,
  hash: hashSecret,
};

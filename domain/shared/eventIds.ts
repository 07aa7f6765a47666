import { createHash } from 'node:crypto';

/**
 * The id of the `index`-th event caused by command `commandId`, as a UUID. Deterministic, so a
 * retried command produces the same ids and the store can dedupe it.
 *
 * Without `orderKey` it is an RFC 4122 version-5 style UUID (a hash). With `orderKey` (a time in
 * ms that a retry of the command gives again: the time of the event it reacts to, of the message
 * it delivers) it is a version-8 UUID whose first 48 bits are that time and the rest the hash:
 * ids made close in time then sit close together in the store's event-id index, so a busy log
 * touches a few index pages per commit instead of one page per event.
 */
export const eventIdFor = (commandId: string, index: number, orderKey?: number): string => {
  const bytes = createHash('sha1').update(`tidings:${commandId}:${index}`).digest().subarray(0, 16);
  if (orderKey !== undefined && Number.isFinite(orderKey) && orderKey >= 0) {
    bytes.writeUIntBE(Math.min(Math.floor(orderKey), 2 ** 48 - 1), 0, 6);
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  } else {
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  }
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

import { createHash } from 'node:crypto';

/**
 * The id of the `index`-th event caused by command `commandId`, as an RFC 4122 version-5 style
 * UUID. Deterministic, so a retried command produces the same ids and the store can dedupe it.
 */
export const eventIdFor = (commandId: string, index: number): string => {
  const bytes = createHash('sha1').update(`tidings:${commandId}:${index}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

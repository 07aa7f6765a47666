import type { Ids } from '../shared/ids.js';

/** The complaint id of a person's complaint about a message: one per person and message. */
export const complaintIdFor = (
  ids: Pick<Ids, 'derived'>,
  messageId: string,
  recipientId: string,
): string => ids.derived('cmp_', messageId, recipientId);

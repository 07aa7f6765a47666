import type { Channel } from '../channel.js';

/** The inbox needs no settings: every recipient has one. */
export type InboxSettings = Readonly<Record<string, never>>;

/** What "delivering" to the inbox names: the message and whose inbox. */
export interface InboxDelivery {
  readonly messageId: string;
  readonly recipientId: string;
}

/**
 * The `inbox` channel: the in-app store every approved message lands in, whatever the binding's
 * level, mute or push budget.
 *
 * The inbox is a read model fed by events (`projections/`), not a place this channel writes to:
 * the delivery router records the inbox delivery in the same append as its routing decision, so a
 * message is in the inbox exactly when routing happened, and no crash can leave one without the
 * other. `send` therefore has nothing left to do and always answers delivered. The channel exists
 * so that the registry lists every kind a binding can be delivered through, and so inbox and
 * device deliveries are reported alike (message status, metrics).
 */
export const inboxChannel: Channel<InboxSettings, InboxDelivery> = {
  kind: 'inbox',
  name: 'Inbox',
  settings: [],
  render: (message) => ({ messageId: message.messageId, recipientId: message.recipientId }),
  send: () => Promise.resolve({ kind: 'delivered' }),
};

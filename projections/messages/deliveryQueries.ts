import type { ReadModelDb } from '../readModelDb.js';
import type { DeliveryRow } from './messagesProjection.js';

/** One device delivery of a message: where it went, how it stands, and when. */
export type DeviceDelivery = Pick<DeliveryRow, 'channel' | 'status' | 'delivered_at' | 'retry_at'>;

/**
 * What explains the device pushes of one inbox message besides the message row itself: its
 * device deliveries, and its binding's mute and choice of devices as they are now.
 */
export interface InboxDeliveryFacts {
  /** The device deliveries (never the inbox's), in the order the router planned them. */
  readonly devices: readonly DeviceDelivery[];
  /** The binding's mute end (bindings read model); null when it is not muted. */
  readonly mutedUntil: string | null;
  /** The device ids the binding names (JSON array in the bindings read model); null: all. */
  readonly chosenDevices: readonly string[] | null;
}

/** One row of the batched read: a message with one of its device deliveries, or with none. */
interface FactRow {
  readonly message_id: string;
  readonly muted_until: string | null;
  readonly chosen_devices: string | null;
  readonly channel: string | null;
  readonly status: DeliveryRow['status'] | null;
  readonly delivered_at: string | null;
  readonly retry_at: string | null;
}

/**
 * The delivery facts of a page of one person's inbox in one read: the messages' device
 * deliveries joined with their bindings, found by the messages' and deliveries' primary keys
 * (the ids come in as one JSON array, so the statement is prepared once for any page size).
 * A message of someone else, or unknown, is absent from the answer.
 */
export const inboxDeliveryFacts = (
  db: ReadModelDb,
): ((
  recipientId: string,
  messageIds: readonly string[],
) => ReadonlyMap<string, InboxDeliveryFacts>) => {
  const facts = db.prepare<[string, string], FactRow>(
    `SELECT m.message_id, b.muted_until, b.devices AS chosen_devices,
       d.channel, d.status, d.delivered_at, d.retry_at
     FROM messages m
       LEFT JOIN bindings b ON b.binding_id = m.binding_id
       LEFT JOIN message_deliveries d ON d.message_id = m.message_id AND d.channel <> 'inbox'
     WHERE m.message_id IN (SELECT value FROM json_each(?)) AND m.recipient_id = ?
     ORDER BY m.message_id, d.rowid`,
  );
  return (recipientId, messageIds) => {
    const byMessage = new Map<string, InboxDeliveryFacts & { devices: DeviceDelivery[] }>();
    if (messageIds.length === 0) return byMessage;
    for (const row of facts.all(JSON.stringify(messageIds), recipientId)) {
      let entry = byMessage.get(row.message_id);
      if (entry === undefined) {
        entry = {
          devices: [],
          mutedUntil: row.muted_until,
          chosenDevices:
            row.chosen_devices === null ? null : (JSON.parse(row.chosen_devices) as string[]),
        };
        byMessage.set(row.message_id, entry);
      }
      if (row.channel !== null && row.status !== null) {
        entry.devices.push({
          channel: row.channel,
          status: row.status,
          delivered_at: row.delivered_at,
          retry_at: row.retry_at,
        });
      }
    }
    return byMessage;
  };
};

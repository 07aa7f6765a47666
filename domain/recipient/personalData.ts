import { ERASED } from '../shared/hashChain.js';

/**
 * Which fields of which events hold a person's personal data, and those events' data with it
 * erased (docs/audit.md, "Erasure"): the username and password hash, every device's name and
 * settings (secret or not) with its fingerprint, the contents of the messages addressed to them,
 * what channels and moderation said back about those (an answer may quote a device key or the
 * text), and the texts of the complaints they wrote. Ids, types, times, levels and statuses
 * stay, so the history still reads as what happened, only without what was said.
 */
const personalFields: Readonly<Record<string, readonly string[]>> = {
  RecipientRegistered: ['username', 'passwordHash'],
  RecipientDeviceAdded: ['name', 'settings', 'secrets', 'fingerprint'],
  RecipientDeviceUpdated: ['name', 'settings', 'secrets', 'fingerprint'],
  RecipientDeviceBroken: ['reason'],
  RecipientBarkDeviceSet: ['serverUrl', 'deviceKey'],
  RecipientBarkDeviceBroken: ['deviceKey', 'reason'],
  MessageSubmitted: ['title', 'subtitle', 'body', 'url', 'thread'],
  MessageRejected: ['reason'],
  MessageHeldForReview: ['reason'],
  MessageDeliveryFailed: ['error'],
  MessageDeliveryAbandoned: ['lastError'],
  ComplaintFiled: ['reason'],
};

/** The event types that may hold personal data. */
export const personalEventTypes: readonly string[] = Object.keys(personalFields);

/**
 * A field's value erased: a text becomes `[erased]`; an object of settings keeps its names, each
 * value `[erased]` (the events still decode, and an auditor still sees which settings there were).
 */
const erasedValue = (value: unknown): unknown => {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.keys(value).map((name) => [name, ERASED]));
  }
  return ERASED;
};

/**
 * The data of an event of `type` with its personal fields erased, or undefined when erasing
 * changes nothing (the event holds none, or it was erased already), so erasing is idempotent.
 */
export const erasePersonalData = (
  type: string,
  data: Readonly<Record<string, unknown>>,
): Record<string, unknown> | undefined => {
  const fields = personalFields[type];
  if (fields === undefined) return undefined;
  let changed = false;
  const erased: Record<string, unknown> = { ...data };
  for (const field of fields) {
    if (!(field in data)) continue;
    const value = erasedValue(data[field]);
    if (JSON.stringify(value) === JSON.stringify(data[field])) continue;
    erased[field] = value;
    changed = true;
  }
  return changed ? erased : undefined;
};

/**
 * Whether `text` (the stored data of an event of `type`) is an erased form: the type holds
 * personal data, the data has some, and every such field of it is erased. The chain's verifier
 * accepts nothing else in place of data an erasure rewrote (domain/shared/hashChain.ts).
 */
export const isErasedForm = (type: string, text: string): boolean => {
  const fields = personalFields[type];
  if (fields === undefined) return false;
  const data: unknown = JSON.parse(text);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const record = data as Record<string, unknown>;
  return fields.some((field) => field in record) && erasePersonalData(type, record) === undefined;
};

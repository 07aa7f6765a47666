import type { SettingValue, SettingValues } from '../../channels/channel.js';
import type { ChannelRegistry } from '../../channels/registry.js';
import { MASKED_SECRET } from '../../channels/settingsValidation.js';
import { complaintFactsOf, type ComplaintFacts } from '../complaints/complaintFacts.js';
import { personalDeliveryOf, type PersonalDelivery } from '../delivery/personalDelivery.js';
import type { Preferences } from '../../domain/recipient/recipientPreferences.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { BindingWithApp } from '../../projections/bindings/bindingQueries.js';
import type { ComplaintQueries } from '../../projections/complaints/complaintQueries.js';
import type { ComplaintRow } from '../../projections/complaints/complaintsProjection.js';
import type { ExportQueries } from '../../projections/export/exportQueries.js';
import {
  apiStatusOf,
  type ApiMessageStatus,
  type InboxRow,
} from '../../projections/messages/messageQueries.js';
import type { DeliveryRow } from '../../projections/messages/messagesProjection.js';
import type {
  DeviceView,
  RecipientQueries,
} from '../../projections/recipients/recipientQueries.js';
import { maskedSettings } from '../devices/deviceValues.js';

/** The format an export names itself by; a new one if its shape ever changes incompatibly. */
export const EXPORT_FORMAT = 'tidings-export/1';

/** The person's account, without its password hash. */
export interface ExportedAccount {
  readonly recipientId: string;
  readonly username: string;
  /** When the account was registered. */
  readonly createdAt: string;
}

/** One binding of the person to an app, revoked or not, as the bindings read model has it. */
export interface ExportedBinding {
  readonly bindingId: string;
  readonly appId: string;
  readonly appName: string;
  /** The app's own name for the person. */
  readonly openid: string;
  readonly level: 'strong' | 'weak' | 'none';
  readonly blocked: boolean;
  readonly mutedUntil: string | null;
  /** The devices its strong messages reach; null: every working device of the person. */
  readonly devices: readonly string[] | null;
  readonly status: 'active' | 'revoked';
  /** When the person last allowed the app (a re-authorization moves it). */
  readonly authorizedAt: string;
  /** When the person unbound it; null while active. */
  readonly revokedAt: string | null;
  /** The binding's last change. */
  readonly updatedAt: string;
}

/** One device, every secret setting as `********` (as `GET /v1/me/devices` shows it). */
export interface ExportedDevice {
  readonly deviceId: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: SettingValues;
  readonly broken: string | null;
  readonly createdAt: string;
}

/** One delivery of a message: the inbox, or one of the person's devices. */
export type ExportedDelivery = PersonalDelivery;

/** One message that reached the person's inbox, with where it went. */
export interface ExportedMessage {
  readonly messageId: string;
  readonly appId: string;
  readonly appName: string;
  readonly bindingId: string;
  readonly title: string | null;
  readonly subtitle: string | null;
  readonly body: string;
  readonly url: string | null;
  readonly thread: string | null;
  readonly level: InboxRow['level'];
  readonly status: ApiMessageStatus;
  /** When the app sent it. */
  readonly sentAt: string;
  readonly receivedAt: string;
  readonly readAt: string | null;
  readonly archivedAt: string | null;
  readonly deliveries: readonly ExportedDelivery[];
}

/** One complaint the person filed. */
export interface ExportedComplaint extends ComplaintFacts {
  /** Null when the app is not known any more. */
  readonly appName: string | null;
}

/** Everything of the export but the inbox, which is read as it is written out. */
export interface ExportHead {
  readonly format: typeof EXPORT_FORMAT;
  readonly exportedAt: string;
  readonly account: ExportedAccount;
  readonly preferences: Preferences;
  readonly bindings: readonly ExportedBinding[];
  readonly devices: readonly ExportedDevice[];
  readonly complaints: readonly ExportedComplaint[];
}

/** The whole export document, as {@link exportJson} writes it. */
export type ExportDocument = ExportHead & { readonly inbox: readonly ExportedMessage[] };

/**
 * A person's export: the head read at once, and the inbox, newest first, read a page at a time
 * as it is iterated (each page one query for its messages and one for their deliveries).
 */
export interface PersonExport {
  readonly head: ExportHead;
  readonly inbox: Iterable<readonly ExportedMessage[]>;
}

/** What an export reads: the read models' queries and the channels' declarations. */
export interface ExportSources {
  readonly recipients: Pick<RecipientQueries, 'byId' | 'devices' | 'preferences'>;
  readonly complaints: Pick<ComplaintQueries, 'ofRecipient'>;
  readonly apps: Pick<AppQueries, 'byId'>;
  readonly history: ExportQueries;
  readonly channels: Pick<ChannelRegistry, 'get'>;
  /** Messages per page of the inbox (200 unless said). */
  readonly pageSize?: number;
}

const binding = (row: BindingWithApp): ExportedBinding => ({
  bindingId: row.binding_id,
  appId: row.app_id,
  appName: row.app_name,
  openid: row.openid,
  level: row.level,
  blocked: row.blocked === 1,
  mutedUntil: row.muted_until,
  devices: row.devices === null ? null : (JSON.parse(row.devices) as string[]),
  status: row.status,
  authorizedAt: row.authorized_at,
  // A revoked binding takes no change but a re-authorization, which makes it active again.
  revokedAt: row.status === 'revoked' ? row.updated_at : null,
  updatedAt: row.updated_at,
});

/**
 * The device's settings masked as the API shows them (secrets stored sealed or, for the legacy
 * Bark device, apart), and besides every setting its channel declares secret today: a plugin that
 * marked a setting secret after it was saved in clear must not see it exported either.
 */
const device =
  (channels: ExportSources['channels']) =>
  (stored: DeviceView): ExportedDevice => {
    const declared = new Set(
      channels
        .get(stored.kind)
        ?.settings.filter((setting) => setting.secret)
        .map((setting) => setting.name) ?? [],
    );
    const settings: Record<string, SettingValue> = {};
    for (const [name, value] of Object.entries(maskedSettings(stored))) {
      settings[name] = declared.has(name) ? MASKED_SECRET : value;
    }
    return {
      deviceId: stored.deviceId,
      kind: stored.kind,
      name: stored.name,
      settings,
      broken: stored.broken ?? null,
      createdAt: stored.createdAt,
    };
  };

const delivery = (row: DeliveryRow): ExportedDelivery => personalDeliveryOf(row);

const message = (
  row: InboxRow,
  deliveries: readonly ExportedDelivery[],
  now: string,
): ExportedMessage => ({
  messageId: row.message_id,
  appId: row.app_id,
  appName: row.app_name,
  bindingId: row.binding_id,
  title: row.title,
  subtitle: row.subtitle,
  body: row.body,
  url: row.url,
  thread: row.thread,
  level: row.level,
  status: apiStatusOf(row, now),
  sentAt: row.created_at,
  receivedAt: row.inbox_at ?? row.created_at,
  readAt: row.read_at,
  archivedAt: row.archived_at,
  deliveries,
});

const complaint =
  (apps: ExportSources['apps']) =>
  (row: ComplaintRow): ExportedComplaint => ({
    ...complaintFactsOf(row),
    appName: apps.byId(row.app_id)?.name ?? null,
  });

/** The inbox a page at a time, newest first; each page is read when the one before was taken. */
function* inboxPages(
  sources: ExportSources,
  recipientId: string,
  now: string,
): Generator<readonly ExportedMessage[]> {
  const limit = sources.pageSize ?? 200;
  let after: { inboxAt: string; messageId: string } | undefined;
  for (;;) {
    const rows = sources.history.inboxPage(recipientId, after, limit);
    if (rows.length === 0) return;
    const byMessage = new Map<string, ExportedDelivery[]>();
    for (const row of sources.history.deliveriesOf(rows.map((r) => r.message_id))) {
      const list = byMessage.get(row.message_id) ?? [];
      list.push(delivery(row));
      byMessage.set(row.message_id, list);
    }
    yield rows.map((row) => message(row, byMessage.get(row.message_id) ?? [], now));
    const last = rows.at(-1);
    if (rows.length < limit || last === undefined) return;
    after = { inboxAt: last.inbox_at ?? last.created_at, messageId: last.message_id };
  }
}

/**
 * Everything Tidings holds about one person, for `GET /v1/me/export`: the account (never the
 * password hash), preferences, every binding, the devices with their secrets masked, every
 * message that reached the inbox with its deliveries, and the person's own complaints. Nothing of
 * anyone else: no other person, no app's secret or key, no complainant but the person. Messages
 * that never reached the inbox (held for review, refused by moderation, suppressed, not yet due,
 * cancelled) are left out: moderation and the person's own blocks kept them away, and the export
 * must not show them after all. Undefined when the account does not exist.
 */
export const exportPerson =
  (sources: ExportSources) =>
  (recipientId: string, now: string): PersonExport | undefined => {
    const account = sources.recipients.byId(recipientId);
    if (account === undefined) return undefined;
    return {
      head: {
        format: EXPORT_FORMAT,
        exportedAt: now,
        account: {
          recipientId: account.recipient_id,
          username: account.username,
          createdAt: account.registered_at,
        },
        preferences: sources.recipients.preferences(recipientId),
        bindings: sources.history.bindingsOf(recipientId).map(binding),
        devices: sources.recipients.devices(recipientId).map(device(sources.channels)),
        complaints: sources.complaints.ofRecipient(recipientId).map(complaint(sources.apps)),
      },
      inbox: inboxPages(sources, recipientId, now),
    };
  };

/** A JSON value indented by `depth` levels of two spaces (JSON.stringify never breaks a string). */
const indented = (value: unknown, depth: number): string =>
  JSON.stringify(value, null, 2).replaceAll('\n', `\n${'  '.repeat(depth)}`);

/**
 * The export as the text of one JSON document ({@link ExportDocument}, indented for people who
 * open the file), in chunks: the head first, then one chunk per page of the inbox, so the whole
 * inbox is never in memory at once.
 */
export function* exportJson(exported: PersonExport): Generator<string> {
  const head = indented(exported.head, 0);
  // The head is an object with members: open its last brace to add the inbox after them.
  yield `${head.slice(0, head.lastIndexOf('\n}'))},\n  "inbox": [`;
  let first = true;
  for (const page of exported.inbox) {
    if (page.length === 0) continue;
    const items = page.map((item) => `\n    ${indented(item, 2)}`).join(',');
    yield first ? items : `,${items}`;
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}

import * as t from 'io-ts';
import {
  EXPORT_FORMAT,
  exportJson,
  exportPerson,
  type ExportDocument,
} from '../../../application/export/exportPerson.js';
import { Preferences } from '../../../domain/recipient/recipientPreferences.js';
import type { ExportQueries } from '../../../projections/export/exportQueries.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';
import { DeliveryView } from './deliveryView.js';
import type { ApiDeps } from './deps.js';
import { DeviceView } from './deviceView.js';

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);
const BindingLevel = t.keyof({ strong: null, weak: null, none: null }, 'BindingLevel');

const ExportedBinding = t.type(
  {
    bindingId: t.string,
    appId: t.string,
    appName: t.string,
    openid: t.string,
    level: BindingLevel,
    blocked: t.boolean,
    mutedUntil: nullable(t.string),
    devices: nullable(t.readonlyArray(t.string)),
    status: t.keyof({ active: null, revoked: null }, 'BindingStatus'),
    authorizedAt: t.string,
    revokedAt: nullable(t.string),
    updatedAt: t.string,
  },
  'ExportedBinding',
);

const ExportedMessage = t.type(
  {
    messageId: t.string,
    appId: t.string,
    appName: t.string,
    bindingId: t.string,
    title: nullable(t.string),
    subtitle: nullable(t.string),
    body: t.string,
    url: nullable(t.string),
    thread: nullable(t.string),
    level: nullable(t.keyof({ active: null, timeSensitive: null, passive: null }, 'Level')),
    status: t.keyof(
      {
        submitted: null,
        held: null,
        rejected: null,
        scheduled: null,
        delivered: null,
        suppressed: null,
        cancelled: null,
        recalled: null,
      },
      'MessageStatus',
    ),
    sentAt: t.string,
    receivedAt: t.string,
    readAt: nullable(t.string),
    archivedAt: nullable(t.string),
    deliveries: t.readonlyArray(DeliveryView),
  },
  'ExportedMessage',
);

const ExportedComplaint = t.type(
  {
    complaintId: t.string,
    messageId: t.string,
    appId: t.string,
    appName: nullable(t.string),
    category: t.keyof({ spam: null, fraud: null, abuse: null, other: null }, 'ComplaintCategory'),
    reason: t.string,
    status: t.keyof(
      { open: null, upheld: null, dismissed: null, withdrawn: null },
      'ComplaintStatus',
    ),
    severity: nullable(t.keyof({ minor: null, major: null, severe: null }, 'Severity')),
    note: nullable(t.string),
    filedAt: t.string,
    decidedAt: nullable(t.string),
  },
  'ExportedComplaint',
);

/** The export document (application/export/exportPerson.ts), for the API document. */
const ExportDocumentCodec = t.type(
  {
    format: t.literal(EXPORT_FORMAT),
    exportedAt: t.string,
    account: t.type({ recipientId: t.string, username: t.string, createdAt: t.string }),
    preferences: Preferences,
    bindings: t.readonlyArray(ExportedBinding),
    devices: t.readonlyArray(DeviceView),
    complaints: t.readonlyArray(ExportedComplaint),
    inbox: t.readonlyArray(ExportedMessage),
  },
  'PersonExport',
);

/**
 * The export document as the API documents it. Its default compiles only while every document
 * the export writes fits the documented shape, so the two cannot drift apart.
 */
export type DocumentedExport<D extends t.TypeOf<typeof ExportDocumentCodec> = ExportDocument> = D;

/** A file name's characters that need no quoting or encoding anywhere. */
const PLAIN = /[^A-Za-z0-9._-]/g;

/**
 * `attachment` named `tidings-export-<username>-<YYYY-MM-DD>.json`. A username may be in any
 * script, and header values are Latin-1: the plain `filename` has `_` for what is not ASCII, and
 * `filename*` (RFC 6266, RFC 8187) carries the name in UTF-8 for the browsers, which prefer it.
 */
export const exportDisposition = (username: string, now: string): string => {
  const name = `tidings-export-${username}-${now.slice(0, 10)}.json`;
  const plain = name.replace(PLAIN, '_');
  return plain === name
    ? `attachment; filename="${name}"`
    : `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

/** What the export route reads besides the API's own queries. */
export interface ExportDeps extends ApiDeps {
  /** The read models' reads only the export needs (revoked bindings, the whole inbox). */
  readonly personData: ExportQueries;
}

/** The person's data export (docs/api.md, "Person's preferences": `GET /v1/me/export`). */
export const exportRoutes = (deps: ExportDeps): Route[] => {
  const assemble = exportPerson({
    recipients: deps.recipients,
    complaints: deps.complaints,
    apps: deps.apps,
    history: deps.personData,
    channels: deps.channels,
  });
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/export',
        tag: 'recipient',
        summary: 'Download everything Tidings holds about you',
        description: `One JSON document, format "${EXPORT_FORMAT}", as a file (Content-Disposition: attachment; filename="tidings-export-<username>-<YYYY-MM-DD>.json"): your account (never the password), preferences, every binding (revoked ones too), your devices with every secret setting as "********", every message that reached your inbox (archived, read, recalled and complained-about ones too) with its deliveries, newest first, and your complaints. Nothing of anyone else. Messages that never reached your inbox (held for review, refused by moderation, suppressed, not yet due, cancelled) are not in it. Written as it is read, a page of the inbox at a time.`,
        auth: 'recipient',
        errors: ['not_found'],
        responses: {
          200: { description: 'The export, as a file', body: ExportDocumentCodec },
        },
      },
      (request) => {
        const exported = assemble(request.caller.recipientId, request.now);
        if (exported === undefined) {
          throw new ProblemError('not_found', 'the account no longer exists');
        }
        return Promise.resolve({
          status: 200,
          headers: {
            'Content-Disposition': exportDisposition(exported.head.account.username, request.now),
          },
          stream: { contentType: 'application/json; charset=utf-8', chunks: exportJson(exported) },
        });
      },
    ),
  ];
};

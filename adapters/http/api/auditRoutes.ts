import * as t from 'io-ts';
import type { AuditEvent, AuditLog } from '../../../application/audit/auditLog.js';
import type { StateAsOf } from '../../../application/audit/stateAsOf.js';
import type { MessageTrail } from '../../../application/audit/trail.js';
import { IsoTime } from '../../../domain/shared/codecs.js';
import type { SignedHead } from '../../../domain/shared/hashChain.js';
import type { PublicSigningKey } from '../../security/headSignatures.js';
import { boundedString, queryInt, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';

/** What the audit routes need (docs/api.md, "Auditor"; docs/audit.md). */
export interface AuditDeps {
  readonly audit: AuditLog;
  /** Signs the current chain head (and appends it to the log), or gives the last one signed. */
  readonly signHead: (now: string) => Promise<SignedHead>;
  readonly signingKey: PublicSigningKey;
  /** An aggregate's state as of a time (application/audit/stateAsOf.ts). */
  readonly stateAsOf: (stream: string, asOf: string) => Promise<StateAsOf>;
  /** A message's causal trail (application/audit/trail.ts); undefined for an unknown message. */
  readonly trail: (messageId: string) => Promise<MessageTrail | undefined>;
}

/** The most events one page or one stream answer holds. */
const MAX_PAGE = 1_000;
/** The most events `GET /v1/audit/streams/:stream` lists (a longer stream is paged by events). */
const MAX_STREAM = 10_000;

const PositionText = boundedString('Position', {
  minLength: 1,
  maxLength: 16,
  pattern: /^[0-9]{1,15}$/,
  description: 'a log position, as given in an earlier answer',
});
const StreamName = boundedString('Stream', { minLength: 1, maxLength: 256 });
const TypeList = boundedString('EventTypes', {
  minLength: 1,
  maxLength: 2_000,
  pattern: /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/,
  description: 'one event type, or several separated by commas',
});

const EventsQuery = strictObject(
  'AuditEventsQuery',
  {},
  {
    after: PositionText,
    before: PositionText,
    limit: queryInt('Limit', { min: 1, max: MAX_PAGE }),
    type: TypeList,
    stream: StreamName,
    since: IsoTime,
    until: IsoTime,
  },
);
const StreamParams = strictObject('AuditStreamParams', { stream: StreamName });
const TrailParams = strictObject('AuditTrailParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 128 }),
});
const StreamQuery = strictObject('AuditStreamQuery', {}, { until: IsoTime });
const StateQuery = strictObject('AuditStateQuery', {}, { asOf: IsoTime });
const VerifyQuery = strictObject('AuditVerifyQuery', {}, { from: PositionText, to: PositionText });
const ExportQuery = strictObject('AuditExportQuery', {}, { since: IsoTime, until: IsoTime });

const Metadata = t.intersection(
  [
    t.type({
      occurredAt: t.string,
      actor: t.type({ kind: t.string, id: t.string }),
      correlationId: t.string,
      causationId: t.string,
    }),
    t.partial({ schemaVersion: t.number }),
  ],
  'AuditEventMetadata',
);
const AuditItem = t.type(
  {
    position: t.string,
    eventId: t.string,
    stream: t.string,
    revision: t.number,
    type: t.string,
    data: t.unknown,
    metadata: Metadata,
    dataDigest: t.string,
    previousHash: t.string,
    hash: t.string,
  },
  'AuditEvent',
);
const HeadCodec = t.type(
  { position: t.string, hash: t.string, signedAt: t.string, signature: t.string, keyId: t.string },
  'SignedHead',
);

/** An event as the audit routes and the export show it (hashes in hex). */
export const auditItem = (event: AuditEvent): t.TypeOf<typeof AuditItem> => ({
  position: String(event.position),
  eventId: event.eventId,
  stream: event.stream,
  revision: event.revision,
  type: event.type,
  data: JSON.parse(event.data) as unknown,
  metadata: JSON.parse(event.metadata) as t.TypeOf<typeof Metadata>,
  dataDigest: event.dataDigest.toString('hex'),
  previousHash: event.previousHash.toString('hex'),
  hash: event.hash.toString('hex'),
});

/** Times compare as the log writes them (`toISOString`, milliseconds): `…:00Z` → `…:00.000Z`. */
const storedTime = (time: string): string => new Date(time).toISOString();

const timeRange = (query: {
  readonly since?: string;
  readonly until?: string;
}): { since?: string; until?: string } => {
  const since = query.since === undefined ? undefined : storedTime(query.since);
  const until = query.until === undefined ? undefined : storedTime(query.until);
  if (since !== undefined && until !== undefined && since > until) {
    throw new ProblemError('validation_failed', 'since is after until', {
      errors: [{ path: '/query/since', message: 'must not be after until' }],
    });
  }
  return { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
};

/**
 * The read-only routes of auditors (docs/api.md, "Auditor"). Without `deps` (a log this build
 * does not chain) each answers 503 unavailable saying so.
 */
export const auditRoutes = (deps: AuditDeps | undefined): Route[] => {
  const need = (): AuditDeps => {
    if (deps === undefined) {
      throw new ProblemError('unavailable', 'the audit routes are not available on this server');
    }
    return deps;
  };
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/events',
        tag: 'auditor',
        summary: 'Events of the log, oldest first, with their hashes',
        description:
          'Pass next as after for the next page, previous as before for the one before. since and until compare with metadata.occurredAt; type takes one type or several, comma-separated.',
        auth: 'auditor',
        errors: ['unavailable'],
        query: EventsQuery,
        responses: {
          200: {
            description: 'A page of events; next and previous are null where there is no more',
            body: t.type({
              items: t.array(AuditItem),
              next: t.union([t.string, t.null]),
              previous: t.union([t.string, t.null]),
            }),
          },
        },
      },
      async (request) => {
        const { after, before, limit = 100, type, stream } = request.query;
        const items = await need().audit.events({
          ...(after === undefined ? {} : { after: Number(after) }),
          ...(before === undefined ? {} : { before: Number(before) }),
          limit,
          ...(type === undefined ? {} : { types: type.split(',') }),
          ...(stream === undefined ? {} : { stream }),
          ...timeRange(request.query),
        });
        const first = items[0];
        const last = items.at(-1);
        const backwards = before !== undefined && after === undefined;
        const full = items.length === limit;
        return {
          status: 200,
          body: {
            items: items.map(auditItem),
            next: last === undefined || (!full && !backwards) ? null : String(last.position),
            previous:
              first === undefined || (backwards ? !full : after === undefined)
                ? null
                : String(first.position),
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/streams/:stream',
        tag: 'auditor',
        summary: "One stream's events in revision order, up to a time",
        description: `At most ${MAX_STREAM} events. For a longer stream next is the position to go on from with /v1/audit/events?stream=…&after=next; null when the stream is whole.`,
        auth: 'auditor',
        params: StreamParams,
        query: StreamQuery,
        errors: ['not_found', 'unavailable'],
        responses: {
          200: {
            description: "The stream's events",
            body: t.type({
              stream: t.string,
              items: t.array(AuditItem),
              next: t.union([t.string, t.null]),
            }),
          },
        },
      },
      async (request) => {
        const { stream } = request.params;
        const items = await need().audit.events({
          stream,
          limit: MAX_STREAM,
          ...timeRange(request.query),
        });
        if (items.length === 0 && (await need().audit.events({ stream, limit: 1 })).length === 0) {
          throw new ProblemError('not_found', `no stream ${stream} in the log`);
        }
        const last = items.at(-1);
        return {
          status: 200,
          body: {
            stream,
            items: items.map(auditItem),
            next: items.length === MAX_STREAM && last !== undefined ? String(last.position) : null,
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/streams/:stream/state',
        tag: 'auditor',
        summary:
          "An aggregate's state as of a time, folded from its events by the server's decider",
        description:
          'The events of the stream up to the first that occurred after asOf (now by default). revision is the last one folded, -1 if the stream had none yet. A stream that is not an aggregate (app-, recipient-, binding-, message-, complaint-) or not in the log is 404.',
        auth: 'auditor',
        params: StreamParams,
        query: StateQuery,
        errors: ['not_found', 'unavailable'],
        responses: {
          200: {
            description: 'The state',
            body: t.type({ stream: t.string, revision: t.number, state: t.unknown }),
          },
        },
      },
      async (request) => {
        const { stream } = request.params;
        const asOf = storedTime(request.query.asOf ?? request.now);
        const found = await need().stateAsOf(stream, asOf);
        if (found.kind !== 'state') {
          throw new ProblemError(
            'not_found',
            found.kind === 'no_stream'
              ? `no stream ${stream} in the log`
              : `${stream} is not the stream of an aggregate`,
          );
        }
        return { status: 200, body: { stream, revision: found.revision, state: found.state } };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/trail/:messageId',
        tag: 'auditor',
        summary: "A message's causal trail, in log order",
        description:
          "Its submission, moderation (with the policy), routing, every delivery attempt with the channel's answer, recall, the complaints about it, and the reactions that follow from any of them by causationId (reputation, suspensions). bindingAtRouting is the binding's state folded from its events before the routing, as the router read it; null when the message was not routed.",
        auth: 'auditor',
        params: TrailParams,
        errors: ['not_found', 'unavailable'],
        responses: {
          200: {
            description: 'The trail',
            body: t.type({
              messageId: t.string,
              items: t.array(AuditItem),
              bindingAtRouting: t.union([
                t.type({ stream: t.string, revision: t.number, state: t.unknown }),
                t.null,
              ]),
            }),
          },
        },
      },
      async (request) => {
        const { messageId } = request.params;
        const trail = await need().trail(messageId);
        if (trail === undefined)
          throw new ProblemError('not_found', `no message ${messageId} in the log`);
        return {
          status: 200,
          body: {
            messageId,
            items: trail.items.map(auditItem),
            bindingAtRouting: trail.bindingAtRouting ?? null,
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/verify',
        tag: 'auditor',
        summary: 'Recompute the hash chain and name the first bad position',
        description:
          'from and to bound the events checked (both included); the event before from is trusted. Signed heads in the range are checked against the chain and the server key. On EventStoreDB the chain is a sealed copy of the log: the log is also compared with it, and unsealed counts the events written after the last sealed one.',
        auth: 'auditor',
        errors: ['unavailable'],
        query: VerifyQuery,
        responses: {
          200: {
            description: 'What the check found: ok false names the first bad position and why',
            body: t.intersection([
              t.type({
                ok: t.boolean,
                checked: t.number,
                headsChecked: t.number,
                head: t.type({ position: t.string, hash: t.string }),
              }),
              t.partial({
                firstBadPosition: t.string,
                fault: t.string,
                reason: t.string,
                unsealed: t.number,
              }),
            ]),
          },
        },
      },
      async (request) => {
        const { from, to } = request.query;
        if (from !== undefined && to !== undefined && Number(from) > Number(to)) {
          throw new ProblemError('validation_failed', 'from is after to', {
            errors: [{ path: '/query/from', message: 'must not be after to' }],
          });
        }
        const report = await need().audit.verify({
          ...(from === undefined ? {} : { from: Number(from) }),
          ...(to === undefined ? {} : { to: Number(to) }),
        });
        return {
          status: 200,
          body: {
            ok: report.ok,
            checked: report.checked,
            headsChecked: report.headsChecked,
            head: {
              position: String(report.head.position),
              hash: report.head.hash.toString('hex'),
            },
            ...(report.firstBadPosition === undefined
              ? {}
              : { firstBadPosition: String(report.firstBadPosition) }),
            ...(report.fault === undefined ? {} : { fault: report.fault }),
            ...(report.reason === undefined ? {} : { reason: report.reason }),
            ...(report.unsealed === undefined ? {} : { unsealed: report.unsealed }),
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/head',
        tag: 'auditor',
        summary: "The chain head signed with the server's Ed25519 key",
        description:
          'Signed now (and appended to the log as an AuditHeadSigned event) unless the last signed head is still the head. The signature is over "tidings-head-v1\\n<position>\\n<hash>\\n<signedAt>" (docs/audit.md).',
        auth: 'auditor',
        errors: ['unavailable'],
        responses: { 200: { description: 'The signed head', body: HeadCodec } },
      },
      async (request) => {
        const head = await need().signHead(request.now);
        return { status: 200, body: { ...head, position: String(head.position) } };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/key',
        tag: 'auditor',
        summary: "The public half of the server's head-signing key (SPKI PEM)",
        auth: 'auditor',
        errors: ['unavailable'],
        responses: {
          200: {
            description: 'The key and its id',
            body: t.type({ keyId: t.string, publicKey: t.string }),
          },
        },
      },
      () => Promise.resolve({ status: 200, body: need().signingKey }),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/audit/export',
        tag: 'auditor',
        summary: 'The log as NDJSON, one event a line with its hashes',
        description:
          'Every event from the first that occurred at or after since to the last that occurred at or before until, with nothing left out in between, so that `npm run audit -- verify --file` checks it offline.',
        auth: 'auditor',
        errors: ['unavailable'],
        query: ExportQuery,
        responses: {
          200: { description: 'One JSON event a line', mediaType: 'application/x-ndjson' },
        },
      },
      async (request) => {
        const { audit } = need();
        const range = await audit.positionRange(timeRange(request.query));
        // A page of the log is read when the client has taken the lines before it.
        const lines = async function* (): AsyncIterable<string> {
          if (range === undefined) return;
          for await (const event of audit.scan({ after: range.first - 1 })) {
            if (event.position > range.last) return;
            yield `${JSON.stringify(auditItem(event))}\n`;
          }
        };
        return {
          status: 200,
          stream: { contentType: 'application/x-ndjson; charset=utf-8', chunks: lines() },
        };
      },
    ),
  ];
};

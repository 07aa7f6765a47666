import {
  ANY,
  ErrorType,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
} from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AppendExpectedRevision,
  CurrentRevision,
  EventData,
  JSONType,
  Position as EsdbPosition,
  ResolvedEvent,
} from '@eventstore/db-client';
import type {
  Actor,
  EventMetadata,
  ExpectedRevision,
  NewEvent,
  Position,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../domain/shared/eventStore.js';
import { NO_STREAM_REVISION, comparePositions } from '../../domain/shared/eventStore.js';

/**
 * Pure conversions between the domain's event store port and `@eventstore/db-client` v6.
 * Nothing here does I/O, so all of it is unit-tested without a server.
 */

/**
 * Converts a bigint revision from the client into a port number. Revisions past 2^53 cannot be
 * represented exactly; silently rounding one would corrupt optimistic concurrency, so it throws.
 */
export const revisionToNumber = (revision: bigint): number => {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER) || revision < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(
      `stream revision ${revision.toString()} does not fit in a JavaScript number`,
    );
  }
  return Number(revision);
};

/**
 * The client's expected-revision value for a port `ExpectedRevision`. The port also accepts
 * `-1` (its number for "no stream"), which EventStoreDB only understands as `no_stream`.
 */
export const toClientExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (expected === NO_STREAM_REVISION) return NO_STREAM;
      // Anything else below -1, or a fraction, is a caller bug; the server would reject it less clearly.
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new RangeError(
          `expected revision must be a non-negative integer or -1, got ${String(expected)}`,
        );
      }
      return BigInt(expected);
  }
};

/**
 * The port's view of a stream's current revision as the client reports it. The client says
 * `'no_stream'` when the stream is absent, but the legacy error path (`actual-version` gRPC
 * metadata) and `throwOnAppendFailure: false` results use `-1n` for the same thing.
 */
export const fromClientCurrentRevision = (current: CurrentRevision): number | 'no_stream' =>
  current === NO_STREAM || current < 0n ? 'no_stream' : revisionToNumber(current);

/**
 * True for the client's wrong-expected-version error. Checks the `type` tag as well as the class,
 * so a second copy of the client package in `node_modules` does not turn a conflict into a crash.
 */
export const isWrongExpectedVersionError = (error: unknown): error is WrongExpectedVersionError =>
  error instanceof WrongExpectedVersionError ||
  (error instanceof Error &&
    (error as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION);

/** True for the client's stream-not-found error (a read of a stream that was never written). */
export const isStreamNotFoundError = (error: unknown): error is StreamNotFoundError =>
  error instanceof StreamNotFoundError ||
  (error instanceof Error && (error as { type?: unknown }).type === ErrorType.STREAM_NOT_FOUND);

/**
 * Maps the client's conflict error to the port's `WrongExpectedRevision`.
 *
 * `stream` and `expected` come from the caller rather than from the error: the caller's values
 * are already in port terms, whereas the error's `expectedVersion` arrives as a legacy negative
 * code (`-1n`, `-2n`, `-4n`) when the server reports the conflict through gRPC metadata.
 */
export const toWrongExpectedRevision = (
  error: Pick<WrongExpectedVersionError, 'actualVersion'>,
  stream: string,
  expected: ExpectedRevision,
): WrongExpectedRevision => ({
  kind: 'wrong_expected_revision',
  stream,
  expected,
  actual: fromClientCurrentRevision(error.actualVersion),
});

/** The port's conflict value when the current revision has been learned some other way. */
export const wrongExpectedRevision = (
  stream: string,
  expected: ExpectedRevision,
  actual: number | 'no_stream',
): WrongExpectedRevision => ({ kind: 'wrong_expected_revision', stream, expected, actual });

/**
 * True for the client's max-append-size error (the server refused an append over its
 * `MaxAppendSize`). Checks the `type` tag as well as the class, like the conflict check above.
 */
export const isMaxAppendSizeExceededError = (error: unknown): error is MaxAppendSizeExceededError =>
  error instanceof MaxAppendSizeExceededError ||
  (error instanceof Error &&
    (error as { type?: unknown }).type === ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED);

/** Copies a client position into a port position (the client's type is mutable). */
export const toPosition = (position: EsdbPosition): Position => ({
  commit: position.commit,
  prepare: position.prepare,
});

/**
 * The largest part of a real log position. The server keeps positions as signed 64-bit numbers
 * and sends -1 ("not known") cast to an unsigned one, 2^64-1; nothing above 2^63-1 is a place in
 * the log.
 */
const MAX_LOG_POSITION = 2n ** 63n - 1n;

/**
 * The port position for a position the client reports, or `undefined` when there is none or it
 * is the server's "unknown position" (2^64-1 in either part). Taking that marker for a real
 * position would put it after every event there will ever be: a read-your-writes wait for it
 * would be satisfied by nothing, and one that recorded it would be satisfied by everything.
 */
export const toKnownPosition = (position: EsdbPosition | undefined): Position | undefined =>
  position === undefined ||
  position.commit < 0n ||
  position.prepare < 0n ||
  position.commit > MAX_LOG_POSITION ||
  position.prepare > MAX_LOG_POSITION
    ? undefined
    : toPosition(position);

/** Copies a port position into the client's mutable `Position`. */
export const toClientPosition = (position: Position): EsdbPosition => ({
  commit: position.commit,
  prepare: position.prepare,
});

/** True when `position` comes strictly after `after`; everything is after an absent position. */
export const isAfter = (position: Position, after: Position | undefined): boolean =>
  after === undefined || comparePositions(position, after) > 0;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The event id as EventStoreDB will store it: a UUID in lower case. The server parses ids as
 * UUIDs and gives them back in lower case, so an upper-case id would not compare equal to itself
 * after a round trip (and the idempotency check would miss it). Anything that is not a UUID, and
 * the nil UUID (the server refuses an empty id), is a caller bug and throws.
 */
export const toEventId = (id: string): string => {
  const lower = id.toLowerCase();
  if (!UUID_PATTERN.test(lower) || lower === NIL_UUID) {
    throw new RangeError(`event id must be a non-nil UUID (8-4-4-4-12 hex digits), got ${id}`);
  }
  return lower;
};

/**
 * The client's JSON event for a port event. The port's metadata object is stored as the event's
 * custom metadata, so other EventStoreDB tools (the UI, projections) see it as ordinary JSON. The
 * correlation and causation ids are also written under EventStoreDB's own names,
 * `$correlationId` and `$causationId`, which its `$by_correlation_id` projection and its UI read;
 * `decodeMetadata` leaves those copies out again.
 */
export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({
    id: toEventId(event.id),
    type: event.type,
    // The port types data as `unknown`; the codecs at the edge guarantee it is JSON.
    data: event.data as JSONType,
    metadata: {
      ...event.metadata,
      $correlationId: event.metadata.correlationId,
      $causationId: event.metadata.causationId,
    },
  });

/** The server's default `MaxAppendSize`: 1 MiB per append. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

const jsonBytes = (value: unknown): number => {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
};

const payloadBytes = (payload: unknown): number =>
  payload === undefined ? 0 : payload instanceof Uint8Array ? payload.length : jsonBytes(payload);

/**
 * What the server counts against `MaxAppendSize` for these events, as the client will send them:
 * data and metadata bytes (JSON as UTF-8) plus two bytes per character of the event type. That is
 * the newest servers' rule (`Event.SizeOnDisk`); 22.10 counts data only, so this is never less
 * than any supported server counts.
 */
export const appendSize = (events: readonly EventData[]): number =>
  events.reduce(
    (sum, event) =>
      sum + payloadBytes(event.data) + payloadBytes(event.metadata) + event.type.length * 2,
    0,
  );

const ACTOR_KINDS: ReadonlySet<string> = new Set<Actor['kind']>([
  'app',
  'recipient',
  'operator',
  'system',
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Uint8Array);

/**
 * Reads back the metadata the client parsed from an event. Returns `undefined` when it is not
 * the shape Tidings writes (missing, binary, or a foreign event), so the caller decides what an
 * unreadable event means instead of the rest of the system meeting a half-typed object.
 */
export const decodeMetadata = (raw: unknown): EventMetadata | undefined => {
  if (!isRecord(raw)) return undefined;
  const { occurredAt, actor, correlationId, causationId, schemaVersion, node } = raw;
  if (
    typeof occurredAt !== 'string' ||
    typeof correlationId !== 'string' ||
    typeof causationId !== 'string'
  ) {
    return undefined;
  }
  if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion)) return undefined;
  if (!isRecord(actor) || typeof actor['kind'] !== 'string' || typeof actor['id'] !== 'string')
    return undefined;
  if (!ACTOR_KINDS.has(actor['kind'])) return undefined;
  if (node !== undefined && typeof node !== 'string') return undefined;
  return {
    occurredAt,
    actor: { kind: actor['kind'] as Actor['kind'], id: actor['id'] },
    correlationId,
    causationId,
    schemaVersion,
    // Written by the shared store with several nodes; absent otherwise, and kept absent.
    ...(node === undefined ? {} : { node }),
  };
};

/**
 * The port's `RecordedEvent` for an event the client read or received.
 *
 * Returns `undefined` for a resolved link whose target is gone (`event` absent). Throws when the
 * event lacks a known position (EventStoreDB before 22.6 does not send one on stream reads, and
 * the server marks one it does not know as 2^64-1, see `toKnownPosition`) or lacks
 * Tidings metadata: the port promises both, and a made-up value would poison checkpoints and audits.
 */
export const toRecordedEvent = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): RecordedEvent | undefined => {
  const event = resolved.event;
  if (event === undefined) return undefined;
  const position = toKnownPosition(event.position);
  if (position === undefined) {
    throw new Error(
      `event ${event.id} in ${event.streamId} came without a known log position; EventStoreDB 22.6 or later is required`,
    );
  }
  const metadata = decodeMetadata(event.metadata);
  if (metadata === undefined) {
    throw new Error(
      `event ${event.id} in ${event.streamId} (${event.type}) does not carry Tidings event metadata`,
    );
  }
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata,
    stream: event.streamId,
    revision: revisionToNumber(event.revision),
    position,
  };
};

/** True for EventStoreDB's own events (`$>` links, `$metadata`, `$statsCollected`, …). */
export const isSystemEventType = (type: string): boolean => type.startsWith('$');

/**
 * True for EventStoreDB's own streams (`$stats-…`, `$persistentsubscription-…`, `$$…` metadata
 * streams, projection output). Projections and tools may write events of ordinary types there,
 * which carry no Tidings metadata, so the type alone does not keep them out.
 */
export const isSystemStream = (stream: string): boolean => stream.startsWith('$');

/**
 * Whether a `$all` event belongs in the port's global log and in a read or subscription with the
 * given type list: neither its type nor its stream may be a system one.
 */
export const isWantedEvent = (
  event: { readonly type: string; readonly streamId: string },
  eventTypes: readonly string[] | undefined,
): boolean => !isSystemStream(event.streamId) && isWantedEventType(event.type, eventTypes);

/**
 * Whether an event of `type` belongs in a read or subscription with the given type list. System
 * events never do: the port's global log is the application's events only.
 */
export const isWantedEventType = (
  type: string,
  eventTypes: readonly string[] | undefined,
): boolean => !isSystemEventType(type) && (eventTypes === undefined || eventTypes.includes(type));

/**
 * Escapes every regex metacharacter, so a type name matches itself literally. The server applies
 * the filter with .NET regex, where a backslash before any of these characters is also a literal.
 */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The server-side event-type filter regex for a list of types: anchored, so `Approved` does not
 * also match `MessageApproved`. An empty list yields a regex that matches no type, like the
 * client-side filter, instead of one that matches every type.
 */
export const eventTypeRegex = (eventTypes: readonly string[]): string =>
  eventTypes.length === 0 ? '^(?!)$' : `^(?:${eventTypes.map(escapeRegex).join('|')})$`;

/** The largest page `readAll` asks the server for: bounds memory per round trip. */
export const MAX_READ_ALL_PAGE = 4_096;

/**
 * Size of the first `readAll` page. One more than asked for, because the server's start
 * position is inclusive and the event at `after` is dropped; at least 16 so a small request
 * still steps over a few system events in one round trip.
 */
export const firstReadAllPageSize = (maxCount: number): number =>
  Math.min(Math.max(maxCount + 1, 16), MAX_READ_ALL_PAGE);

/**
 * Size of the next `readAll` page: doubles, so a sparse type filter or a run of system events
 * costs few round trips, without fetching thousands of events for a request of ten.
 */
export const nextReadAllPageSize = (current: number): number =>
  Math.min(current * 2, MAX_READ_ALL_PAGE);

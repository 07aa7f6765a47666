import {
  ANY,
  ErrorType,
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

/** Copies a client position into a port position (the client's type is mutable). */
export const toPosition = (position: EsdbPosition): Position => ({
  commit: position.commit,
  prepare: position.prepare,
});

/** Copies a port position into the client's mutable `Position`. */
export const toClientPosition = (position: Position): EsdbPosition => ({
  commit: position.commit,
  prepare: position.prepare,
});

/** True when `position` comes strictly after `after`; everything is after an absent position. */
export const isAfter = (position: Position, after: Position | undefined): boolean =>
  after === undefined || comparePositions(position, after) > 0;

/**
 * The client's JSON event for a port event. The port's metadata object is stored as the event's
 * custom metadata, so other EventStoreDB tools (the UI, projections) see it as ordinary JSON.
 */
export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({
    id: event.id,
    type: event.type,
    // The port types data as `unknown`; the codecs at the edge guarantee it is JSON.
    data: event.data as JSONType,
    metadata: { ...event.metadata },
  });

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
  const { occurredAt, actor, correlationId, causationId, schemaVersion } = raw;
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
  return {
    occurredAt,
    actor: { kind: actor['kind'] as Actor['kind'], id: actor['id'] },
    correlationId,
    causationId,
    schemaVersion,
  };
};

/**
 * The port's `RecordedEvent` for an event the client read or received.
 *
 * Returns `undefined` for a resolved link whose target is gone (`event` absent). Throws when the
 * event lacks a position (EventStoreDB before 22.6 does not send one on stream reads) or lacks
 * Tidings metadata: the port promises both, and a made-up value would poison checkpoints and audits.
 */
export const toRecordedEvent = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): RecordedEvent | undefined => {
  const event = resolved.event;
  if (event === undefined) return undefined;
  if (event.position === undefined) {
    throw new Error(
      `event ${event.id} in ${event.streamId} came without a log position; EventStoreDB 22.6 or later is required`,
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
    position: toPosition(event.position),
  };
};

/** True for EventStoreDB's own events (`$>` links, `$metadata`, `$statsCollected`, …). */
export const isSystemEventType = (type: string): boolean => type.startsWith('$');

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

import type { Either } from 'fp-ts/lib/Either.js';

/**
 * The event store port. The domain owns this interface; the SQLite and EventStoreDB adapters
 * implement it, and one contract suite (`eventStoreContract.ts` among the tests) holds every
 * implementation to the same behaviour.
 *
 * Numbering follows EventStoreDB: a stream that does not exist has revision -1, its first event
 * has revision 0. Global positions are `{ commit, prepare }` pairs as in EventStoreDB; the embedded
 * store uses its log sequence number for both.
 */
export interface EventStore {
  /** Events of one stream in revision order; an absent stream reads as an empty list. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<readonly RecordedEvent[]>;

  /**
   * Appends events atomically if the stream is at `expectedRevision`. Appending event ids that are
   * already stored, in the same stream, returns the first append's result and writes nothing.
   * A revision mismatch is an expected outcome, returned as `Left<WrongExpectedRevision>`.
   */
  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<Either<WrongExpectedRevision, AppendResult>>;

  /** Events of every stream in global order, strictly after `after` (from the start if absent). */
  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]>;

  /** Position of the last event in the global log (system events excluded); undefined when empty. */
  headPosition(): Promise<Position | undefined>;

  /**
   * Catches up from `after` (exclusive) and then follows new events live, yielding them in
   * batches in global order. Ends when `close()` is called.
   */
  subscribe(options: SubscribeOptions): Subscription;

  /** Releases connections; subscriptions end. */
  close(): Promise<void>;
}

/** `any`: no check; `no_stream`: the stream must not exist; `stream_exists`: it must; a number: its last revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** The revision of a stream that has no events. */
export const NO_STREAM_REVISION = -1;

/** Whether a stream at revision `current` (-1: absent) is where `expected` asks it to be. */
export const revisionMatches = (expected: ExpectedRevision, current: number): boolean => {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === NO_STREAM_REVISION;
    case 'stream_exists':
      return current !== NO_STREAM_REVISION;
    default:
      return expected === current;
  }
};

export interface AppendOptions {
  readonly expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event of the stream after the append. */
  readonly nextRevision: number;
  /** Global position of the last appended event. */
  readonly position: Position;
}

/** The stream was not where the caller expected it: someone else appended first. */
export interface WrongExpectedRevision {
  readonly kind: 'wrong_expected_revision';
  readonly stream: string;
  readonly expected: ExpectedRevision;
  /** Actual last revision, or `no_stream` when the stream does not exist. */
  readonly actual: number | 'no_stream';
}

export interface ReadStreamOptions {
  /** First revision to read (inclusive); default 0. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  readonly after?: Position;
  readonly maxCount: number;
  /** Only these event types; all types when absent. */
  readonly eventTypes?: readonly string[];
}

export interface SubscribeOptions {
  readonly after?: Position;
  readonly eventTypes?: readonly string[];
  /** Upper bound on the size of one yielded batch; default 1,000. */
  readonly maxBatchSize?: number;
}

/** A live feed of batches; `close()` ends the iteration. */
export interface Subscription extends AsyncIterable<readonly RecordedEvent[]> {
  close(): Promise<void>;
}

/** A position in the global log (EventStoreDB's commit/prepare pair). */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** Who caused an event. */
export interface Actor {
  readonly kind: 'app' | 'recipient' | 'operator' | 'system';
  readonly id: string;
}

/** Facts every stored event carries besides its data. */
export interface EventMetadata {
  /** ISO 8601 UTC time the command was decided. */
  readonly occurredAt: string;
  readonly actor: Actor;
  /** The id shared by every event that one outside request led to. */
  readonly correlationId: string;
  /** The id of the command or event that directly caused this one. */
  readonly causationId: string;
  /** Version of the event's data schema; bump it instead of renaming an event type. */
  readonly schemaVersion: number;
  /**
   * With several nodes: the node that appended the event (`TIDINGS_NODE_ID`), stamped by the
   * shared store, so an auditor sees where each reaction ran. Absent on a single node.
   */
  readonly node?: string;
}

/** An event about to be appended. `id` is deterministic (see `eventIdFor`), so retries dedupe. */
export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/** An event as stored. */
export interface RecordedEvent extends NewEvent {
  readonly stream: string;
  readonly revision: number;
  readonly position: Position;
}

/** Encodes a position as `commit:prepare`, the text form used in checkpoints and URLs. */
export const encodePosition = (position: Position): string =>
  `${position.commit.toString()}:${position.prepare.toString()}`;

/** Parses the text form of a position; `undefined` if it is not one. */
export const decodePosition = (text: string): Position | undefined => {
  const match = /^(\d{1,20}):(\d{1,20})$/.exec(text);
  if (match === null) return undefined;
  return { commit: BigInt(match[1] ?? '0'), prepare: BigInt(match[2] ?? '0') };
};

/** Orders positions; negative when `a` comes first. */
export const comparePositions = (a: Position, b: Position): number =>
  a.commit === b.commit ? Number(a.prepare - b.prepare) : a.commit < b.commit ? -1 : 1;

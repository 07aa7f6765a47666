import { PassThrough, Readable } from 'node:stream';
import {
  BACKWARDS,
  END,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
} from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AppendResult as ClientAppendResult,
  AppendToStreamOptions,
  EventData,
  ReadAllOptions as ClientReadAllOptions,
  ReadStreamOptions as ClientReadStreamOptions,
  SubscribeToAllOptions,
} from '@eventstore/db-client';
import type { EventMetadata, NewEvent, RecordedEvent } from '../../../domain/shared/eventStore.js';
import { comparePositions } from '../../../domain/shared/eventStore.js';
import type {
  EsdbClient,
  EsdbEventStoreOptions,
} from '../../../adapters/eventstoredb/esdbEventStore.js';

/**
 * A stand-in for the EventStoreDB client at its gRPC boundary, shared by the adapter's stub-client
 * tests, and the fixtures they feed it.
 */

// The stub-client tests drive the adapter's own logic (paging, skipping, conflict handling,
// subscription plumbing) against a stand-in that behaves like the v6 client as read in its dist/
// sources:
// reads are object-mode Readables with `cancel()`, an absent stream errors during iteration,
// `$all` reads start at their position inclusively, subscriptions are Readables with
// `unsubscribe()`, failures arrive as the client's typed errors (built here as its
// `convertToCommandError` builds them from a gRPC status). Whether the real server behaves so is
// the contract suite's job.

export const metadata: EventMetadata = {
  occurredAt: '2026-11-24T10:00:00.000Z',
  actor: { kind: 'system', id: 'test' },
  correlationId: 'corr',
  causationId: 'cause',
  schemaVersion: 1,
};

export const newEvent = (n: number, type = 'Thing'): NewEvent => ({
  id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
  type,
  data: { n },
  metadata,
});

/** A `$all` entry at commit = prepare = `at`. */
export const logEntry = (
  at: number,
  type: string,
  stream = 's',
  revision = 0,
): AllStreamResolvedEvent => ({
  event: {
    streamId: stream,
    id: `00000000-0000-4000-8000-${at.toString().padStart(12, '0')}`,
    revision: BigInt(revision),
    type,
    data: { at },
    // System events, and events of system streams, carry metadata that is not Tidings metadata.
    metadata: type.startsWith('$') || stream.startsWith('$') ? { $v: '1' } : { ...metadata },
    isJson: true,
    created: new Date(0),
    position: { commit: BigInt(at), prepare: BigInt(at) },
  },
});

/** The server's "unknown position" (-1 sent as an unsigned 64-bit number). */
export const UNKNOWN = 2n ** 64n - 1n;

/**
 * A gRPC status as the client receives it, for the client's error classes that read their
 * details from its metadata (`NotLeaderError`, `TimeoutError` from status ABORTED, …).
 */
export const serviceError = (
  code: number,
  details: string,
  metadata: Record<string, string> = {},
): ConstructorParameters<typeof NotLeaderError>[0] =>
  Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { getMap: () => metadata },
  }) as unknown as ConstructorParameters<typeof NotLeaderError>[0];

/** What a 22.x server sends when a paused subscription overflows its live buffer (ABORTED). */
export const consumerTooSlow = (): TimeoutError =>
  new TimeoutError(
    serviceError(
      10,
      'ABORTED: Operation timed out: Consumer too slow to handle event while live. Client resubscription required.',
    ),
  );

export const notLeader = (): NotLeaderError =>
  new NotLeaderError(
    serviceError(5, 'NOT_FOUND: Leader info available', {
      exception: 'not-leader',
      'leader-endpoint-host': 'node-2',
      'leader-endpoint-port': '2113',
    }),
  );

/**
 * A client read: its items, or a failure; `cancel()` is counted through `onCancel`, as the real
 * `ReadStream.cancel()` cancels the gRPC call under it.
 */
export const streamingRead = (
  items: readonly unknown[],
  failWith?: Error,
  onCancel: () => void = () => undefined,
): Readable & { cancel(): Promise<void> } => {
  const readable = failWith
    ? new Readable({
        objectMode: true,
        read() {
          this.destroy(failWith);
        },
      })
    : Readable.from(items);
  return Object.assign(readable, {
    cancel: () => {
      onCancel();
      return Promise.resolve();
    },
  });
};

export interface Stub {
  readonly client: EsdbClient;
  readonly appends: Array<{
    stream: string;
    events: EventData[];
    options: AppendToStreamOptions | undefined;
  }>;
  readonly streamReads: Array<{ stream: string; options: ClientReadStreamOptions | undefined }>;
  readonly allReads: ClientReadAllOptions[];
  /** Reads whose gRPC call was cancelled: `stream:<name>` or `$all`. */
  readonly cancels: string[];
  readonly subscriptions: Array<{
    options: SubscribeToAllOptions | undefined;
    source: PassThrough;
    unsubscribed: number;
  }>;
  disposed: number;
}

export const stub = (behaviour: {
  append?: (stream: string, events: EventData[]) => Promise<ClientAppendResult>;
  streams?: Record<string, readonly AllStreamResolvedEvent[]>;
  log?: readonly AllStreamResolvedEvent[];
}): Stub => {
  const state: Stub = {
    appends: [],
    streamReads: [],
    allReads: [],
    cancels: [],
    subscriptions: [],
    disposed: 0,
    client: undefined as unknown as EsdbClient,
  };
  const client = {
    appendToStream: (
      stream: string,
      events: EventData | EventData[],
      options?: AppendToStreamOptions,
    ) => {
      const list = Array.isArray(events) ? events : [events];
      state.appends.push({ stream, events: list, options });
      return behaviour.append?.(stream, list) ?? Promise.reject(new Error('no append behaviour'));
    },
    readStream: (stream: string, options?: ClientReadStreamOptions) => {
      state.streamReads.push({ stream, options });
      const events = behaviour.streams?.[stream];
      const onCancel = () => state.cancels.push(`stream:${stream}`);
      if (events === undefined)
        return streamingRead([], new StreamNotFoundError(undefined, stream), onCancel);
      let selected = [...events];
      const from = options?.fromRevision ?? START;
      if (options?.direction === BACKWARDS) {
        selected.reverse();
        if (typeof from === 'bigint')
          selected = selected.filter((e) => (e.event?.revision ?? 0n) <= from);
      } else if (typeof from === 'bigint') {
        selected = selected.filter((e) => (e.event?.revision ?? 0n) >= from);
      }
      return streamingRead(
        selected.slice(0, Number(options?.maxCount ?? Number.MAX_SAFE_INTEGER)),
        undefined,
        onCancel,
      );
    },
    readAll: (options: ClientReadAllOptions = {}) => {
      state.allReads.push(options);
      const from = options.fromPosition ?? START;
      const onCancel = () => state.cancels.push('$all');
      if (options.direction === BACKWARDS) {
        // Only from the end, as headPosition reads.
        const log = from === END ? [...(behaviour.log ?? [])].reverse() : [];
        return streamingRead(
          log.slice(0, Number(options.maxCount ?? log.length)),
          undefined,
          onCancel,
        );
      }
      const log = behaviour.log ?? [];
      const start =
        from === START
          ? 0
          : from === END
            ? log.length
            : log.findIndex((e) => comparePositions(e.event!.position, from) >= 0);
      const page =
        start < 0 ? [] : log.slice(start, start + Number(options.maxCount ?? log.length));
      return streamingRead(page, undefined, onCancel);
    },
    subscribeToAll: (options?: SubscribeToAllOptions) => {
      const record = { options, source: new PassThrough({ objectMode: true }), unsubscribed: 0 };
      state.subscriptions.push(record);
      return Object.assign(record.source, {
        unsubscribe: () => {
          record.unsubscribed += 1;
          return Promise.resolve();
        },
      });
    },
    dispose: () => {
      state.disposed += 1;
      return Promise.resolve();
    },
  };
  return Object.assign(state, { client: client });
};

export const ok = (nextExpectedRevision: bigint, at?: number): ClientAppendResult => ({
  success: true,
  nextExpectedRevision,
  ...(at === undefined ? {} : { position: { commit: BigInt(at), prepare: BigInt(at) } }),
});

/** Resubscriptions after 1 ms, so tests do not wait for the production backoff. */
export const fastRetries: EsdbEventStoreOptions = {
  resubscribe: { baseDelayMs: 1, maxDelayMs: 1 },
};

/** The commits of a batch, or of nothing when the iteration ended. */
export const commits = (next: IteratorResult<readonly RecordedEvent[]>): number[] =>
  next.done === true ? [] : next.value.map((e) => Number(e.position.commit));

export const bigints = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? value.toString() : value;

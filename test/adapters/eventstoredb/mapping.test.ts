import { expect } from 'chai';
import {
  ANY,
  ErrorType,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  binaryEvent,
  jsonEvent,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent, ResolvedEvent } from '@eventstore/db-client';
import type { EventMetadata, NewEvent } from '../../../domain/shared/eventStore.js';
import {
  DEFAULT_MAX_APPEND_SIZE,
  appendSize,
  decodeMetadata,
  escapeRegex,
  eventTypeRegex,
  firstReadAllPageSize,
  fromClientCurrentRevision,
  isAfter,
  isMaxAppendSizeExceededError,
  isStreamNotFoundError,
  isSystemEventType,
  isSystemStream,
  isWantedEvent,
  isWantedEventType,
  isWrongExpectedVersionError,
  MAX_READ_ALL_PAGE,
  nextReadAllPageSize,
  revisionToNumber,
  toClientExpectedRevision,
  toClientPosition,
  toEventData,
  toEventId,
  toKnownPosition,
  toPosition,
  toRecordedEvent,
  toWrongExpectedRevision,
  wrongExpectedRevision,
} from '../../../adapters/eventstoredb/mapping.js';

const metadata: EventMetadata = {
  occurredAt: '2026-11-24T10:00:00.000Z',
  actor: { kind: 'app', id: 'app-1' },
  correlationId: 'corr-1',
  causationId: 'cmd-1',
  schemaVersion: 2,
};

/** A resolved event shaped exactly as the client's `convertGrpcRecord` builds one. */
const resolvedJson = (overrides: Record<string, unknown> = {}): AllStreamResolvedEvent => ({
  event: {
    streamId: 'message-42',
    id: '0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab',
    revision: 7n,
    type: 'MessageSubmitted',
    data: { title: '到达通知' },
    metadata: { ...metadata },
    isJson: true,
    created: new Date(0),
    position: { commit: 1_000n, prepare: 990n },
    ...overrides,
  },
  commitPosition: 1_000n,
});

describe('eventstoredb mapping', () => {
  describe('toClientExpectedRevision', () => {
    it('maps the named revisions to the client constants', () => {
      expect(toClientExpectedRevision('any')).to.equal(ANY);
      expect(toClientExpectedRevision('no_stream')).to.equal(NO_STREAM);
      expect(toClientExpectedRevision('stream_exists')).to.equal(STREAM_EXISTS);
    });

    it('maps a revision number to a bigint, and -1 to no_stream', () => {
      expect(toClientExpectedRevision(0)).to.equal(0n);
      expect(toClientExpectedRevision(41)).to.equal(41n);
      expect(toClientExpectedRevision(-1)).to.equal(NO_STREAM);
    });

    it('rejects revisions the server cannot mean', () => {
      expect(() => toClientExpectedRevision(-2)).to.throw(RangeError);
      expect(() => toClientExpectedRevision(1.5)).to.throw(RangeError);
      expect(() => toClientExpectedRevision(Number.NaN)).to.throw(RangeError);
    });
  });

  describe('revisions from the client', () => {
    it('converts bigints to numbers and refuses ones that would lose precision', () => {
      expect(revisionToNumber(0n)).to.equal(0);
      expect(revisionToNumber(BigInt(Number.MAX_SAFE_INTEGER))).to.equal(Number.MAX_SAFE_INTEGER);
      expect(() => revisionToNumber(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).to.throw(RangeError);
    });

    it("reads 'no_stream' and the legacy -1n as no_stream", () => {
      expect(fromClientCurrentRevision('no_stream')).to.equal('no_stream');
      expect(fromClientCurrentRevision(-1n)).to.equal('no_stream');
      expect(fromClientCurrentRevision(0n)).to.equal(0);
      expect(fromClientCurrentRevision(12n)).to.equal(12);
    });
  });

  describe('wrong expected version', () => {
    // The client's own constructor, as used by its append paths (`new WrongExpectedVersionError(
    // null, { streamName, current, expected })`).
    const clientError = (
      current: bigint | 'no_stream',
      expected: bigint | 'any' | 'no_stream' | 'stream_exists',
    ): WrongExpectedVersionError =>
      new WrongExpectedVersionError(undefined, { streamName: 'binding-1', current, expected });

    it('recognises the client error and nothing else', () => {
      expect(isWrongExpectedVersionError(clientError(3n, 1n))).to.equal(true);
      expect(isWrongExpectedVersionError(new StreamNotFoundError(undefined, 's'))).to.equal(false);
      expect(isWrongExpectedVersionError(new Error('wrong-expected-version'))).to.equal(false);
      expect(isWrongExpectedVersionError({ type: 'wrong-expected-version' })).to.equal(false);
    });

    it('recognises the error from a second copy of the client by its type tag', () => {
      const foreign = Object.assign(new Error('conflict'), {
        type: 'wrong-expected-version',
        actualVersion: 2n,
      });
      expect(isWrongExpectedVersionError(foreign)).to.equal(true);
    });

    it('maps a bigint actual version to a number', () => {
      expect(toWrongExpectedRevision(clientError(3n, 1n), 'binding-1', 1)).to.deep.equal({
        kind: 'wrong_expected_revision',
        stream: 'binding-1',
        expected: 1,
        actual: 3,
      });
    });

    it("maps actualVersion 'no_stream' to no_stream", () => {
      const mapped = toWrongExpectedRevision(
        clientError('no_stream', 'stream_exists'),
        'binding-1',
        'stream_exists',
      );
      expect(mapped.actual).to.equal('no_stream');
      expect(mapped.expected).to.equal('stream_exists');
    });

    it("keeps the caller's expected revision, not the server's legacy code", () => {
      // On the metadata error path the client reports expected `no_stream` as -1n.
      const mapped = toWrongExpectedRevision(clientError(0n, -1n), 'binding-1', 'no_stream');
      expect(mapped).to.deep.equal({
        kind: 'wrong_expected_revision',
        stream: 'binding-1',
        expected: 'no_stream',
        actual: 0,
      });
    });

    it('builds the same value from a revision learned by reading the stream', () => {
      expect(wrongExpectedRevision('s', 4, 'no_stream')).to.deep.equal({
        kind: 'wrong_expected_revision',
        stream: 's',
        expected: 4,
        actual: 'no_stream',
      });
    });
  });

  describe('isStreamNotFoundError', () => {
    it('recognises the error the client throws while iterating a read of an absent stream', () => {
      expect(isStreamNotFoundError(new StreamNotFoundError(undefined, 'inbox-9'))).to.equal(true);
      expect(isStreamNotFoundError(new UnavailableError())).to.equal(false);
      expect(isStreamNotFoundError(new Error('inbox-9 not found'))).to.equal(false);
    });
  });

  describe('positions', () => {
    it('copies positions both ways without sharing the object', () => {
      const client = { commit: 10n, prepare: 9n };
      const port = toPosition(client);
      expect(port).to.deep.equal({ commit: 10n, prepare: 9n });
      client.commit = 11n;
      expect(port.commit).to.equal(10n);
      const back = toClientPosition(port);
      expect(back).to.deep.equal({ commit: 10n, prepare: 9n });
      expect(back).to.not.equal(port);
    });

    it('isAfter is strict and orders by commit, then prepare', () => {
      const at = { commit: 100n, prepare: 100n };
      expect(isAfter(at, undefined)).to.equal(true);
      expect(isAfter(at, at)).to.equal(false);
      expect(isAfter({ commit: 100n, prepare: 120n }, at)).to.equal(true);
      expect(isAfter({ commit: 99n, prepare: 200n }, at)).to.equal(false);
      expect(isAfter({ commit: 101n, prepare: 0n }, at)).to.equal(true);
    });
  });

  describe('toEventData', () => {
    it('builds a JSON event with the given id, type, data and the metadata as JSON', () => {
      const event: NewEvent = {
        id: 'c6a3a8c4-94a7-5c7e-8e3b-5e0b2f1a9d11',
        type: 'BindingAuthorized',
        data: { a: 1 },
        metadata,
      };
      const data = toEventData(event);
      expect(data).to.deep.include({
        id: event.id,
        type: 'BindingAuthorized',
        contentType: 'application/json',
        data: { a: 1 },
      });
      // EventStoreDB's own names for the trail, beside the port's fields.
      expect(data.metadata).to.deep.equal({
        ...metadata,
        $correlationId: 'corr-1',
        $causationId: 'cmd-1',
      });
      // What the client serialises must read back as the port's metadata, without the $ copies.
      expect(decodeMetadata(JSON.parse(JSON.stringify(data.metadata)))).to.deep.equal(metadata);
    });

    it('sends the id in lower case', () => {
      const event: NewEvent = {
        id: 'C6A3A8C4-94A7-5C7E-8E3B-5E0B2F1A9D11',
        type: 'BindingAuthorized',
        data: {},
        metadata,
      };
      expect(toEventData(event).id).to.equal('c6a3a8c4-94a7-5c7e-8e3b-5e0b2f1a9d11');
    });
  });

  describe('toEventId', () => {
    it('lower-cases a UUID of any version', () => {
      expect(toEventId('0B0F5D2E-1C1A-5F3E-9D6B-1234567890AB')).to.equal(
        '0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab',
      );
      expect(toEventId('019a2b3c-4d5e-8f60-8123-456789abcdef')).to.equal(
        '019a2b3c-4d5e-8f60-8123-456789abcdef',
      );
    });

    it('refuses what the server would not take as an event id', () => {
      for (const id of [
        '',
        'message-1',
        '0b0f5d2e1c1a5f3e9d6b1234567890ab',
        '{0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab}',
        '0b0f5d2e-1c1a-5f3e-9d6b-1234567890ag',
        ' 0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab',
        '00000000-0000-0000-0000-000000000000',
      ]) {
        expect(() => toEventId(id), JSON.stringify(id)).to.throw(RangeError, /UUID/);
      }
    });
  });

  describe('appendSize', () => {
    it('counts data and metadata as UTF-8 JSON, and two bytes per type character', () => {
      // '{"a":"é"}' is 10 bytes, '{"m":1}' 7, and 'Ab' counts 4.
      expect(
        appendSize([jsonEvent({ type: 'Ab', data: { a: 'é' }, metadata: { m: 1 } })]),
      ).to.equal(21);
      expect(
        appendSize([
          jsonEvent({ type: 'Ab', data: { a: 'é' } }),
          binaryEvent({ type: 'C', data: new Uint8Array(5), metadata: new Uint8Array(3) }),
        ]),
      ).to.equal(10 + 4 + 5 + 3 + 2);
    });

    it("counts what toEventData sends, the $ copies included, against the server's 1 MiB", () => {
      const event: NewEvent = {
        id: '0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab',
        type: 'T',
        data: 1,
        metadata,
      };
      const sent = toEventData(event);
      expect(appendSize([sent])).to.equal(1 + Buffer.byteLength(JSON.stringify(sent.metadata)) + 2);
      expect(DEFAULT_MAX_APPEND_SIZE).to.equal(1_048_576);
    });
  });

  describe('isMaxAppendSizeExceededError', () => {
    it("recognises the client's error, also by its type tag, and nothing else", () => {
      expect(
        isMaxAppendSizeExceededError(MaxAppendSizeExceededError.fromMaxAppendSize(10)),
      ).to.equal(true);
      const copy = Object.assign(new Error('too big'), {
        type: ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED,
      });
      expect(isMaxAppendSizeExceededError(copy)).to.equal(true);
      expect(isMaxAppendSizeExceededError(new UnavailableError())).to.equal(false);
    });
  });

  describe('decodeMetadata', () => {
    it('accepts the metadata Tidings writes, dropping unknown fields', () => {
      expect(decodeMetadata({ ...metadata, extra: true })).to.deep.equal(metadata);
    });

    it("keeps the appending node when there is one, and EventStoreDB's $ copies out", () => {
      const withNode = { ...metadata, node: 'node-2' };
      expect(
        decodeMetadata({ ...withNode, $correlationId: 'corr-1', $causationId: 'cmd-1' }),
      ).to.deep.equal(withNode);
      expect(decodeMetadata({ ...metadata, node: 7 })).to.equal(undefined);
    });

    it('refuses anything else', () => {
      expect(decodeMetadata(undefined)).to.equal(undefined);
      expect(decodeMetadata(new Uint8Array([1, 2]))).to.equal(undefined);
      expect(decodeMetadata([metadata])).to.equal(undefined);
      expect(decodeMetadata({ ...metadata, schemaVersion: '1' })).to.equal(undefined);
      expect(decodeMetadata({ ...metadata, schemaVersion: 1.5 })).to.equal(undefined);
      expect(decodeMetadata({ ...metadata, actor: { kind: 'robot', id: 'x' } })).to.equal(
        undefined,
      );
      expect(decodeMetadata({ ...metadata, actor: { kind: 'app' } })).to.equal(undefined);
      expect(decodeMetadata({ ...metadata, correlationId: 7 })).to.equal(undefined);
      const { occurredAt: _omitted, ...withoutTime } = metadata;
      expect(decodeMetadata(withoutTime)).to.equal(undefined);
    });
  });

  describe('toRecordedEvent', () => {
    it('maps a $all event with revision, position and metadata', () => {
      expect(toRecordedEvent(resolvedJson())).to.deep.equal({
        id: '0b0f5d2e-1c1a-5f3e-9d6b-1234567890ab',
        type: 'MessageSubmitted',
        data: { title: '到达通知' },
        metadata,
        stream: 'message-42',
        revision: 7,
        position: { commit: 1_000n, prepare: 990n },
      });
    });

    it('returns undefined for a link whose event is gone', () => {
      const linkOnly = {
        link: resolvedJson().event,
        commitPosition: 5n,
      } as unknown as ResolvedEvent;
      expect(toRecordedEvent(linkOnly)).to.equal(undefined);
    });

    it('refuses an event without a position (server before 22.6)', () => {
      expect(() => toRecordedEvent(resolvedJson({ position: undefined }))).to.throw(/22\.6/);
    });

    it("refuses an event at the server's unknown position rather than report 2^64-1", () => {
      const unknown = 2n ** 64n - 1n;
      expect(() =>
        toRecordedEvent(resolvedJson({ position: { commit: unknown, prepare: unknown } })),
      ).to.throw(/known log position/);
    });

    it('refuses an event without Tidings metadata, naming it', () => {
      expect(() => toRecordedEvent(resolvedJson({ metadata: undefined }))).to.throw(/message-42/);
      expect(() => toRecordedEvent(resolvedJson({ metadata: new Uint8Array([123]) }))).to.throw(
        /metadata/,
      );
    });
  });

  describe('toKnownPosition', () => {
    const unknown = 2n ** 64n - 1n;

    it('copies a real position', () => {
      const position = { commit: 1_000n, prepare: 990n };
      const known = toKnownPosition(position);
      expect(known).to.deep.equal(position);
      expect(known).to.not.equal(position);
      expect(toKnownPosition({ commit: 0n, prepare: 0n })).to.deep.equal({
        commit: 0n,
        prepare: 0n,
      });
      expect(toKnownPosition({ commit: 2n ** 63n - 1n, prepare: 1n })).to.deep.equal({
        commit: 2n ** 63n - 1n,
        prepare: 1n,
      });
    });

    it("takes none, and the server's 2^64-1 in either part, for no position", () => {
      expect(toKnownPosition(undefined)).to.equal(undefined);
      expect(toKnownPosition({ commit: unknown, prepare: unknown })).to.equal(undefined);
      expect(toKnownPosition({ commit: unknown, prepare: 5n })).to.equal(undefined);
      expect(toKnownPosition({ commit: 5n, prepare: unknown })).to.equal(undefined);
      expect(toKnownPosition({ commit: 2n ** 63n, prepare: 5n })).to.equal(undefined);
    });
  });

  describe('system streams', () => {
    it('are the streams whose names start with $', () => {
      expect(isSystemStream('$projections-x-result')).to.equal(true);
      expect(isSystemStream('$$message-1')).to.equal(true);
      expect(isSystemStream('message-1')).to.equal(false);
    });

    it('keep their events out whatever the type', () => {
      const event = (streamId: string, type: string) => ({ streamId, type });
      expect(isWantedEvent(event('$projections-x-result', 'A'), undefined)).to.equal(false);
      expect(isWantedEvent(event('$projections-x-result', 'A'), ['A'])).to.equal(false);
      expect(isWantedEvent(event('message-1', '$>'), undefined)).to.equal(false);
      expect(isWantedEvent(event('message-1', 'A'), ['A'])).to.equal(true);
      expect(isWantedEvent(event('message-1', 'A'), ['B'])).to.equal(false);
    });
  });

  describe('event types', () => {
    it('treats $-types as system events and never wants them', () => {
      expect(isSystemEventType('$>')).to.equal(true);
      expect(isSystemEventType('$metadata')).to.equal(true);
      expect(isSystemEventType('MessageApproved')).to.equal(false);
      expect(isWantedEventType('$statsCollected', undefined)).to.equal(false);
      expect(isWantedEventType('$statsCollected', ['$statsCollected'])).to.equal(false);
    });

    it('wants every application type without a list, and only listed ones with one', () => {
      expect(isWantedEventType('MessageApproved', undefined)).to.equal(true);
      expect(isWantedEventType('MessageApproved', ['MessageApproved', 'MessageReleased'])).to.equal(
        true,
      );
      expect(isWantedEventType('MessageRejected', ['MessageApproved'])).to.equal(false);
      expect(isWantedEventType('MessageApproved', [])).to.equal(false);
    });
  });

  describe('event type regex', () => {
    const matches = (regex: string, type: string): boolean => new RegExp(regex).test(type);

    it('escapes every metacharacter', () => {
      const nasty = 'a.b+c*d?e^f$g{h}i(j)k|l[m]n\\o';
      expect(escapeRegex('a.b+c')).to.equal('a\\.b\\+c');
      expect(matches(`^${escapeRegex(nasty)}$`, nasty)).to.equal(true);
    });

    it('matches a type like a.b+c only itself', () => {
      const regex = eventTypeRegex(['a.b+c']);
      expect(matches(regex, 'a.b+c')).to.equal(true);
      expect(matches(regex, 'axb+c')).to.equal(false);
      expect(matches(regex, 'a.bbc')).to.equal(false);
      expect(matches(regex, 'a.b+cd')).to.equal(false);
      expect(matches(regex, 'xa.b+c')).to.equal(false);
    });

    it('matches any of several types, whole names only', () => {
      const regex = eventTypeRegex(['MessageApproved', 'MessageReleased']);
      expect(regex).to.equal('^(?:MessageApproved|MessageReleased)$');
      expect(matches(regex, 'MessageReleased')).to.equal(true);
      expect(matches(regex, 'MessageApprovedLater')).to.equal(false);
      expect(matches(regex, 'Approved')).to.equal(false);
    });

    it('matches nothing for an empty list', () => {
      const regex = eventTypeRegex([]);
      expect(matches(regex, '')).to.equal(false);
      expect(matches(regex, 'MessageApproved')).to.equal(false);
    });
  });

  describe('readAll page sizes', () => {
    it('asks for one more than wanted (the start event is skipped), at least 16, at most the cap', () => {
      expect(firstReadAllPageSize(100)).to.equal(101);
      expect(firstReadAllPageSize(1)).to.equal(16);
      expect(firstReadAllPageSize(1_000_000)).to.equal(MAX_READ_ALL_PAGE);
    });

    it('doubles up to the cap', () => {
      expect(nextReadAllPageSize(16)).to.equal(32);
      expect(nextReadAllPageSize(3_000)).to.equal(MAX_READ_ALL_PAGE);
      expect(nextReadAllPageSize(MAX_READ_ALL_PAGE)).to.equal(MAX_READ_ALL_PAGE);
    });
  });
});

import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  aggregateForCommandType,
  aggregateForEventType,
  aggregateForStream,
  aggregateNames,
  aggregates,
  type AggregateDefinition,
  type AggregateName,
} from '../../domain/aggregates.js';
import type { AggregateHandle } from '../../domain/shared/commandHandler.js';
import type { TypedCommand, TypedEvent } from '../../domain/shared/decider.js';

/**
 * Participles that do not end in -ed. An event name whose verb is irregular must be added here by
 * hand, so a name that merely looks like a participle does not slip through.
 */
const irregularParticiples = new Set([
  'Broken',
  'Chosen',
  'Held',
  'Read',
  'Sent',
  'Set',
  'Upheld',
  'Withdrawn',
]);

/** Words that open a phrase after the verb, as `For` in `MessageHeldForReview`. */
const prepositions = new Set(['At', 'By', 'For', 'From', 'In', 'On', 'To', 'With']);

/**
 * Whether an event type reads as past tense (events say what happened; commands are imperative):
 * the verb, the last word before any trailing phrase, is a participle. Regular ones end in -ed,
 * but not -eed (`Feed`, `Seed` are nouns; a verb such as `Agreed` belongs in the irregular list).
 */
const isPastTense = (type: string): boolean => {
  const words = type.match(/[A-Z][a-z]*/g) ?? [];
  const phrase = words.findIndex((word, index) => index > 0 && prepositions.has(word));
  const verb = (phrase === -1 ? words : words.slice(0, phrase)).at(-1) ?? '';
  return irregularParticiples.has(verb) || /[^e]ed$/.test(verb);
};

/**
 * The field paths (`/data/until`) that failed in the union member for `type`. A union reports the
 * failures of every member; those of the members for other types are left out, and so are the
 * keys io-ts adds for union and intersection members (they are not fields).
 */
const failedPaths = (errors: t.Errors, type: string): string[] =>
  errors
    .filter((error) => error.context[1]?.type.name.includes(`"${type}"`) === true)
    .map((error) => {
      const keys = error.context.flatMap((entry, index) => {
        const parent = error.context[index - 1]?.type;
        const memberKey = parent instanceof t.UnionType || parent instanceof t.IntersectionType;
        return index === 0 || memberKey ? [] : [entry.key];
      });
      return `/${keys.join('/')}`;
    });

/** Encodes `value`, stores it as JSON text and decodes it back, as the event log does. */
const throughJson = <A>(codec: t.Type<A, unknown>, value: A): t.Validation<A> =>
  codec.decode(JSON.parse(JSON.stringify(codec.encode(value))));

/** A well-formed command or event and what its aggregate's codec makes of it after storage. */
interface Example {
  readonly value: { readonly type: string };
  readonly roundTrip: () => t.Validation<unknown>;
}

/** An ill-formed command or event and the one field path its decode failure must name. */
interface Malformed {
  readonly type: string;
  readonly value: unknown;
  readonly path: string;
  readonly decode: () => t.Validation<unknown>;
}

/** The codec examples of one aggregate. */
interface CodecCase {
  readonly command: Example;
  readonly event: Example;
  readonly malformedCommand: Malformed;
  readonly malformedEvent: Malformed;
}

type MalformedInput = Omit<Malformed, 'decode'>;

/** Builds an aggregate's examples, type-checking them against its own command and event types. */
const codecCase = <Command extends TypedCommand, Event extends TypedEvent, State>(
  { commandCodec, eventCodec }: AggregateDefinition<Command, Event, State>,
  examples: {
    readonly command: Command;
    readonly event: Event;
    readonly malformedCommand: MalformedInput;
    readonly malformedEvent: MalformedInput;
  },
): CodecCase => ({
  command: {
    value: examples.command,
    roundTrip: () => throughJson(commandCodec, examples.command),
  },
  event: { value: examples.event, roundTrip: () => throughJson(eventCodec, examples.event) },
  malformedCommand: {
    ...examples.malformedCommand,
    decode: () => commandCodec.decode(examples.malformedCommand.value),
  },
  malformedEvent: {
    ...examples.malformedEvent,
    decode: () => eventCodec.decode(examples.malformedEvent.value),
  },
});

const metadata = { now: '2025-03-01T12:00:00.000Z' };

const codecCases: Readonly<Record<AggregateName, CodecCase>> = {
  app: codecCase(aggregates.app, {
    command: {
      type: 'SuspendApp',
      data: {
        appId: 'a-1',
        until: '2025-03-08T12:00:00.000Z',
        reason: 'complaint_surge',
        complaintIds: ['c-1', 'c-2'],
      },
      metadata,
    },
    event: {
      type: 'AppRegistered',
      data: {
        appId: 'a-1',
        name: 'Work orders',
        redirectUris: ['https://orders.example/callback'],
        secretHash: 'h-1',
        callbackUrl: 'https://orders.example/hook',
      },
    },
    malformedCommand: {
      type: 'RegisterApp',
      value: {
        type: 'RegisterApp',
        data: {
          appId: 'a-1',
          name: 'Work orders',
          redirectUris: ['ftp://orders.example/callback'],
          secretHash: 'h-1',
        },
        metadata,
      },
      path: '/data/redirectUris/0',
    },
    malformedEvent: {
      type: 'AppSuspended',
      value: {
        type: 'AppSuspended',
        data: { appId: 'a-1', until: 'next Tuesday', reason: 'operator', complaintIds: [] },
      },
      path: '/data/until',
    },
  }),
  recipient: codecCase(aggregates.recipient, {
    command: {
      type: 'StartSession',
      data: { recipientId: 'r-1', sessionHash: 's-1', expiresAt: '2025-03-31T12:00:00.000Z' },
      metadata,
    },
    event: {
      type: 'RecipientRegistered',
      data: { recipientId: 'r-1', username: 'alice', passwordHash: 'p-1' },
    },
    malformedCommand: {
      type: 'RegisterRecipient',
      value: {
        type: 'RegisterRecipient',
        data: { recipientId: 'r-1', passwordHash: 'p-1' },
        metadata,
      },
      path: '/data/username',
    },
    malformedEvent: {
      type: 'RecipientSessionStarted',
      value: {
        type: 'RecipientSessionStarted',
        data: {
          recipientId: 'r-1',
          sessionHash: 's-1',
          startedAt: 1_740_830_400_000,
          expiresAt: '2025-03-31T12:00:00.000Z',
        },
      },
      path: '/data/startedAt',
    },
  }),
  binding: codecCase(aggregates.binding, {
    command: {
      type: 'AuthorizeBinding',
      data: {
        bindingId: 'b-1',
        appId: 'a-1',
        recipientId: 'r-1',
        openid: 'u-42',
        level: 'weak',
        keyHash: 'k-1',
      },
      metadata,
    },
    event: { type: 'BindingMuted', data: { bindingId: 'b-1', until: '2025-03-01T18:00:00.000Z' } },
    malformedCommand: {
      type: 'MuteBinding',
      value: {
        type: 'MuteBinding',
        data: { bindingId: 'b-1', recipientId: 'r-1', until: '2025-03-01T18:00:00.000Z' },
        metadata: { now: '2025-03-01 12:00' },
      },
      path: '/metadata/now',
    },
    malformedEvent: {
      type: 'BindingLevelChanged',
      value: { type: 'BindingLevelChanged', data: { bindingId: 'b-1', level: 'loud' } },
      path: '/data/level',
    },
  }),
  message: codecCase(aggregates.message, {
    command: {
      type: 'RecordDeliveryFailure',
      data: {
        messageId: 'm-1',
        channel: 'bark',
        attempt: 2,
        error: 'HTTP 503',
        retryAt: '2025-03-01T12:00:10.000Z',
      },
      metadata,
    },
    event: {
      type: 'MessageSubmitted',
      data: {
        messageId: 'm-1',
        appId: 'a-1',
        bindingId: 'b-1',
        recipientId: 'r-1',
        body: 'Your order has shipped',
        title: 'Order',
        level: 'timeSensitive',
        deliverAt: '2025-03-02T08:00:00.000Z',
      },
    },
    malformedCommand: {
      type: 'ScheduleMessage',
      value: { type: 'ScheduleMessage', data: {}, metadata },
      path: '/data/messageId',
    },
    malformedEvent: {
      type: 'MessageDeliveryFailed',
      value: {
        type: 'MessageDeliveryFailed',
        data: { messageId: 'm-1', channel: 'bark', attempt: 0, error: 'HTTP 503' },
      },
      path: '/data/attempt',
    },
  }),
  complaint: codecCase(aggregates.complaint, {
    command: {
      type: 'FileComplaint',
      data: {
        complaintId: 'c-1',
        messageId: 'm-1',
        appId: 'a-1',
        recipientId: 'r-1',
        category: 'spam',
        reason: 'I never asked for this',
      },
      metadata,
    },
    event: {
      type: 'ComplaintUpheld',
      data: { complaintId: 'c-1', severity: 'major', note: 'Third time this week' },
    },
    malformedCommand: {
      type: 'UpholdComplaint',
      value: {
        type: 'UpholdComplaint',
        data: { complaintId: 'c-1', severity: 'major', note: 42 },
        metadata,
      },
      path: '/data/note',
    },
    malformedEvent: {
      type: 'ComplaintFiled',
      value: {
        type: 'ComplaintFiled',
        data: {
          complaintId: 'c-1',
          messageId: 'm-1',
          appId: 'a-1',
          recipientId: 'r-1',
          category: 'rude',
          reason: 'I never asked for this',
        },
      },
      path: '/data/category',
    },
  }),
  callback: codecCase(aggregates.callback, {
    command: {
      type: 'RecordCallbackAttempt',
      data: {
        deliveryId: 'msg_1',
        attempt: 2,
        durationMs: 31,
        outcome: {
          kind: 'failed',
          error: 'answered 503',
          status: 503,
          retryAt: '2025-03-01T12:00:20.000Z',
        },
      },
      metadata,
    },
    event: {
      type: 'CallbackQueued',
      data: {
        deliveryId: 'msg_1',
        appId: 'a-1',
        eventType: 'binding.authorized',
        occurredAt: '2025-03-01T12:00:00.000Z',
        data: { bindingId: 'b-1', openid: 'o-1', level: 'strong' },
      },
    },
    malformedCommand: {
      type: 'QueueCallback',
      value: {
        type: 'QueueCallback',
        data: {
          deliveryId: 'msg_1',
          appId: 'a-1',
          eventType: 'message.read',
          occurredAt: '2025-03-01T12:00:00.000Z',
          data: {},
        },
        metadata,
      },
      path: '/data/eventType',
    },
    malformedEvent: {
      type: 'CallbackDelivered',
      value: {
        type: 'CallbackDelivered',
        data: { deliveryId: 'msg_1', attempt: 0, status: 200, durationMs: 5 },
      },
      path: '/data/attempt',
    },
  }),
};

describe('aggregate registry', () => {
  it('fits the command handler as it is', () => {
    // Compiles only if each entry is an AggregateHandle of its own command, event and state; the
    // codec round-trips below check what the handles do at run time.
    const asHandle = <Command, Event extends TypedEvent, State>(
      handle: AggregateHandle<Command, Event, State>,
    ) => handle;
    const handles = [
      asHandle(aggregates.app),
      asHandle(aggregates.recipient),
      asHandle(aggregates.binding),
      asHandle(aggregates.message),
      asHandle(aggregates.complaint),
      asHandle(aggregates.callback),
    ];
    expect(handles).to.have.length(aggregateNames.length);
  });

  describe('codecs', () => {
    for (const name of aggregateNames) {
      const { command, event, malformedCommand, malformedEvent } = codecCases[name];

      it(`${name}: the ${command.value.type} command survives encode, JSON and decode`, () => {
        expect(command.roundTrip()).to.deep.equal(E.right(command.value));
      });

      it(`${name}: the ${event.value.type} event survives encode, JSON and decode`, () => {
        expect(event.roundTrip()).to.deep.equal(E.right(event.value));
      });

      for (const [kind, malformed] of [
        ['command', malformedCommand],
        ['event', malformedEvent],
      ] as const) {
        it(`${name}: refuses a malformed ${malformed.type} ${kind}, naming ${malformed.path}`, () => {
          const decoded = malformed.decode();
          if (E.isRight(decoded)) expect.fail(`the malformed ${kind} decoded`);
          expect(failedPaths(decoded.left, malformed.type)).to.deep.equal([malformed.path]);
        });
      }
    }
  });

  it('lists every aggregate once', () => {
    expect([...aggregateNames].sort()).to.deep.equal(Object.keys(aggregates).sort());
    expect(aggregateNames).to.have.length(6);
  });

  it('names streams <aggregate>-<id> and finds the aggregate back from them', () => {
    for (const name of aggregateNames) {
      const stream = aggregates[name].streamName('id-1');
      expect(stream).to.equal(`${name}-id-1`);
      expect(aggregateForStream(stream)).to.equal(name);
    }
    expect(aggregateForStream('order-1')).to.equal(undefined);
    expect(aggregateForStream('app')).to.equal(undefined);
  });

  it('gives every event and command type to exactly one aggregate', () => {
    for (const name of aggregateNames) {
      const { eventTypes, commandTypes } = aggregates[name];
      expect(eventTypes).to.not.be.empty;
      expect(commandTypes).to.not.be.empty;
      for (const type of eventTypes) expect(aggregateForEventType(type)).to.equal(name);
      for (const type of commandTypes) expect(aggregateForCommandType(type)).to.equal(name);
    }
    expect(aggregateForEventType('SomethingHappened')).to.equal(undefined);
    expect(aggregateForCommandType('DoSomething')).to.equal(undefined);
  });

  it('names events in the past tense PascalCase', () => {
    for (const name of aggregateNames) {
      for (const type of aggregates[name].eventTypes) {
        expect(type).to.match(/^[A-Z][A-Za-z]+$/);
        expect(isPastTense(type), `${type} is past tense`).to.equal(true);
      }
    }
  });

  it('tells past-tense event names from imperative command names', () => {
    expect(
      ['AppRegistered', 'RecipientBarkDeviceBroken', 'MessageHeldForReview', 'ComplaintUpheld'].map(
        isPastTense,
      ),
    ).to.deep.equal([true, true, true, true]);
    expect(
      ['SubmitMessage', 'ApplyPenalty', 'HoldMessageForReview', 'MessageSubmit', 'FeedSeed'].map(
        isPastTense,
      ),
    ).to.deep.equal([false, false, false, false, false]);
  });

  it('decodes a command through the registry and decides it', () => {
    const { commandCodec, decider } = aggregates.recipient;
    const decoded = commandCodec.decode({
      type: 'RegisterRecipient',
      data: { recipientId: 'r-1', username: 'alice', passwordHash: 'h' },
      metadata: { now: '2025-03-01T12:00:00Z' },
    });
    if (E.isLeft(decoded)) expect.fail('the command did not decode');
    expect(decider.decide(decoded.right, decider.initialState())).to.deep.equal(
      E.right([
        {
          type: 'RecipientRegistered',
          data: { recipientId: 'r-1', username: 'alice', passwordHash: 'h' },
        },
      ]),
    );
  });

  it('refuses a command whose clock is not an ISO 8601 UTC time', () => {
    const decoded = aggregates.recipient.commandCodec.decode({
      type: 'RemoveDevice',
      data: { recipientId: 'r-1', deviceId: 'dev_1' },
      metadata: { now: '2025-03-01 12:00' },
    });
    if (E.isRight(decoded)) expect.fail('a command with a local clock decoded');
    expect(failedPaths(decoded.left, 'RemoveDevice')).to.deep.equal(['/metadata/now']);
  });
});

import type * as t from 'io-ts';
import { AppCommandCodec, appCommandTypes } from './app/appCommands.js';
import { appDecider, appStreamName } from './app/appDecider.js';
import { AppEventCodec, appEventTypes } from './app/appEvents.js';
import { BindingCommandCodec, bindingCommandTypes } from './binding/bindingCommands.js';
import { bindingDecider, bindingStreamName } from './binding/bindingDecider.js';
import { BindingEventCodec, bindingEventTypes } from './binding/bindingEvents.js';
import { ComplaintCommandCodec, complaintCommandTypes } from './complaint/complaintCommands.js';
import { complaintDecider, complaintStreamName } from './complaint/complaintDecider.js';
import { ComplaintEventCodec, complaintEventTypes } from './complaint/complaintEvents.js';
import { MessageCommandCodec, messageCommandTypes } from './message/messageCommands.js';
import { messageDecider, messageStreamName } from './message/messageDecider.js';
import { MessageEventCodec, messageEventTypes } from './message/messageEvents.js';
import { RecipientCommandCodec, recipientCommandTypes } from './recipient/recipientCommands.js';
import { recipientDecider, recipientStreamName } from './recipient/recipientDecider.js';
import { RecipientEventCodec, recipientEventTypes } from './recipient/recipientEvents.js';
import { CallbackCommandCodec, callbackCommandTypes } from './callback/callbackCommands.js';
import { callbackDecider, callbackStreamName } from './callback/callbackDecider.js';
import { CallbackEventCodec, callbackEventNames } from './callback/callbackEvents.js';
import type { Decider, TypedCommand, TypedEvent } from './shared/decider.js';

/** Everything generic code (command handler, audit, replay) needs to know about one aggregate. */
export interface AggregateDefinition<
  Command extends TypedCommand,
  Event extends TypedEvent,
  State,
> {
  readonly decider: Decider<Command, Event, State>;
  /** The stream of one instance, `<aggregate>-<id>`. */
  readonly streamName: (id: string) => string;
  /** Decodes a stored event (type and data) of this aggregate. */
  readonly eventCodec: t.Type<Event, unknown>;
  /** Decodes a command (type, data, metadata) for this aggregate. */
  readonly commandCodec: t.Type<Command, unknown>;
  readonly eventTypes: readonly Event['type'][];
  readonly commandTypes: readonly Command['type'][];
}

/** Keeps each entry's own types while checking it against AggregateDefinition. */
const defineAggregate = <Command extends TypedCommand, Event extends TypedEvent, State>(
  definition: AggregateDefinition<Command, Event, State>,
): AggregateDefinition<Command, Event, State> => definition;

/** The six aggregates by name. Stream names start with the aggregate's name and a dash. */
export const aggregates = {
  app: defineAggregate({
    decider: appDecider,
    streamName: appStreamName,
    eventCodec: AppEventCodec,
    commandCodec: AppCommandCodec,
    eventTypes: appEventTypes,
    commandTypes: appCommandTypes,
  }),
  recipient: defineAggregate({
    decider: recipientDecider,
    streamName: recipientStreamName,
    eventCodec: RecipientEventCodec,
    commandCodec: RecipientCommandCodec,
    eventTypes: recipientEventTypes,
    commandTypes: recipientCommandTypes,
  }),
  binding: defineAggregate({
    decider: bindingDecider,
    streamName: bindingStreamName,
    eventCodec: BindingEventCodec,
    commandCodec: BindingCommandCodec,
    eventTypes: bindingEventTypes,
    commandTypes: bindingCommandTypes,
  }),
  message: defineAggregate({
    decider: messageDecider,
    streamName: messageStreamName,
    eventCodec: MessageEventCodec,
    commandCodec: MessageCommandCodec,
    eventTypes: messageEventTypes,
    commandTypes: messageCommandTypes,
  }),
  complaint: defineAggregate({
    decider: complaintDecider,
    streamName: complaintStreamName,
    eventCodec: ComplaintEventCodec,
    commandCodec: ComplaintCommandCodec,
    eventTypes: complaintEventTypes,
    commandTypes: complaintCommandTypes,
  }),
  callback: defineAggregate({
    decider: callbackDecider,
    streamName: callbackStreamName,
    eventCodec: CallbackEventCodec,
    commandCodec: CallbackCommandCodec,
    eventTypes: callbackEventNames,
    commandTypes: callbackCommandTypes,
  }),
} as const;

/** The name of an aggregate: `app`, `recipient`, `binding`, `message`, `complaint` or `callback`. */
export type AggregateName = keyof typeof aggregates;

/** The aggregate names, in registry order. */
export const aggregateNames: readonly AggregateName[] = [
  'app',
  'recipient',
  'binding',
  'message',
  'complaint',
  'callback',
];

/** Builds a type → aggregate index; a type claimed twice is a programming error, caught at load. */
const indexBy = (
  typesOf: (name: AggregateName) => readonly string[],
): ReadonlyMap<string, AggregateName> => {
  const index = new Map<string, AggregateName>();
  for (const name of aggregateNames) {
    for (const type of typesOf(name)) {
      const owner = index.get(type);
      if (owner !== undefined) throw new Error(`${type} belongs to both ${owner} and ${name}`);
      index.set(type, name);
    }
  }
  return index;
};

const byEventType = indexBy((name) => aggregates[name].eventTypes);
const byCommandType = indexBy((name) => aggregates[name].commandTypes);

/** The aggregate whose stream holds events of this type, if any. */
export const aggregateForEventType = (type: string): AggregateName | undefined =>
  byEventType.get(type);

/** The aggregate that decides commands of this type, if any. */
export const aggregateForCommandType = (type: string): AggregateName | undefined =>
  byCommandType.get(type);

/** The aggregate a stream name such as `binding-<id>` belongs to, if any. */
export const aggregateForStream = (stream: string): AggregateName | undefined => {
  const dash = stream.indexOf('-');
  const prefix = dash > 0 ? stream.slice(0, dash) : undefined;
  return aggregateNames.find((name) => name === prefix);
};

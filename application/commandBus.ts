import * as E from 'fp-ts/lib/Either.js';
import { aggregates, type AggregateDefinition, type AggregateName } from '../domain/aggregates.js';
import {
  handleCommand,
  type CommandContext,
  type CommandError,
  type CommandResult,
} from '../domain/shared/commandHandler.js';
import type { EventStore, Position } from '../domain/shared/eventStore.js';
import type { StateCache } from '../domain/shared/stateCache.js';
import type { KeyedSerializer } from './shared/keyedSerializer.js';

type Definition<N extends AggregateName> = (typeof aggregates)[N];
/* eslint-disable @typescript-eslint/no-explicit-any -- inference over the registry's generics */
export type CommandOf<N extends AggregateName> =
  Definition<N> extends AggregateDefinition<infer C, any, any> ? C : never;
export type EventOf<N extends AggregateName> =
  Definition<N> extends AggregateDefinition<any, infer Ev, any> ? Ev : never;
export type StateOf<N extends AggregateName> =
  Definition<N> extends AggregateDefinition<any, any, infer S> ? S : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Runs commands against aggregates by name and id. */
export interface CommandBus {
  execute<N extends AggregateName>(
    aggregate: N,
    id: string,
    /** Several commands are decided and appended together, all or nothing. */
    command: CommandOf<N> | readonly CommandOf<N>[],
    context: CommandContext,
  ): Promise<E.Either<CommandError, CommandResult<EventOf<N>, StateOf<N>>>>;
}

/**
 * What the command bus reports to monitoring: events appended, by aggregate. The HTTP adapter's
 * Prometheus counter is one.
 */
export interface CommandMetrics {
  readonly eventsAppended: {
    inc(labels: { readonly aggregate: string }, value: number): void;
  };
}

export interface CommandBusOptions {
  readonly store: EventStore;
  readonly metrics?: CommandMetrics;
  /**
   * Called after a command appended events, before its result is returned: the server waits here
   * until the read models include them, so a client that reads right after a write sees it.
   */
  readonly afterAppend?: (position: Position) => Promise<void>;
  /** Folded states shared by every command bus and processor of the process. */
  readonly cache?: StateCache;
  /**
   * Shared by every command bus of the process: commands on one stream run one after the other
   * (see {@link KeyedSerializer}), so they do not conflict with each other. Other writers (another
   * process) can still conflict; the handler retries those.
   */
  readonly serializer?: KeyedSerializer;
}

/** The command handler behind one small interface, with metrics and read-your-writes. */
export const createCommandBus = (options: CommandBusOptions): CommandBus => ({
  execute: async (aggregate, id, command, context) => {
    const definition = aggregates[aggregate] as unknown as AggregateDefinition<
      CommandOf<typeof aggregate>,
      EventOf<typeof aggregate>,
      StateOf<typeof aggregate>
    >;
    const stream = definition.streamName(id);
    const handle = () =>
      handleCommand(
        options.store,
        { decider: definition.decider, eventCodec: definition.eventCodec },
        stream,
        command,
        context,
        options.cache === undefined ? {} : { cache: options.cache },
      );
    const result = await (options.serializer === undefined
      ? handle()
      : options.serializer.run(stream, handle));
    if (E.isRight(result) && result.right.position !== undefined) {
      if (result.right.repeated !== true) {
        options.metrics?.eventsAppended.inc({ aggregate }, result.right.events.length);
      }
      await options.afterAppend?.(result.right.position);
    }
    return result;
  },
});

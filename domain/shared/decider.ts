import type { Either } from 'fp-ts/lib/Either.js';
import type { DomainError } from './domainError.js';

/**
 * A decider holds one aggregate's rules as pure functions (no I/O, no clock, no randomness).
 * `decide` answers a command with the events it causes, or with a coded error; an empty list
 * means the command changes nothing (a repeat), which keeps retries harmless.
 */
export interface Decider<Command, Event, State> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State) => Either<DomainError, readonly Event[]>;
}

/** Folds a history of events into the state it leads to. */
export const fold = <Event, State>(
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>,
  events: Iterable<Event>,
): State => {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
};

/** The shape every event has: a past-tense PascalCase `type` and its `data`. */
export interface TypedEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * The shape every command has. `metadata.now` is the only clock a decider may read; ids for new
 * objects arrive in `data`, made by the caller.
 */
export interface TypedCommand<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
}

/** What the caller of `decide` must supply about the moment a command is decided. */
export interface CommandMetadata {
  /** ISO 8601 UTC time at which the command is decided. */
  readonly now: string;
}

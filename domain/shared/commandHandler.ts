import * as E from 'fp-ts/lib/Either.js';
import type { Decoder } from 'io-ts';
import type { Decider, TypedCommand, TypedEvent } from './decider.js';
import type { DomainError } from './domainError.js';
import { eventIdFor } from './eventIds.js';
import type { IdLookup, StateCache } from './stateCache.js';
import type {
  Actor,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  RecordedEvent,
} from './eventStore.js';
import { NO_STREAM_REVISION } from './eventStore.js';

/** What the handler needs to know about an aggregate. */
export interface AggregateHandle<Command, Event extends TypedEvent, State> {
  readonly decider: Decider<Command, Event, State>;
  /** Validates stored events before they are folded, so a corrupt log fails loudly. */
  readonly eventCodec: Decoder<unknown, Event>;
  /** Schema version per event type; 1 when absent. */
  readonly schemaVersions?: Readonly<Partial<Record<string, number>>>;
}

/** Who and what a command comes from. */
export interface CommandContext {
  /** Unique per logical command; a retry of the same command reuses it (event ids derive from it). */
  readonly commandId: string;
  readonly actor: Actor;
  /** Defaults to `commandId`. */
  readonly correlationId?: string;
  /** Defaults to `commandId`. */
  readonly causationId?: string;
  /**
   * A time (ms) that files this command's events in time order in the event-id index (see
   * `eventIdFor`). It must be the same whenever the same command is repeated, or a repeat would
   * not be recognised: leave it out unless it is.
   */
  readonly orderKey?: number;
  /**
   * Optimistic concurrency chosen by the caller: the command fails with `conflict` if the stream
   * moved. Without it the handler uses the revision it read and retries a few times on conflict.
   */
  readonly expectedRevision?: ExpectedRevision;
  /**
   * The stream was named just now (a new random id) and cannot exist yet: the handler decides on
   * the initial state without reading it first, and appends expecting no stream. Should the
   * stream exist after all, that append fails and the handler reads and decides again as usual.
   * Only for names made just now: a repeat of the same command is not recognised with it (the
   * store's answer to ids it holds looks like a first append). Ignored with an `expectedRevision`.
   */
  readonly newStream?: boolean;
  /**
   * The commands of this call follow from one another (a submission moderated and routed in the
   * same append): the events of each command after the first name as their cause the last event
   * decided by the commands before it, as if each had been a reaction to the one before. Without
   * it every event's cause is `causationId`.
   */
  readonly chained?: boolean;
}

/** Another writer changed the stream between read and append (and retries, if any, ran out). */
export interface ConcurrencyConflict {
  readonly code: 'conflict';
  readonly message: string;
  readonly details: { readonly stream: string; readonly actual: number | 'no_stream' };
}

export type CommandError = DomainError | ConcurrencyConflict;

export interface CommandResult<Event, State> {
  /** Events this command appended; empty when it changed nothing. */
  readonly events: readonly Event[];
  /** The stream's last revision after the command (-1 if it still does not exist). */
  readonly nextRevision: number;
  /** Global position of the last appended event, when something was appended. */
  readonly position?: Position;
  /** The aggregate's state after the command. */
  readonly state: State;
  /**
   * Set when the command had been applied already (the stream held its events): this run
   * appended nothing, and `events`, `nextRevision` and `position` are those of the earlier run.
   * A caller that counts or reacts to what was appended should skip such a result.
   */
  readonly repeated?: true;
}

export interface CommandHandlerOptions {
  /** Attempts when the caller gave no expected revision; default 5. */
  readonly maxAttempts?: number;
  /** Folded states shared by the handlers of this process (see {@link StateCache}). */
  readonly cache?: StateCache;
}

/** An aggregate's state as of a revision of its stream (-1: the stream does not exist). */
export interface LoadedState<State> {
  readonly state: State;
  readonly revision: number;
}

/**
 * Reads and folds a stream, every stored event checked by the codec. With a `cache` holding the
 * stream, only the events after the cached revision are read and folded onto the cached state
 * (usually none: one indexed lookup instead of a whole history), so the answer is always the
 * stream as stored, whoever wrote it.
 */
export const loadAggregate = async <Event extends TypedEvent, State>(
  store: EventStore,
  aggregate: Pick<AggregateHandle<never, Event, State>, 'decider' | 'eventCodec'>,
  stream: string,
  cache?: StateCache,
): Promise<LoadedState<State>> => {
  const { state, revision } = await load(store, aggregate, stream, cache);
  return { state, revision };
};

/** A load, with what the handler needs to recognise a command it has seen. */
interface Load<State> extends LoadedState<State> {
  /** The events this load read: the whole stream, or those after the cached revision. */
  readonly read: readonly RecordedEvent[];
  /** Whether `read` is the whole stream (no cache, or the cache did not hold it). */
  readonly whole: boolean;
  /**
   * What the cache remembers of the id `probe`, asked as the load set the cache (nothing runs in
   * between, so it covers at least up to `revision`).
   */
  readonly probed?: IdLookup;
}

const load = async <Event extends TypedEvent, State>(
  store: EventStore,
  aggregate: Pick<AggregateHandle<never, Event, State>, 'decider' | 'eventCodec'>,
  stream: string,
  cache?: StateCache,
  probe?: string,
): Promise<Load<State>> => {
  const asOf = cache?.generation;
  const cached = cache?.get<State>(stream);
  const from = cached === undefined ? 0 : cached.revision + 1;
  const newer = await store.readStream(stream, from === 0 ? {} : { fromRevision: from });
  const whole = from === 0;
  let state: State;
  let revision: number;
  if (cached !== undefined && newer.length === 0) {
    ({ state, revision } = cached);
  } else {
    state = foldRecorded(aggregate, newer, cached?.state);
    revision = newer.at(-1)?.revision ?? cached?.revision ?? NO_STREAM_REVISION;
    cache?.set(
      stream,
      revision,
      state,
      newer.map((event) => event.id),
      asOf,
    );
  }
  const probed = probe === undefined ? undefined : cache?.findId(stream, probe);
  return probed === undefined
    ? { state, revision, read: newer, whole }
    : { state, revision, read: newer, whole, probed };
};

/** A stream taken to be new without reading it (`CommandContext.newStream`). */
const unread = <State>(aggregate: {
  readonly decider: { initialState(): State };
}): Load<State> => ({
  state: aggregate.decider.initialState(),
  revision: NO_STREAM_REVISION,
  read: [],
  whole: true,
});

/**
 * Folds stored events of one stream, in revision order, onto `from` (the initial state by
 * default), each checked by the codec: how every writer, and the audit's state as of a time,
 * get an aggregate's state.
 */
export const foldRecorded = <Event extends TypedEvent, State>(
  aggregate: Pick<AggregateHandle<never, Event, State>, 'decider' | 'eventCodec'>,
  events: readonly RecordedEvent[],
  from: State = aggregate.decider.initialState(),
): State => {
  let state = from;
  for (const recorded of events)
    state = aggregate.decider.evolve(state, decodeStored(aggregate, recorded));
  return state;
};

/**
 * Runs one command (or several, atomically) against one stream: read and fold, decide, append
 * with the revision that was read. Retries on a concurrent write only when the caller did not pin a revision, and at most
 * `maxAttempts` times, re-reading each time so the decision is made on fresh state.
 *
 * Idempotent on every store: a command whose first event id (see `eventIdFor`) the stream holds
 * already is not decided again, and nothing is appended; it is answered as its first run was
 * (those events, the revision and position of the last of them) with the state as stored now.
 * The handler checks this itself because appending at the revision just read gets past the
 * dedupe of stores that only recognise ids when the expected revision is behind (EventStoreDB):
 * a redelivered message, a retried request or an append whose outcome was lost would otherwise
 * be written twice.
 */
export const handleCommand = async <Command extends TypedCommand, Event extends TypedEvent, State>(
  store: EventStore,
  aggregate: AggregateHandle<Command, Event, State>,
  stream: string,
  commandOrCommands: Command | readonly Command[],
  context: CommandContext,
  options: CommandHandlerOptions = {},
): Promise<E.Either<CommandError, CommandResult<Event, State>>> => {
  const commands: readonly Command[] = Array.isArray(commandOrCommands)
    ? commandOrCommands
    : [commandOrCommands as Command];
  const first = commands[0];
  if (first === undefined) throw new Error('handleCommand needs at least one command');
  const attempts = context.expectedRevision === undefined ? (options.maxAttempts ?? 5) : 1;
  let lastConflict: ConcurrencyConflict | undefined;
  const pinned = context.expectedRevision;
  const idOf: IdOf = (index) => eventIdFor(context.commandId, index, context.orderKey);
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const asOf = options.cache?.generation;
    const loaded =
      attempt === 1 && context.newStream === true && pinned === undefined
        ? unread(aggregate)
        : await load(store, aggregate, stream, options.cache, idOf(0));
    const earlier = await earlierAppend(store, stream, loaded, idOf);
    if (earlier !== undefined) {
      return E.right(await repeated(store, aggregate, stream, loaded, earlier, options.cache));
    }
    const current = loaded.revision;
    let state = loaded.state;

    const decision = decideAll(aggregate.decider, commands, state);
    if (E.isLeft(decision)) return decision;
    const { events, origins } = decision.right;
    if (events.length === 0) return E.right({ events, nextRevision: current, state });

    const newEvents = toNewEvents(aggregate, origins, context, events);
    const appended = await store.appendToStream(stream, newEvents, {
      expectedRevision: pinned ?? (current === NO_STREAM_REVISION ? 'no_stream' : current),
    });
    if (E.isRight(appended)) {
      if (appended.right.nextRevision === current + events.length) {
        for (const event of events) state = aggregate.decider.evolve(state, event);
        options.cache?.set(
          stream,
          appended.right.nextRevision,
          state,
          newEvents.map((event) => event.id),
          asOf,
        );
      } else {
        // The store answered with an earlier append of these ids, made after the read (the same
        // command run twice at once): answer as a repeat, from the stream as stored.
        options.cache?.delete(stream);
        const fresh = await load(store, aggregate, stream, options.cache, idOf(0));
        const stored = await earlierAppend(store, stream, fresh, idOf);
        if (stored !== undefined) {
          return E.right(await repeated(store, aggregate, stream, fresh, stored, options.cache));
        }
        state = fresh.state;
      }
      return E.right({
        events,
        nextRevision: appended.right.nextRevision,
        position: appended.right.position,
        state,
      });
    }
    options.cache?.delete(stream);
    lastConflict = {
      code: 'conflict',
      message: `stream ${stream} was changed concurrently; retry`,
      details: { stream, actual: appended.left.actual },
    };
    if (attempt < attempts) await backoff(attempt);
  }
  return E.left(
    lastConflict ?? {
      code: 'conflict',
      message: `stream ${stream} was changed concurrently; retry`,
      details: { stream, actual: 'no_stream' },
    },
  );
};

/** The id of a command's `index`-th event. */
type IdOf = (index: number) => string;

/** Events read at a time while following an earlier append from a revision. */
const APPEND_PAGE = 16;

/**
 * The events an earlier run of this command appended to the stream (those from the one with id
 * `idOf(0)` on, as long as the ids follow `idOf`), or undefined if the stream does not hold it up
 * to the revision loaded. Answered from what the load read, else from the cache's remembered
 * ids (a read only to confirm a candidate), else by reading the revisions the cache does not
 * remember.
 */
const earlierAppend = async <State>(
  store: EventStore,
  stream: string,
  loaded: Load<State>,
  idOf: IdOf,
): Promise<readonly RecordedEvent[] | undefined> => {
  const firstId = idOf(0);
  const inRead = runOf(loaded.read, firstId, idOf);
  if (inRead !== undefined) return inRead;
  if (loaded.whole) return undefined;
  const probed = loaded.probed;
  if (probed === undefined || probed.revision < loaded.revision) {
    // Dropped from the cache meanwhile: what the cache says no longer covers the revision loaded.
    return runOf(await store.readStream(stream), firstId, idOf);
  }
  const readFrom = loaded.read[0]?.revision ?? Number.POSITIVE_INFINITY;
  for (const revision of probed.candidates) {
    if (revision >= readFrom) continue; // looked for in `read` already
    const run = await readRun(store, stream, revision, idOf, 0);
    if (run.length > 0) return run;
  }
  if (probed.knownFrom === 0) return undefined;
  // The stream is longer than the ids the cache keeps: look in the revisions before them.
  const older = await store.readStream(stream, { maxCount: probed.knownFrom });
  const run = runOf(older, firstId, idOf);
  if (run === undefined) return undefined;
  const last = run.at(-1);
  if (last === undefined || last !== older.at(-1)) return run;
  return [...run, ...(await readRun(store, stream, last.revision + 1, idOf, run.length))];
};

/** The run of events from the one with id `firstId` whose ids follow `idOf`, if it is there. */
const runOf = (
  events: readonly RecordedEvent[],
  firstId: string,
  idOf: IdOf,
): readonly RecordedEvent[] | undefined => {
  const start = events.findIndex((event) => event.id === firstId);
  if (start < 0) return undefined;
  const run: RecordedEvent[] = [];
  for (let index = start; index < events.length; index += 1) {
    const event = events[index];
    if (event === undefined || event.id !== idOf(run.length)) break;
    run.push(event);
  }
  return run;
};

/** The events from `revision` on whose ids are `idOf(index)`, `idOf(index + 1)`, …, read by pages. */
const readRun = async (
  store: EventStore,
  stream: string,
  revision: number,
  idOf: IdOf,
  index: number,
): Promise<readonly RecordedEvent[]> => {
  const run: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readStream(stream, {
      fromRevision: revision + run.length,
      maxCount: APPEND_PAGE,
    });
    for (const event of page) {
      if (event.id !== idOf(index + run.length)) return run;
      run.push(event);
    }
    if (page.length < APPEND_PAGE) return run;
  }
};

/**
 * The answer to a repeated command: as the store answers a repeated append (the earlier events,
 * the revision and position of the last of them), with the state as stored now.
 */
const repeated = async <Event extends TypedEvent, State>(
  store: EventStore,
  aggregate: Pick<AggregateHandle<never, Event, State>, 'decider' | 'eventCodec'>,
  stream: string,
  loaded: Load<State>,
  earlier: readonly RecordedEvent[],
  cache: StateCache | undefined,
): Promise<CommandResult<Event, State>> => {
  const last = earlier.at(-1);
  if (last === undefined) throw new Error('an earlier append has at least one event');
  // Found past the revision loaded (appended meanwhile by the same command run at once): the
  // state loaded does not include it yet.
  const state =
    last.revision <= loaded.revision
      ? loaded.state
      : (await load(store, aggregate, stream, cache)).state;
  return {
    events: earlier.map((recorded) => decodeStored(aggregate, recorded)),
    nextRevision: last.revision,
    position: last.position,
    state,
    repeated: true,
  };
};

/**
 * Decides several commands as one: each on the state the previous ones lead to, all or nothing,
 * so a request that changes several things either changes all of them or none.
 */
const decideAll = <Command extends TypedCommand, Event extends TypedEvent, State>(
  decider: AggregateHandle<Command, Event, State>['decider'],
  commands: readonly Command[],
  initial: State,
): E.Either<DomainError, { readonly events: readonly Event[]; readonly origins: Origins }> => {
  const events: Event[] = [];
  const times: string[] = [];
  const commandIndexes: number[] = [];
  let state = initial;
  for (const [index, command] of commands.entries()) {
    const decision = decider.decide(command, state);
    if (E.isLeft(decision)) return decision;
    for (const event of decision.right) {
      events.push(event);
      times.push(command.metadata.now);
      commandIndexes.push(index);
      state = decider.evolve(state, event);
    }
  }
  return E.right({ events, origins: { times, commands: commandIndexes } });
};

/** Where each decided event comes from: its command's time and the command's index. */
interface Origins {
  readonly times: readonly string[];
  readonly commands: readonly number[];
}

/**
 * Wraps decided events with ids and metadata for the store; each event occurred at the time of
 * the command that decided it (commands run together may carry different times), and with
 * `chained` follows from the last event of the commands before its own.
 */
const toNewEvents = <Event extends TypedEvent>(
  aggregate: Pick<AggregateHandle<never, Event, never>, 'schemaVersions'>,
  origins: Origins,
  context: CommandContext,
  events: readonly Event[],
): NewEvent[] => {
  const idOf = (index: number): string => eventIdFor(context.commandId, index, context.orderKey);
  const cause = context.causationId ?? context.commandId;
  /** The last event before `index` that another command decided. */
  let previous: { readonly command: number; readonly id: string } | undefined;
  let last: { readonly command: number; readonly id: string } | undefined;
  return events.map((event, index) => {
    const command = origins.commands[index] ?? 0;
    if (last !== undefined && last.command !== command) previous = last;
    const id = idOf(index);
    last = { command, id };
    return {
      id,
      type: event.type,
      data: event.data,
      metadata: {
        occurredAt: origins.times[index] ?? '',
        actor: context.actor,
        correlationId: context.correlationId ?? context.commandId,
        causationId: context.chained === true && previous !== undefined ? previous.id : cause,
        schemaVersion: aggregate.schemaVersions?.[event.type] ?? 1,
      },
    };
  });
};

const decodeStored = <Event extends TypedEvent>(
  aggregate: Pick<AggregateHandle<never, Event, never>, 'eventCodec'>,
  recorded: RecordedEvent,
): Event => {
  const decoded = aggregate.eventCodec.decode({ type: recorded.type, data: recorded.data });
  if (E.isLeft(decoded)) {
    // A stored event that no longer decodes is a bug or corruption, never a user error.
    throw new Error(
      `event ${recorded.id} (${recorded.type}) at ${recorded.stream}@${recorded.revision} does not match its codec`,
    );
  }
  return decoded.right;
};

/** Jittered exponential pause between conflict retries: up to 5, 10, 20, 40 ms. */
const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** (attempt - 1)));

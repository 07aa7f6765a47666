import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Decider } from '../../domain/shared/decider.js';
import { fold } from '../../domain/shared/decider.js';
import type { DomainErrorCode } from '../../domain/shared/domainError.js';

/** The assertions that end a given/when/then spec. */
export interface Then<Event> {
  /** The command succeeds with exactly these events. */
  then(expected: readonly Event[]): void;
  /** The command succeeds and changes nothing (an idempotent repeat). */
  thenNothing(): void;
  /** The command is refused with this code (and, if given, exactly these details). */
  thenError(code: DomainErrorCode, details?: Readonly<Record<string, unknown>>): void;
}

/** A decider under test, which also remembers every event its specs gave or produced. */
export interface DeciderSpecification<Command, Event> {
  given(events: readonly Event[]): { when(command: Command): Then<Event> };
  /** Every event the specs so far used as history or received from `decide`. */
  readonly recorded: readonly Event[];
}

/**
 * Given/when/then for deciders, after emmett's `DeciderSpecification`: fold the `given` history,
 * decide the `when` command, compare the outcome. Produced events are also folded, so a spec
 * fails if `evolve` cannot take what `decide` emits.
 */
export const spec = <Command, Event, State>(
  decider: Decider<Command, Event, State>,
): DeciderSpecification<Command, Event> => {
  const recorded: Event[] = [];
  return {
    recorded,
    given: (events) => ({
      when: (command) => {
        const decide = () => {
          recorded.push(...events);
          const state = fold(decider, events);
          const result = decider.decide(command, state);
          if (E.isRight(result)) {
            recorded.push(...result.right);
            fold({ initialState: () => state, evolve: decider.evolve }, result.right);
          }
          return result;
        };
        const expectEvents = (expected: readonly Event[]): void => {
          const result = decide();
          if (E.isLeft(result)) {
            expect.fail(`expected events, got error ${JSON.stringify(result.left)}`);
          }
          expect(result.right).to.deep.equal(expected);
        };
        return {
          then: expectEvents,
          thenNothing: () => {
            expectEvents([]);
          },
          thenError: (code, details) => {
            const result = decide();
            if (E.isRight(result)) {
              expect.fail(`expected error ${code}, got events ${JSON.stringify(result.right)}`);
            }
            expect(result.left.code).to.equal(code);
            expect(result.left.message).to.be.a('string').and.not.equal('');
            if (details !== undefined) expect(result.left.details).to.deep.equal(details);
          },
        };
      },
    }),
  };
};

/**
 * Asserts that every recorded event is accepted by the aggregate's codec unchanged, that the
 * specs touched every event type, and that a malformed event is refused.
 */
export const expectEventsRoundTrip = <Event extends { readonly type: string }>(
  codec: t.Type<Event, unknown>,
  eventTypes: readonly string[],
  recorded: readonly Event[],
  malformed: unknown,
): void => {
  expect(recorded, 'no events recorded: run the whole spec file').to.not.be.empty;
  for (const event of recorded) {
    expect(codec.is(event), `${event.type} passes the guard`).to.equal(true);
    const json: unknown = JSON.parse(JSON.stringify(event));
    const decoded = codec.decode(json);
    if (E.isLeft(decoded)) expect.fail(`${event.type} did not decode: ${JSON.stringify(json)}`);
    expect(decoded.right).to.deep.equal(event);
  }
  expect(new Set(recorded.map((event) => event.type))).to.deep.equal(new Set(eventTypes));
  expect(codec.is(malformed)).to.equal(false);
  expect(E.isLeft(codec.decode(malformed))).to.equal(true);
};

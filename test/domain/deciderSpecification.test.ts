import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../../domain/shared/decider.js';
import { domainError } from '../../domain/shared/domainError.js';
import { spec } from './deciderSpecification.js';

// A counter that refuses to go above 2: small enough to show each assertion can fail.
type Event = { type: 'Incremented' };
type Command = { type: 'Increment' };
const counter: Decider<Command, Event, number> = {
  initialState: () => 0,
  evolve: (state) => state + 1,
  decide: (_command, state) =>
    state >= 2
      ? E.left(domainError('illegal_state', 'too high'))
      : E.right([{ type: 'Incremented' }]),
};
const increment: Command = { type: 'Increment' };
const incremented: Event = { type: 'Incremented' };

describe('deciderSpecification', () => {
  it('then passes on the expected events and fails on others', () => {
    spec(counter).given([]).when(increment).then([incremented]);
    expect(() => {
      spec(counter).given([]).when(increment).then([incremented, incremented]);
    }).to.throw();
    expect(() => {
      spec(counter).given([incremented, incremented]).when(increment).then([incremented]);
    }).to.throw(/illegal_state/);
  });

  it('thenNothing fails when events are produced', () => {
    expect(() => {
      spec(counter).given([]).when(increment).thenNothing();
    }).to.throw();
  });

  it('thenError checks the code and details, and fails on success', () => {
    spec(counter).given([incremented, incremented]).when(increment).thenError('illegal_state');
    expect(() => {
      spec(counter).given([incremented, incremented]).when(increment).thenError('not_found');
    }).to.throw();
    expect(() => {
      spec(counter)
        .given([incremented, incremented])
        .when(increment)
        .thenError('illegal_state', { x: 1 });
    }).to.throw();
    expect(() => {
      spec(counter).given([]).when(increment).thenError('illegal_state');
    }).to.throw(/expected error/);
  });

  it('records the given history and the produced events', () => {
    const counterSpec = spec(counter);
    counterSpec.given([incremented]).when(increment).then([incremented]);
    expect(counterSpec.recorded).to.deep.equal([incremented, incremented]);
  });
});

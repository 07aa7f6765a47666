import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  aggregateForCommandType,
  aggregateForEventType,
  aggregateForStream,
  aggregateNames,
  aggregates,
} from '../../domain/aggregates.js';
import type { AggregateHandle } from '../../domain/shared/commandHandler.js';
import type { TypedEvent } from '../../domain/shared/decider.js';

describe('aggregate registry', () => {
  it('fits the command handler as it is', () => {
    // Compiles only if each entry is an AggregateHandle of its own command, event and state.
    const asHandle = <Command, Event extends TypedEvent, State>(
      handle: AggregateHandle<Command, Event, State>,
    ) => handle;
    const handles = [
      asHandle(aggregates.app),
      asHandle(aggregates.recipient),
      asHandle(aggregates.binding),
      asHandle(aggregates.message),
      asHandle(aggregates.complaint),
    ];
    expect(handles.map((handle) => typeof handle.eventCodec.decode)).to.deep.equal(
      Array<string>(5).fill('function'),
    );
  });

  it('lists every aggregate once', () => {
    expect([...aggregateNames].sort()).to.deep.equal(Object.keys(aggregates).sort());
    expect(aggregateNames).to.have.length(5);
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
      for (const type of aggregates[name].eventTypes) expect(type).to.match(/^[A-Z][A-Za-z]+$/);
    }
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
      type: 'RemoveBarkDevice',
      data: { recipientId: 'r-1' },
      metadata: { now: '2025-03-01 12:00' },
    });
    expect(E.isLeft(decoded)).to.equal(true);
  });
});

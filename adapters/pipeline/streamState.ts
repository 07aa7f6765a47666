import { aggregates, type AggregateName } from '../../domain/aggregates.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { EventOf, StateOf } from '../commandBus.js';

/**
 * The current state of one aggregate, folded from its stream in the store: the authoritative
 * answer when a processor must decide on facts "as they are now" rather than on a read model
 * that may lag a little behind the log.
 */
export const loadState = async <N extends AggregateName>(
  store: EventStore,
  aggregate: N,
  id: string,
): Promise<StateOf<N>> => {
  const definition = aggregates[aggregate];
  const events = await store.readStream(definition.streamName(id));
  const decider = definition.decider as unknown as {
    initialState: () => StateOf<N>;
    evolve: (state: StateOf<N>, event: EventOf<N>) => StateOf<N>;
  };
  let state = decider.initialState();
  for (const recorded of events) {
    state = decider.evolve(state, { type: recorded.type, data: recorded.data } as EventOf<N>);
  }
  return state;
};

import { aggregates, type AggregateName } from '../../domain/aggregates.js';
import { loadAggregate } from '../../domain/shared/commandHandler.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { EventOf, StateOf } from '../commandBus.js';

/**
 * The current state of one aggregate, folded from its stream in the store (or taken from the
 * process's {@link StateCache}, which every write of this process keeps current): the
 * authoritative answer when a processor must decide on facts "as they are now" rather than on a
 * read model that may lag a little behind the log.
 */
export const loadState = async <N extends AggregateName>(
  store: EventStore,
  aggregate: N,
  id: string,
  cache?: StateCache,
): Promise<StateOf<N>> => {
  const definition = aggregates[aggregate];
  const handle = {
    decider: definition.decider,
    eventCodec: definition.eventCodec,
  } as unknown as Parameters<typeof loadAggregate<EventOf<N>, StateOf<N>>>[1];
  const loaded = await loadAggregate(store, handle, definition.streamName(id), cache);
  return loaded.state;
};

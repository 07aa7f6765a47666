import { aggregateForStream, aggregates } from '../../domain/aggregates.js';
import { foldRecorded } from '../../domain/shared/commandHandler.js';
import type { EventStore, RecordedEvent } from '../../domain/shared/eventStore.js';

/** An aggregate's state as of a time, or why there is none. */
export type StateAsOf =
  | { readonly kind: 'state'; readonly revision: number; readonly state: unknown }
  | { readonly kind: 'not_an_aggregate' }
  | { readonly kind: 'no_stream' };

/**
 * The state of the aggregate whose stream is `stream` as of `asOf` (ISO 8601): its events up to
 * the first that occurred after `asOf`, folded by the decider the server runs
 * (`foldRecorded`). The revision is that of the last event folded (-1 when the stream had none
 * yet at that time).
 */
export const stateAsOf = async (
  store: EventStore,
  stream: string,
  asOf: string,
): Promise<StateAsOf> => {
  const name = aggregateForStream(stream);
  if (name === undefined) return { kind: 'not_an_aggregate' };
  const events = await store.readStream(stream);
  if (events.length === 0) return { kind: 'no_stream' };
  const upTo = events.findIndex((event) => event.metadata.occurredAt > asOf);
  const folded: readonly RecordedEvent[] = upTo === -1 ? events : events.slice(0, upTo);
  // Each aggregate's own definition folds its own events; the union is only for the compiler.
  const aggregate = aggregates[name] as unknown as Parameters<typeof foldRecorded>[0];
  return {
    kind: 'state',
    revision: folded.at(-1)?.revision ?? -1,
    state: foldRecorded(aggregate, folded),
  };
};

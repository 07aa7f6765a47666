import type { EventStore } from '../domain/shared/eventStore.js';

/**
 * The log of a server started with `TIDINGS_READ_ONLY=1`: reads and subscriptions as the store
 * gives them, and every append refused, so that nothing this server does can change the past it
 * shows (docs/audit.md, "Point-in-time replay").
 */
export const readOnlyStore = (store: EventStore): EventStore => ({
  readStream: (stream, options) => store.readStream(stream, options),
  readAll: (options) => store.readAll(options),
  headPosition: () => store.headPosition(),
  subscribe: (options) => store.subscribe(options),
  close: () => store.close(),
  appendToStream: (stream) =>
    Promise.reject(
      new Error(`this server is read-only (TIDINGS_READ_ONLY): nothing is appended to ${stream}`),
    ),
});

import type { EventStore, NewEvent } from '../../domain/shared/eventStore.js';

/**
 * Fault injection: from now until the returned function is called, `store.appendToStream` fails
 * (as on an I/O error) for every append whose events `fails` picks. `fails` sees each append in
 * turn, so it may count them (fail the first three, say). With `afterAppend`, the append is
 * stored first and the call fails after it (the caller cannot tell it landed).
 */
export const failAppends = (
  store: EventStore,
  fails: (events: readonly NewEvent[]) => boolean,
  options: { readonly afterAppend?: boolean } = {},
): (() => void) => {
  const append = store.appendToStream.bind(store);
  Reflect.defineProperty(store, 'appendToStream', {
    configurable: true,
    value: async (...args: Parameters<typeof append>) => {
      if (options.afterAppend !== true) {
        if (fails(args[1])) throw new Error('disk I/O error (injected)');
        return append(...args);
      }
      const result = await append(...args);
      if (fails(args[1])) throw new Error('disk I/O error after the append (injected)');
      return result;
    },
  });
  return () => {
    Reflect.deleteProperty(store, 'appendToStream');
  };
};

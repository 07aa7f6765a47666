import type { RecordedEvent } from '../domain/shared/eventStore.js';
import type { TypedEvent } from '../domain/shared/decider.js';

/**
 * Returns a reader that views stored events as one aggregate's event type without decoding the
 * data again: only deciders' outputs (typed by their codecs) are appended, and decoding half a
 * million events on a replay would cost more than the projection itself. The type name is still
 * checked, so a projection fed the wrong stream fails loudly.
 */
export const eventReader = <Event extends TypedEvent>(
  types: readonly Event['type'][],
): ((recorded: RecordedEvent) => Event) => {
  const known = new Set<string>(types);
  return (recorded) => {
    if (!known.has(recorded.type)) {
      throw new Error(
        `unexpected event type ${recorded.type} at ${recorded.stream}@${recorded.revision}`,
      );
    }
    return { type: recorded.type, data: recorded.data } as Event;
  };
};

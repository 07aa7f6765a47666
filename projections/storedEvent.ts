import type { RecordedEvent } from '../domain/shared/eventStore.js';
import type { TypedEvent } from '../domain/shared/decider.js';

/**
 * Reads a stored event as its aggregate's event type without decoding it again. Safe because only
 * deciders' outputs (typed by their codecs) are appended; decoding half a million events on a
 * replay would cost more than the projection itself.
 */
export const asEvent = <Event extends TypedEvent>(recorded: RecordedEvent): Event =>
  ({ type: recorded.type, data: recorded.data }) as Event;

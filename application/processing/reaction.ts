import type { CommandContext } from '../../domain/shared/commandHandler.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';

/**
 * The context of a command a processor issues in reaction to an event: the command id is derived
 * from the processor and the event, so handling the event again (at-least-once) repeats the same
 * command and writes nothing new; correlation follows the original request.
 */
export const reactionContext = (
  processor: string,
  cause: RecordedEvent,
  suffix = '',
): CommandContext => ({
  commandId: `${processor}:${cause.id}${suffix === '' ? '' : `:${suffix}`}`,
  actor: { kind: 'system', id: processor },
  correlationId: cause.metadata.correlationId,
  causationId: cause.id,
  // The cause is stored, so its time is the same whenever the event is handled again.
  orderKey: Date.parse(cause.metadata.occurredAt),
});

import type { RecordedEvent } from '../../domain/shared/eventStore.js';

/**
 * The batch's events that ask for work, without the outcomes and without those whose message
 * has an outcome later in the batch (the work was done in the same command, or before a crash).
 */
export const withoutSettled = (
  batch: readonly RecordedEvent[],
  isOutcome: (event: RecordedEvent) => boolean,
): RecordedEvent[] => {
  const settledAfter = new Set<string>();
  const todo: RecordedEvent[] = [];
  for (let index = batch.length - 1; index >= 0; index -= 1) {
    const event = batch[index];
    if (event === undefined) continue;
    const { messageId } = event.data as { messageId: string };
    if (isOutcome(event)) settledAfter.add(messageId);
    else if (!settledAfter.has(messageId)) todo.push(event);
  }
  return todo.reverse();
};

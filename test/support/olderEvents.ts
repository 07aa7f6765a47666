import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { EventStore, Position } from '../../domain/shared/eventStore.js';

/**
 * Appends events as an older server wrote them (e.g. the legacy Bark device events no code
 * writes any more) to `stream`, straight through the store; answers the position of the last.
 */
export const appendAsBefore = async (
  store: EventStore,
  stream: string,
  events: readonly { type: string; data: unknown }[],
  occurredAt: string = new Date().toISOString(),
): Promise<Position> => {
  const appended = await store.appendToStream(
    stream,
    events.map((event) => ({
      id: randomUUID(),
      ...event,
      metadata: {
        occurredAt,
        actor: { kind: 'recipient', id: 'older-server' },
        correlationId: stream,
        causationId: stream,
        schemaVersion: 1,
      },
    })),
    { expectedRevision: 'any' },
  );
  if (appended._tag === 'Left') expect.fail(`append failed: ${JSON.stringify(appended.left)}`);
  return appended.right.position;
};

import { expect } from 'chai';
import { withoutSettled } from '../../../application/processing/settledInBatch.js';
import type { RecordedEvent } from '../../../domain/shared/eventStore.js';

/** An event of `type` for `messageId` at `position`. */
const event = (position: number, type: string, messageId: string): RecordedEvent => ({
  id: `e${position}`,
  stream: `message-${messageId}`,
  revision: 0,
  position: { commit: BigInt(position), prepare: BigInt(position) },
  type,
  data: { messageId },
  metadata: {
    occurredAt: '2030-01-01T00:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});

/** What a stage passes over: work whose outcome is already in its batch (issue 17). */
describe('processing: a batch without the work done in it', () => {
  const isOutcome = (recorded: RecordedEvent): boolean => recorded.type === 'Done';

  it('keeps the work without an outcome after it, in order, and drops the outcomes', () => {
    const batch = [
      event(1, 'Work', 'a'),
      event(2, 'Work', 'b'),
      event(3, 'Done', 'a'),
      event(4, 'Work', 'c'),
    ];
    expect(withoutSettled(batch, isOutcome).map((kept) => kept.id)).to.deep.equal(['e2', 'e4']);
  });

  it('keeps work whose outcome came before it, not after (an outcome only settles what precedes it)', () => {
    const batch = [event(1, 'Done', 'a'), event(2, 'Work', 'a')];
    expect(withoutSettled(batch, isOutcome).map((kept) => kept.id)).to.deep.equal(['e2']);
  });

  it('keeps everything when no outcome is in the batch', () => {
    const batch = [event(1, 'Work', 'a'), event(2, 'Work', 'b')];
    expect(withoutSettled(batch, isOutcome)).to.deep.equal(batch);
  });
});

import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { NewEvent } from '../../../domain/shared/eventStore.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const event = (data: unknown): NewEvent => ({
  id: randomUUID(),
  type: 'Grouped',
  data,
  metadata: {
    occurredAt: '2026-11-24T10:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});

describe('SQLite store: group commit', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('commits appends issued together in one transaction (group commit)', async () => {
    const before = temp.store.stats;
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        temp.store.appendToStream(`group-${n}`, [event({ n })], { expectedRevision: 'no_stream' }),
      ),
    );
    expect(outcomes.every(E.isRight)).to.equal(true);
    expect(temp.store.stats.commits - before.commits).to.equal(1);
    expect(temp.store.stats.appends - before.appends).to.equal(100);
  });

  it("one append's failure inside a group neither undoes nor blocks the others", async () => {
    const results = await Promise.allSettled([
      temp.store.appendToStream('ok-1', [event({ n: 1 })], { expectedRevision: 'any' }),
      // BigInt cannot be serialised: this append fails inside the shared transaction.
      temp.store.appendToStream('bad', [event({ n: 1n })], { expectedRevision: 'any' }),
      temp.store.appendToStream('ok-2', [event({ n: 2 })], { expectedRevision: 'any' }),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(await temp.store.readStream('ok-1')).to.have.length(1);
    expect(await temp.store.readStream('ok-2')).to.have.length(1);
    expect(await temp.store.readStream('bad')).to.have.length(0);
  });
});

import { expect } from 'chai';
import { SqliteEventStore } from '../../../adapters/sqlite/sqliteEventStore.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';
import { event } from '../../support/storeReads.js';

describe('SQLite store: subscriptions', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('a subscription wakes on an in-process append without waiting for its poll', async () => {
    const slow = new SqliteEventStore(temp.db, { pollIntervalMs: 60_000 });
    const subscription = slow.subscribe({ eventTypes: ['Grouped'] });
    const first = (async () => {
      for await (const batch of subscription) return batch;
      return [];
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await slow.appendToStream('wake', [event('Grouped', { n: 1 })], { expectedRevision: 'any' });
    const batch = await Promise.race([
      first,
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          reject(new Error('not woken'));
        }, 5_000),
      ),
    ]);
    expect(batch.map((e) => e.data)).to.deep.equal([{ n: 1 }]);
    await subscription.close();
    await slow.close();
  });
});

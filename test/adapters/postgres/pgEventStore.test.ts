import { PgEventStore } from '../../../adapters/postgres/pgEventStore.js';
import { createTestSchema, requirePostgres } from '../../support/postgres.js';
import { describeEventStoreContract } from '../eventStoreContract.js';

describe('PostgreSQL event store', function () {
  before(async function () {
    await requirePostgres(this);
  });

  describeEventStoreContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const store = await PgEventStore.open(schema.pool(), { pollIntervalMs: 200 });
    return {
      store,
      dispose: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });
});

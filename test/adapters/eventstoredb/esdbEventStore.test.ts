import { openEsdbEventStore } from '../../../adapters/eventstoredb/esdbEventStore.js';
import { describeEventStoreContract } from '../eventStoreContract.js';

// The contract suite needs a real server, which a developer machine or CI job may not have.
// Point EVENTSTORE_CONNECTION_STRING at one (e.g. esdb://localhost:2113?tls=false) to run it.
const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

if (connectionString !== undefined && connectionString !== '') {
  describeEventStoreContract('EventStoreDB', async () => {
    const store = await openEsdbEventStore(connectionString);
    return { store, dispose: () => store.close() };
  });
} else {
  describe('event store contract: EventStoreDB', () => {
    it('runs against a server named by EVENTSTORE_CONNECTION_STRING', function () {
      console.log(
        '  EventStoreDB contract suite skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server on this machine)',
      );
      this.skip();
    });
  });
}

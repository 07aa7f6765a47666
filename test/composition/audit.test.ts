import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../../adapters/config/settings.js';
import { createMetrics } from '../../adapters/http/metrics.js';
import { silentLogger } from '../../adapters/logging/logger.js';
import { startAudit } from '../../composition/audit.js';
import type { Core } from '../../composition/core.js';
import { StopStack } from '../../composition/stopStack.js';
import { SIGNED_HEAD_EVENT } from '../../domain/shared/hashChain.js';
import { StateCache } from '../../domain/shared/stateCache.js';
import { openTempStore, type TempStore } from '../support/sqliteStore.js';
import { waitUntil } from '../support/waitUntil.js';

// The audit parts on an EventStoreDB log. No EventStoreDB server can run here, so the log is an
// embedded store in another folder, read only through the EventStore port as EventStoreDB's is;
// the settings name EventStoreDB, so startAudit takes the path of that log (the sealed copy).

describe('the audit parts on a log sealed after the fact (composition/audit.ts)', () => {
  let log: TempStore;
  let folder: TempStore;
  let stops: StopStack;

  beforeEach(async () => {
    log = openTempStore();
    folder = openTempStore();
    stops = new StopStack(silentLogger);
    for (let n = 1; n <= 12; n += 1) {
      const appended = await log.store.appendToStream(
        `thing-${n}`,
        [
          {
            id: randomUUID(),
            type: 'ThingHappened',
            data: { n },
            metadata: {
              occurredAt: new Date().toISOString(),
              actor: { kind: 'system', id: 'audit-test' },
              correlationId: 'c',
              causationId: 'c',
              schemaVersion: 1,
            },
          },
        ],
        { expectedRevision: 'no_stream' },
      );
      if (E.isLeft(appended)) throw new Error('conflict');
    }
  });

  afterEach(async () => {
    await stops.runAll();
    await log.dispose();
    await folder.dispose();
  });

  const coreOn = (): Core => {
    const settings = loadSettings({
      TIDINGS_DATA_DIR: folder.dir,
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false',
    });
    if (E.isLeft(settings)) throw new Error(settings.left);
    return {
      settings: settings.right,
      logger: silentLogger,
      store: log.store,
      db: folder.db,
      checkpoints: folder.checkpoints,
      metrics: createMetrics(),
      cache: new StateCache(),
    };
  };

  it('seals the log before answering, signs heads of the copy into the log, and verifies them', async () => {
    const deps = await startAudit(coreOn(), stops);
    expect(deps, 'the audit routes are served').to.not.equal(undefined);
    if (deps === undefined) return;
    // Caught up at start: the twelve events (and the key's introduction, appended at start).
    expect((await deps.audit.head())?.position).to.be.at.least(12);
    const head = await deps.signHead(new Date().toISOString());
    expect(head.position).to.be.at.least(12);
    expect(head.hash).to.equal((await deps.audit.hashAt(head.position))?.toString('hex'));
    // The signed head goes into the log and from there into the copy, where verify checks it.
    await waitUntil(
      async () => (await deps.audit.events({ types: [SIGNED_HEAD_EVENT], limit: 10 })).length,
      (count) => count === 1,
      'the signed head sealed',
    );
    const report = await deps.audit.verify({});
    expect(report).to.include({ ok: true, headsChecked: 1, unsealed: 0 });
  });
});

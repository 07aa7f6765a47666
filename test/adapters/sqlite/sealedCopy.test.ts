import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { ProcessorRunner } from '../../../application/processing/processor.js';
import { silentLogger } from '../../../adapters/logging/logger.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { SealedAuditLog, sealingProcessor } from '../../../adapters/sqlite/sealedCopy.js';
import type { EventStore } from '../../../domain/shared/eventStore.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

// The log here is an embedded store in one folder, standing in for EventStoreDB (which cannot
// run on this machine): the sealing processor only reads it through the EventStore port, as it
// reads EventStoreDB's $all. The copy lives in a second folder, as a node's data folder.

const append = async (store: EventStore, stream: string, n: number): Promise<void> => {
  const outcome = await store.appendToStream(
    stream,
    [
      {
        id: randomUUID(),
        type: n % 2 === 0 ? 'ThingHappened' : 'OtherThing',
        data: { n, note: `event ${n}` },
        metadata: {
          occurredAt: new Date(Date.UTC(2026, 11, 7, 10, 0, n)).toISOString(),
          actor: { kind: 'system', id: 'sealing-test' },
          correlationId: 'c',
          causationId: 'c',
          schemaVersion: 1,
        },
      },
    ],
    { expectedRevision: 'any' },
  );
  if (E.isLeft(outcome)) throw new Error('conflict');
};

describe('the sealed copy of a log chained after the fact (adapters/sqlite/sealedCopy.ts)', () => {
  let log: TempStore;
  let folder: TempStore;
  let runner: ProcessorRunner | undefined;

  const seal = async (): Promise<void> => {
    runner ??= new ProcessorRunner(
      log.store,
      folder.checkpoints,
      sealingProcessor(folder.db, folder.checkpoints),
      silentLogger,
      { maxBatchSize: 7 },
    );
    runner.start();
    const head = await log.store.headPosition();
    if (head !== undefined) await runner.waitFor(head);
  };

  /** Edits the log's file and opens it afresh (a running store answers from its memory). */
  const tamperWithLog = async (sql: string): Promise<void> => {
    log.db.prepare(sql).run();
    await log.close();
    log = openTempStore(log.dir);
  };

  const stopSealing = async (): Promise<void> => {
    await runner?.stop();
    runner = undefined;
  };

  beforeEach(async () => {
    log = openTempStore();
    folder = openTempStore();
    for (let n = 1; n <= 30; n += 1) await append(log.store, `thing-${n % 4}`, n);
  });

  afterEach(async () => {
    await stopSealing();
    await log.dispose();
    await folder.dispose();
  });

  it('numbers the events in log order and chains them exactly as the embedded store does', async () => {
    await seal();
    const sealed = new SealedAuditLog(folder.db, log.store);
    const copied = sealed.events({ limit: 100 });
    const original = new SqliteAuditLog(log.db).events({ limit: 100 });
    expect(copied.map((event) => event.position)).to.deep.equal(
      Array.from({ length: 30 }, (_, index) => index + 1),
    );
    // The log here numbers from 1 as well, so the two chains must be the same, hash for hash.
    expect(copied.map((event) => event.eventId)).to.deep.equal(
      original.map((event) => event.eventId),
    );
    expect(copied.map((event) => event.hash.toString('hex'))).to.deep.equal(
      original.map((event) => event.hash.toString('hex')),
    );
    const report = await sealed.verify({});
    expect(report).to.include({ ok: true, checked: 30, unsealed: 0 });
  });

  it('goes on numbering after a restart, and reports what it has not sealed yet as the unsealed tail', async () => {
    await seal();
    await stopSealing();
    for (let n = 31; n <= 34; n += 1) await append(log.store, 'thing-late', n);
    const sealed = new SealedAuditLog(folder.db, log.store);
    expect(await sealed.verify({})).to.include({ ok: true, checked: 30, unsealed: 4 });
    await seal();
    expect(await sealed.verify({})).to.include({ ok: true, checked: 34, unsealed: 0 });
    expect(sealed.head()?.position).to.equal(34);
  });

  it('names the position of an event whose contents changed in the log', async () => {
    await seal();
    await stopSealing();
    await tamperWithLog(
      "UPDATE events SET data = json_set(data, '$.note', 'rewritten') WHERE position = 12",
    );
    const report = await new SealedAuditLog(folder.db, log.store).verify({});
    expect(report).to.include({ ok: false, firstBadPosition: 12, fault: 'data_changed' });
  });

  it('names the position of an event deleted from the log', async () => {
    await seal();
    await stopSealing();
    await tamperWithLog('DELETE FROM events WHERE position = 9');
    const report = await new SealedAuditLog(folder.db, log.store).verify({});
    expect(report).to.include({ ok: false, firstBadPosition: 9, fault: 'missing' });
    expect(report.reason).to.match(/deleted, inserted or moved/);
  });

  it('names the first sealed position a log cut short no longer holds', async () => {
    await seal();
    await stopSealing();
    await tamperWithLog('DELETE FROM events WHERE position > 20');
    const report = await new SealedAuditLog(folder.db, log.store).verify({});
    expect(report).to.include({ ok: false, firstBadPosition: 21, fault: 'missing' });
    expect(report.reason).to.match(/ends after 20 events, but 30 were sealed/);
  });

  it('trusts what comes before `from`, as on the embedded store, without reading it', async () => {
    await seal();
    await stopSealing();
    await tamperWithLog(
      "UPDATE events SET data = json_set(data, '$.note', 'rewritten') WHERE position = 5",
    );
    const sealed = new SealedAuditLog(folder.db, log.store);
    expect(await sealed.verify({ from: 10 })).to.include({ ok: true, checked: 21, unsealed: 0 });
    expect(await sealed.verify({})).to.include({ ok: false, firstBadPosition: 5 });
  });

  it('refuses to seal into a folder whose events it did not write (a folder of the embedded log)', () => {
    expect(() => sealingProcessor(log.db, log.checkpoints)).to.throw(
      /holds 30 events that the sealing processor did not write/,
    );
  });

  it('names the position of an event changed in the copy itself', async () => {
    await seal();
    await stopSealing();
    folder.db
      .prepare("UPDATE events SET data = json_set(data, '$.note', 'edited') WHERE position = 5")
      .run();
    const report = await new SealedAuditLog(folder.db, log.store).verify({});
    expect(report).to.include({ ok: false, firstBadPosition: 5, fault: 'data_changed' });
  });

  it('checks the log up to `to` only, leaving the rest alone', async () => {
    await seal();
    await stopSealing();
    await tamperWithLog(
      "UPDATE events SET data = json_set(data, '$.note', 'rewritten') WHERE position = 25",
    );
    const sealed = new SealedAuditLog(folder.db, log.store);
    expect(await sealed.verify({ to: 20 })).to.include({ ok: true, checked: 20 });
    expect(await sealed.verify({})).to.include({ ok: false, firstBadPosition: 25 });
  });
});

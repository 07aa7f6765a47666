import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { silentLogger } from '../../../adapters/logging/logger.js';
import type { SqliteDatabase } from '../../../adapters/sqlite/database.js';
import { appsProjection } from '../../../projections/apps/appsProjection.js';
import { prepareProjection } from '../../../projections/projection.js';
import { ProcessorRunner, projectionProcessor } from '../../../application/processing/processor.js';
import { rebuildProjection } from '../../../application/processing/rebuild.js';
import { writeAppHistory } from '../../support/appHistory.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const snapshot = (db: SqliteDatabase): unknown[] =>
  db.prepare('SELECT * FROM apps ORDER BY app_id').all();

describe('rebuilding a projection', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('gives exactly the rows that live processing gave', async () => {
    prepareProjection(temp.db, appsProjection);
    const runner = new ProcessorRunner(
      temp.store,
      temp.checkpoints,
      projectionProcessor(temp.db, temp.checkpoints, appsProjection),
      silentLogger,
      { maxBatchSize: 50 },
    );
    runner.start();
    // Events arrive while the runner is live, in many small batches.
    await writeAppHistory(temp.store, 60);
    const [head] = await temp.store.readAll({ maxCount: 1_000_000 }).then((all) => all.slice(-1));
    await runner.waitFor(head!.position);
    await runner.stop();
    const live = snapshot(temp.db);

    // The history covers every standing, so the comparison means something.
    const statuses = new Set(live.map((row) => (row as { status: string }).status));
    expect([...statuses].sort()).to.deep.equal(['active', 'banned', 'suspended']);
    expect(live).to.have.length(60);

    const { events } = await rebuildProjection(
      temp.db,
      temp.store,
      temp.checkpoints,
      appsProjection,
      { pageSize: 37 },
    );
    expect(events).to.equal((await temp.store.readAll({ maxCount: 1_000_000 })).length);
    expect(snapshot(temp.db)).to.deep.equal(live);
    expect(temp.checkpoints.load('apps')).to.deep.equal(head!.position);
  });

  it('from the command line, replaces damaged rows with the right ones', async function () {
    this.timeout(60_000);
    await writeAppHistory(temp.store, 12);
    await rebuildProjection(temp.db, temp.store, temp.checkpoints, appsProjection);
    const good = snapshot(temp.db);
    temp.db.prepare("UPDATE apps SET score = -1, status = 'banned'").run();
    await temp.close();

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bin/rebuild.ts', 'apps'],
      {
        env: { ...process.env, TIDINGS_DATA_DIR: temp.dir, EVENTSTORE_CONNECTION_STRING: '' },
      },
    );
    expect(stdout).to.match(/rebuild: apps: done, [\d,]+ events in/);

    const reopened = openTempStore(temp.dir);
    try {
      expect(snapshot(reopened.db)).to.deep.equal(good);
    } finally {
      await reopened.dispose();
    }
  });

  it('from the command line, refuses an unknown projection with one clear line', async () => {
    const failure = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bin/rebuild.ts', 'nope'],
      {
        env: { ...process.env, TIDINGS_DATA_DIR: temp.dir },
      },
    ).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr.trim()).to.match(
      /^rebuild: unknown projection\(s\) nope; known: apps, recipients, bindings, complaints, messages, callbacks$/,
    );
  });
});

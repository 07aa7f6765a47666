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
import { PgEventStore } from '../../../adapters/postgres/pgEventStore.js';
import { deploymentIdOf, sharedFileMigrations } from '../../../adapters/postgres/sharedFiles.js';
import { migrate } from '../../../adapters/postgres/migrations.js';
import type { EventStore } from '../../../domain/shared/eventStore.js';
import {
  createTestSchema,
  databaseUrlOf,
  requirePostgres,
  type TestSchema,
} from '../../support/postgres.js';

const snapshot = (db: SqliteDatabase): unknown[] =>
  db.prepare('SELECT * FROM apps ORDER BY app_id').all();

/**
 * Live processing of an app history into `temp`'s read model from `log`, then a rebuild from the
 * same log: the rows must be the same.
 */
const liveThenRebuilt = async (temp: TempStore, log: EventStore): Promise<void> => {
  prepareProjection(temp.db, appsProjection);
  const runner = new ProcessorRunner(
    log,
    temp.checkpoints,
    projectionProcessor(temp.db, temp.checkpoints, appsProjection),
    silentLogger,
    { maxBatchSize: 50 },
  );
  runner.start();
  // Events arrive while the runner is live, in many small batches.
  await writeAppHistory(log, 60);
  const [head] = await log.readAll({ maxCount: 1_000_000 }).then((all) => all.slice(-1));
  await runner.waitFor(head!.position);
  await runner.stop();
  const live = snapshot(temp.db);

  // The history covers every standing, so the comparison means something.
  const statuses = new Set(live.map((row) => (row as { status: string }).status));
  expect([...statuses].sort()).to.deep.equal(['active', 'banned', 'suspended']);
  expect(live).to.have.length(60);

  const { events } = await rebuildProjection(temp.db, log, temp.checkpoints, appsProjection, {
    pageSize: 37,
  });
  expect(events).to.equal((await log.readAll({ maxCount: 1_000_000 })).length);
  expect(snapshot(temp.db)).to.deep.equal(live);
  expect(temp.checkpoints.load('apps')).to.deep.equal(head!.position);
};

/** `bin/rebuild.ts` with `env`, as a person runs it. */
const runRebuild = (
  env: NodeJS.ProcessEnv,
  ...names: string[]
): Promise<{ stdout: string; stderr: string }> =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/rebuild.ts', ...names], {
    env: { ...process.env, ...env },
  });

describe('rebuilding a projection', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('gives exactly the rows that live processing gave', async () => {
    await liveThenRebuilt(temp, temp.store);
  });

  it('from the command line, replaces damaged rows with the right ones', async function () {
    this.timeout(60_000);
    await writeAppHistory(temp.store, 12);
    await rebuildProjection(temp.db, temp.store, temp.checkpoints, appsProjection);
    const good = snapshot(temp.db);
    temp.db.prepare("UPDATE apps SET score = -1, status = 'banned'").run();
    await temp.close();

    const { stdout } = await runRebuild(
      { TIDINGS_DATA_DIR: temp.dir, EVENTSTORE_CONNECTION_STRING: '' },
      'apps',
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

describe('rebuilding a projection from the shared PostgreSQL log', function () {
  this.timeout(60_000);
  let temp: TempStore;
  let schema: TestSchema;
  let started = false;
  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async () => {
    temp = openTempStore();
    schema = await createTestSchema();
    started = true;
  });
  afterEach(async () => {
    if (!started) return;
    await temp.dispose();
    await schema.drop();
  });

  it('gives exactly the rows that live processing gave', async () => {
    const log = await PgEventStore.open(schema.pool(), { pollIntervalMs: 200 });
    try {
      await liveThenRebuilt(temp, log);
    } finally {
      await log.close();
    }
  });

  it('from the command line, replaces damaged rows with the right ones, only in a folder of that deployment', async () => {
    const pool = schema.pool();
    await migrate(pool, sharedFileMigrations);
    const log = await PgEventStore.open(pool);
    await writeAppHistory(log, 12);
    await rebuildProjection(temp.db, log, temp.checkpoints, appsProjection);
    await log.close();
    const good = snapshot(temp.db);
    // The folder was a node's of this deployment (the server ties it at its first start).
    temp.db
      .prepare(
        "INSERT INTO folder_facts (name, value) VALUES ('log', 'postgres'), ('deployment', ?)",
      )
      .run(await deploymentIdOf(pool));
    temp.db.prepare("UPDATE apps SET score = -1, status = 'banned'").run();
    await temp.close();
    const env = {
      TIDINGS_DATA_DIR: temp.dir,
      TIDINGS_DATABASE_URL: databaseUrlOf(schema.schema),
      EVENTSTORE_CONNECTION_STRING: '',
    };

    const { stdout } = await runRebuild(env, 'apps');
    expect(stdout).to.match(/rebuild: apps: done, [\d,]+ events in/);
    const reopened = openTempStore(temp.dir);
    try {
      expect(snapshot(reopened.db)).to.deep.equal(good);
      reopened.db
        .prepare("UPDATE folder_facts SET value = 'another' WHERE name = 'deployment'")
        .run();
    } finally {
      await reopened.close();
    }

    const refused = await runRebuild(env, 'apps').then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(refused?.code).to.equal(2);
    expect(refused?.stderr).to.match(/holds the read models of deployment another/);
  });
});

/**
 * Rebuilds read models from the event log: `npm run rebuild-projections [-- name ...]`.
 * Uses the same settings as the server (TIDINGS_DATA_DIR, and the log's TIDINGS_DATABASE_URL or
 * EVENTSTORE_CONNECTION_STRING) and refuses to run while a server holds the data folder. On a
 * shared PostgreSQL log it rebuilds this node's read models (each node keeps its own), and only
 * in a folder of that deployment.
 */
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings, type Settings } from '../adapters/config/settings.js';
import { lockDataDir } from '../adapters/config/dataDirLock.js';
import { unfinishedRestore } from '../adapters/config/dataFolderFiles.js';
import {
  claimDeployment,
  claimLogKind,
  openDatabase,
  type SqliteDatabase,
} from '../adapters/sqlite/database.js';
import { SqliteEventStore } from '../adapters/sqlite/sqliteEventStore.js';
import { CheckpointStore } from '../adapters/sqlite/checkpointStore.js';
import { openEsdbEventStore } from '../adapters/eventstoredb/esdbEventStore.js';
import { openPool } from '../adapters/postgres/pool.js';
import { PgEventStore } from '../adapters/postgres/pgEventStore.js';
import { deploymentIdOf } from '../adapters/postgres/sharedFiles.js';
import type { EventStore } from '../domain/shared/eventStore.js';
import { allProjections } from '../projections/index.js';
import { rebuildProjection } from '../application/processing/rebuild.js';
import { logKindOf } from '../composition/dataFolder.js';

const fail = (message: string): never => {
  process.stderr.write(`rebuild: ${message}\n`);
  process.exit(2);
};

const settings = E.getOrElse<string, Settings>(fail)(loadSettings(process.env));
const names = process.argv.slice(2);
const unknown = names.filter(
  (name) => !allProjections.some((projection) => projection.name === name),
);
if (unknown.length > 0) {
  fail(
    `unknown projection(s) ${unknown.join(', ')}; known: ${allProjections.map((p) => p.name).join(', ')}`,
  );
}
const chosen =
  names.length === 0 ? allProjections : allProjections.filter((p) => names.includes(p.name));

const lock = (() => {
  try {
    return lockDataDir(settings.dataDir, 'rebuild');
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();
const unfinished = unfinishedRestore(settings.dataDir);
if (unfinished !== undefined) {
  lock.release();
  fail(unfinished);
}
const db = openDatabase({ dataDir: settings.dataDir, synchronous: settings.sqliteSynchronous });
try {
  claimLogKind(db, logKindOf(settings));
} catch (error) {
  db.close();
  lock.release();
  fail(error instanceof Error ? error.message : String(error));
}
/** The deployment's shared log, once this folder is known to be that deployment's. */
const openSharedLog = async (url: string, folder: SqliteDatabase): Promise<EventStore> => {
  const pool = openPool(url, { max: 4 });
  try {
    claimDeployment(folder, await deploymentIdOf(pool));
    const shared = await PgEventStore.open(pool);
    return {
      readStream: (stream, options) => shared.readStream(stream, options),
      appendToStream: (stream, events, options) => shared.appendToStream(stream, events, options),
      readAll: (options) => shared.readAll(options),
      headPosition: () => shared.headPosition(),
      subscribe: (options) => shared.subscribe(options),
      close: async () => {
        await shared.close();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
};

const store: EventStore = await (async () => {
  try {
    if (settings.databaseUrl !== undefined) return await openSharedLog(settings.databaseUrl, db);
    return settings.eventStoreConnectionString === undefined
      ? new SqliteEventStore(db)
      : await openEsdbEventStore(settings.eventStoreConnectionString);
  } catch (error) {
    db.close();
    lock.release();
    return fail(error instanceof Error ? error.message : String(error));
  }
})();
const checkpoints = new CheckpointStore(db);
try {
  for (const projection of chosen) {
    const started = process.hrtime.bigint();
    let lastReport = started;
    const { events } = await rebuildProjection(db, store, checkpoints, projection, {
      onProgress: ({ events: done }) => {
        const now = process.hrtime.bigint();
        if (now - lastReport < 1_000_000_000n) return;
        lastReport = now;
        process.stdout.write(`rebuild: ${projection.name}: ${done.toLocaleString('en')} events…\n`);
      },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `rebuild: ${projection.name}: done, ${events.toLocaleString('en')} events in ${seconds.toFixed(2)} s\n`,
    );
  }
} finally {
  await store.close();
  db.close();
  lock.release();
}

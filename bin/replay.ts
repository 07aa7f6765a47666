/**
 * Point-in-time replay (docs/audit.md, "Point-in-time replay"):
 *
 *   npm run replay -- --until <time> --out <folder> [--data-dir <folder>]
 *
 * Rebuilds every read model as of `--until` into a new data folder `--out`, from the log of the
 * data folder (TIDINGS_DATA_DIR, or `--data-dir`), without touching it: the live database is
 * opened read-only, so a running server may go on. The new folder holds the log up to that time
 * (a prefix that verifies on its own), the read models built from it, and copies of the data
 * folder's files (tokens and keys, so its devices' secrets still open and the same audit token
 * works). Serve it with `TIDINGS_DATA_DIR=<folder> TIDINGS_READ_ONLY=1 npm start`.
 * Exit code 0 when done, 2 for a refused request.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FOLDER_FILES } from '../adapters/config/dataFolderFiles.js';
import { CheckpointStore } from '../adapters/sqlite/checkpointStore.js';
import { claimLogKind, openDatabase } from '../adapters/sqlite/database.js';
import { copyLogUntil, openSourceDatabase } from '../adapters/sqlite/replayCopy.js';
import { SqliteEventStore } from '../adapters/sqlite/sqliteEventStore.js';
import { rebuildProjection } from '../application/processing/rebuild.js';
import { allProjections } from '../projections/index.js';
import { callerPath, commandSettings, fail, parseCommandLine } from './commandLine.js';

const COMMAND = 'replay';
const USAGE = 'npm run replay -- --until <ISO 8601 time> --out <folder> [--data-dir <folder>]';
const { values } = parseCommandLine(COMMAND, USAGE, {
  until: { type: 'string' },
  out: { type: 'string' },
  'data-dir': { type: 'string' },
});
const text = (name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
const untilText = text('until') ?? fail(COMMAND, `name --until\nusage: ${USAGE}`);
const outText = text('out') ?? fail(COMMAND, `name --out\nusage: ${USAGE}`);
const untilMs = Date.parse(untilText);
if (!/^\d{4}-\d{2}-\d{2}T/.test(untilText) || Number.isNaN(untilMs)) {
  fail(COMMAND, `--until ${untilText} is not an ISO 8601 time such as 2026-12-05T10:00:00Z`);
}
const until = new Date(untilMs).toISOString();
const settings = commandSettings(COMMAND, text('data-dir'));
if (settings.eventStoreConnectionString !== undefined) {
  fail(COMMAND, 'replay reads the embedded log; this configuration names EventStoreDB');
}
const out = callerPath(outText);
if (existsSync(out) && readdirSync(out).length > 0) {
  fail(COMMAND, `${out} is not empty: name a new folder`);
}

const source = (() => {
  try {
    return openSourceDatabase(settings.dataDir);
  } catch (error) {
    return fail(COMMAND, (error as Error).message);
  }
})();
mkdirSync(out, { recursive: true, mode: 0o700 });
const db = openDatabase({ dataDir: out, synchronous: 'normal' });
claimLogKind(db, 'sqlite');
const started = process.hrtime.bigint();
const seconds = (): string => (Number(process.hrtime.bigint() - started) / 1e9).toFixed(2);
let reported = 0;
const copy = copyLogUntil(source, db, until, (copied) => {
  if (copied - reported < 100_000) return;
  reported = copied;
  process.stderr.write(`${COMMAND}: ${copied.toLocaleString('en')} events copied…\n`);
});
source.close();
process.stdout.write(
  `${COMMAND}: the log up to ${until}: ${copy.events.toLocaleString('en')} events (positions 1 to ${copy.lastPosition}), ${seconds()} s\n`,
);
const store = new SqliteEventStore(db);
const checkpoints = new CheckpointStore(db);
try {
  for (const projection of allProjections) {
    const { events } = await rebuildProjection(db, store, checkpoints, projection);
    process.stdout.write(
      `${COMMAND}: ${projection.name}: ${events.toLocaleString('en')} events, ${seconds()} s\n`,
    );
  }
} finally {
  await store.close();
  db.close();
}
for (const name of FOLDER_FILES) {
  const from = join(settings.dataDir, name);
  if (!existsSync(from)) continue;
  copyFileSync(from, join(out, name));
  chmodSync(join(out, name), 0o600);
}
process.stdout.write(
  `${COMMAND}: done in ${seconds()} s. Serve it with TIDINGS_DATA_DIR=${out} TIDINGS_READ_ONLY=1 npm start\n`,
);

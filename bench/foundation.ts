/**
 * Foundation benchmarks, one per child process so each starts from a clean heap:
 *   node --import tsx bench/foundation.ts <case> <dataDir> [options]
 * prints one JSON line with the figure. `bench/run.ts` drives them and prints the table.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import {
  openDatabase,
  openStoreDatabase,
  type SynchronousMode,
} from '../adapters/sqlite/database.js';
import { SqliteEventStore } from '../adapters/sqlite/sqliteEventStore.js';
import { SqliteAuditLog } from '../adapters/sqlite/auditLog.js';
import { CheckpointStore } from '../adapters/sqlite/checkpointStore.js';
import { handleCommand, type AggregateHandle } from '../domain/shared/commandHandler.js';
import type { NewEvent } from '../domain/shared/eventStore.js';
import { appDecider, appStreamName, type AppState } from '../domain/app/appDecider.js';
import { AppEventCodec, type AppEvent } from '../domain/app/appEvents.js';
import type { AppCommand } from '../domain/app/appCommands.js';
import { appsProjection } from '../projections/apps/appsProjection.js';
import { rebuildProjection } from '../application/processing/rebuild.js';
import { sampleRss, secondsSince } from './measure.js';
import { replayFolder } from '../composition/replay.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const [benchCase = '', dataDir = '', ...rest] = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = rest.find((arg) => arg.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.split('=')[1]);
};
const synchronous = (rest.find((arg) => arg.startsWith('--sync='))?.split('=')[1] ??
  'full') as SynchronousMode;
const now = '2026-11-24T10:00:00.000Z';
const metadata = {
  occurredAt: now,
  actor: { kind: 'system', id: 'bench' },
  correlationId: 'bench',
  causationId: 'bench',
  schemaVersion: 1,
} as const;

const app: AggregateHandle<AppCommand, AppEvent, AppState> = {
  decider: appDecider,
  eventCodec: AppEventCodec,
};

const registerData = (appId: string) => ({
  appId,
  name: `Bench app ${appId}`,
  redirectUris: ['https://bench.example/callback'],
  secretHash: `hash-${appId}`,
});

/** Ceiling: a bare insert loop into a table shaped like the log, committed every `batch` rows. */
const rawInsert = (): object => {
  const total = option('events', 100_000);
  const batch = option('batch', 500);
  const db = new Database(join(dataDir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
    stream TEXT NOT NULL, revision INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    metadata TEXT NOT NULL, UNIQUE (stream, revision))`);
  const insert = db.prepare(
    'INSERT INTO events (event_id, stream, revision, type, data, metadata) VALUES (?, ?, 0, ?, ?, ?)',
  );
  const meta = JSON.stringify(metadata);
  const insertMany = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const appId = `raw-${i}`;
      insert.run(
        randomUUID(),
        appStreamName(appId),
        'AppRegistered',
        JSON.stringify(registerData(appId)),
        meta,
      );
    }
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i += batch) insertMany(i, Math.min(i + batch, total));
  const seconds = secondsSince(start);
  db.close();
  return { events: total, seconds, perSecond: total / seconds };
};

/**
 * Appends through the command handler to new streams from `writers` concurrent writers. By
 * default each command names an id made just now, as the server's registrations and submissions
 * do (`newStream`: nothing to read first); `--read-first` reads each new stream before deciding,
 * as a command on an id from outside would.
 */
const handlerAppend = async (): Promise<object> => {
  const total = option('events', 100_000);
  const writers = option('writers', 50);
  // As the server opens it: with synchronous=full the store syncs the WAL off the event loop.
  const { db, walSync } = openStoreDatabase({ dataDir, synchronous });
  // --chain=off: the same appends without the hash chain, the ceiling its cost is measured by.
  const chain = !process.argv.includes('--chain=off');
  const newStream = !process.argv.includes('--read-first');
  const store = new SqliteEventStore(db, { ...(walSync === undefined ? {} : { walSync }), chain });
  let next = 0;
  let failures = 0;
  const writer = async (): Promise<void> => {
    while (next < total) {
      const appId = `bench-${next}`;
      next += 1;
      const result = await handleCommand(
        store,
        app,
        appStreamName(appId),
        { type: 'RegisterApp', data: registerData(appId), metadata: { now } },
        { commandId: `register-${appId}`, actor: metadata.actor, newStream },
      );
      if (E.isLeft(result)) failures += 1;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: writers }, writer));
  const seconds = secondsSince(start);
  const stored = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n ?? 0;
  await store.close();
  db.close();
  return { events: total, writers, seconds, perSecond: total / seconds, failures, stored };
};

/** Fills a log with `events` App events: 1 registration and 9 penalties per app. */
const seed = async (): Promise<object> => {
  const total = option('events', 500_000);
  const db = openDatabase({ dataDir, synchronous: 'normal' });
  const store = new SqliteEventStore(db);
  const perApp = 10;
  const start = process.hrtime.bigint();
  const pending: Array<Promise<unknown>> = [];
  for (let appIndex = 0; appIndex * perApp < total; appIndex += 1) {
    const appId = `seed-${appIndex}`;
    const events: NewEvent[] = [
      { id: randomUUID(), type: 'AppRegistered', data: registerData(appId), metadata },
    ];
    for (let p = 1; p < perApp; p += 1) {
      events.push({
        id: randomUUID(),
        type: 'AppPenalized',
        data: {
          appId,
          points: 1,
          scoreAfter: 100 - p,
          complaintIds: [`${appId}-${p}`],
          reason: 'bench',
        },
        metadata,
      });
    }
    pending.push(
      store.appendToStream(appStreamName(appId), events, { expectedRevision: 'no_stream' }),
    );
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const seconds = secondsSince(start);
  await store.close();
  db.close();
  return { events: total, seconds };
};

/** Ceiling: a bare read loop over the whole log (rows only, no decoding). */
const rawRead = (): object => {
  const db = new Database(join(dataDir, 'tidings.db'), { readonly: true });
  const start = process.hrtime.bigint();
  let rows = 0;
  let bytes = 0;
  for (const row of db
    .prepare<[], { data: string }>('SELECT * FROM events ORDER BY position')
    .iterate()) {
    rows += 1;
    bytes += row.data.length;
  }
  const seconds = secondsSince(start);
  db.close();
  return { events: rows, seconds, perSecond: rows / seconds, bytes };
};

/** Replays the whole log into the apps projection through the rebuild path. */
const replay = async (): Promise<object> => {
  const db = openDatabase({ dataDir, synchronous });
  const store = new SqliteEventStore(db);
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  const { events } = await rebuildProjection(db, store, new CheckpointStore(db), appsProjection);
  const seconds = secondsSince(start);
  const peakRssMb = rss.stop();
  const apps = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM apps').get()?.n ?? 0;
  await store.close();
  db.close();
  return { events, seconds, perSecond: events / seconds, peakRssMb, apps };
};

/**
 * `npm run replay -- --until <t> --out <folder>` over the whole log: the copy of the log and every
 * read model rebuilt from it, as the command does it (composition/replay.ts).
 */
const replayUntil = async (): Promise<object> => {
  const out = mkdtempSync(join(tmpdir(), 'tidings-bench-replay-'));
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  let copySeconds = 0;
  const { events } = await replayFolder({
    from: dataDir,
    out,
    until: '2100-01-01T00:00:00.000Z',
    onProgress: (progress) => {
      if (progress.step === 'copied') copySeconds = secondsSince(start);
    },
  });
  const seconds = secondsSince(start);
  const peakRssMb = rss.stop();
  rmSync(out, { recursive: true, force: true });
  return { events, seconds, perSecond: events / seconds, copySeconds, peakRssMb };
};

/** Recomputes the whole log's hash chain as `GET /v1/audit/verify` does. */
const verify = async (): Promise<object> => {
  const db = openDatabase({ dataDir, synchronous: 'normal' });
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  const report = await new SqliteAuditLog(db).verify({});
  const seconds = secondsSince(start);
  const peakRssMb = rss.stop();
  db.close();
  return {
    events: report.checked,
    seconds,
    perSecond: report.checked / seconds,
    peakRssMb,
    failures: report.ok ? 0 : 1,
  };
};

const cases: Record<string, () => object | Promise<object>> = {
  rawInsert,
  handlerAppend,
  seed,
  rawRead,
  replay,
  replayUntil,
  verify,
};
const run = cases[benchCase];
if (run === undefined || dataDir === '') {
  process.stderr.write(
    `usage: foundation.ts <${Object.keys(cases).join('|')}> <dataDir> [--events=N] [--writers=N] [--sync=full|normal]\n`,
  );
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);

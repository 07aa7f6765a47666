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
import { existsSync, readdirSync } from 'node:fs';
import { replayFolder } from '../composition/replay.js';
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

const started = process.hrtime.bigint();
const seconds = (): string => (Number(process.hrtime.bigint() - started) / 1e9).toFixed(2);
let reported = 0;
try {
  await replayFolder({
    from: settings.dataDir,
    out,
    until,
    onProgress: (progress) => {
      if (progress.step === 'copying') {
        const percent = Math.floor((100 * progress.pages) / Math.max(progress.totalPages, 1));
        if (percent - reported < 10 || progress.pages === progress.totalPages) return;
        reported = percent;
        process.stderr.write(
          `${COMMAND}: ${progress.pages.toLocaleString('en')} of ${progress.totalPages.toLocaleString('en')} pages copied (${percent} %)…\n`,
        );
      } else if (progress.step === 'copied') {
        process.stdout.write(
          `${COMMAND}: the log up to ${until}: ${progress.events.toLocaleString('en')} events (positions 1 to ${progress.lastPosition}), ${seconds()} s\n`,
        );
      } else {
        process.stdout.write(
          `${COMMAND}: ${progress.projection}: ${progress.events.toLocaleString('en')} events, ${seconds()} s\n`,
        );
      }
    },
  });
} catch (error) {
  fail(COMMAND, (error as Error).message);
}
process.stdout.write(
  `${COMMAND}: done in ${seconds()} s. Serve it with TIDINGS_DATA_DIR=${out} TIDINGS_READ_ONLY=1 npm start\n`,
);

/**
 * Takes a consistent copy of the embedded store, online: `npm run backup -- <file> [--force]
 * [--data-dir <folder>]`. Uses the server's settings (TIDINGS_DATA_DIR, and refuses with
 * EVENTSTORE_CONNECTION_STRING set) and runs beside a running server (README "Backups").
 */
import * as E from 'fp-ts/lib/Either.js';
import { backupDataFolder } from '../composition/backup.js';
import { commandSettings, count, fail, parseCommandLine } from './commandLine.js';

const COMMAND = 'backup';
const { values, positionals } = parseCommandLine(
  COMMAND,
  'npm run backup -- <file> [--force] [--data-dir <folder>]',
  { force: { type: 'boolean' }, 'data-dir': { type: 'string' } },
);
const [target, ...extra] = positionals;
if (target === undefined || extra.length > 0) {
  fail(
    COMMAND,
    'name one backup file\nusage: npm run backup -- <file> [--force] [--data-dir <folder>]',
  );
}
const dataDir = values['data-dir'];
const settings = commandSettings(COMMAND, typeof dataDir === 'string' ? dataDir : undefined);

let lastReport = process.hrtime.bigint();
try {
  const result = await backupDataFolder({
    settings,
    target: target ?? '',
    force: values['force'] === true,
    onProgress: ({ done, total }) => {
      const now = process.hrtime.bigint();
      if (now - lastReport < 1_000_000_000n) return;
      lastReport = now;
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      process.stdout.write(`${COMMAND}: ${count(done)} of ${count(total)} pages (${percent} %)\n`);
    },
  });
  if (E.isLeft(result)) fail(COMMAND, result.left.message);
  else {
    const { file, bytes, manifest, files, skipped, elapsedMs } = result.right;
    if (skipped.length > 0) {
      process.stdout.write(
        `${COMMAND}: not copied, not Tidings's: ${skipped.join(', ')} (in ${settings.dataDir})\n`,
      );
    }
    process.stdout.write(
      `${COMMAND}: wrote ${file}: ${(bytes / 1e6).toFixed(1)} MB, ${count(manifest.events)} events, log head at ${count(manifest.headPosition)}, ${files.length === 0 ? 'no folder files' : `with ${files.join(', ')}`}, in ${(elapsedMs / 1000).toFixed(2)} s\n`,
    );
  }
} catch (error) {
  fail(COMMAND, `failed: ${error instanceof Error ? error.message : String(error)}`, 1);
}

/**
 * Restores a backup into an empty data folder: `npm run restore -- <file> [--data-dir <folder>]`.
 * The folder is TIDINGS_DATA_DIR unless `--data-dir` names one; `npm start` then starts on it as
 * it is (README "Backups").
 */
import * as E from 'fp-ts/lib/Either.js';
import { restoreDataFolder } from '../composition/restore.js';
import { commandSettings, count, fail, parseCommandLine } from './commandLine.js';

const COMMAND = 'restore';
const USAGE = 'npm run restore -- <file> [--data-dir <folder>]';
const { values, positionals } = parseCommandLine(COMMAND, USAGE, {
  'data-dir': { type: 'string' },
});
const [file, ...extra] = positionals;
if (file === undefined || extra.length > 0) fail(COMMAND, `name one backup file\nusage: ${USAGE}`);
const dataDir = values['data-dir'];
const settings = commandSettings(COMMAND, typeof dataDir === 'string' ? dataDir : undefined);

try {
  const result = restoreDataFolder({ settings, file: file ?? '' });
  if (E.isLeft(result)) fail(COMMAND, result.left.message);
  else {
    const { manifest, files, elapsedMs } = result.right;
    process.stdout.write(
      `${COMMAND}: restored ${file ?? ''} into ${result.right.dataDir}: ${count(manifest.events)} events, log head at ${count(manifest.headPosition)}, taken ${manifest.createdAt} from ${manifest.source}, ${files.length === 0 ? 'no folder files' : `with ${files.join(', ')}`}, in ${(elapsedMs / 1000).toFixed(2)} s; start the server on it\n`,
    );
  }
} catch (error) {
  fail(COMMAND, `failed: ${error instanceof Error ? error.message : String(error)}`, 1);
}

/**
 * Restores a backup into an empty data folder: `npm run restore -- <file> [--data-dir <folder>]`.
 * The folder is TIDINGS_DATA_DIR unless `--data-dir` names one; `npm start` then starts on it as
 * it is (README "Backups").
 */
import * as E from 'fp-ts/lib/Either.js';
import { restoreDataFolder } from '../composition/restore.js';
import { callerPath, commandSettings, fail, parseCommandLine } from './commandLine.js';
import { clearedLine, restoreSummaryLine } from './backupReport.js';

const COMMAND = 'restore';
const USAGE = 'npm run restore -- <file> [--data-dir <folder>]';
const { values, positionals } = parseCommandLine(COMMAND, USAGE, {
  'data-dir': { type: 'string' },
});
const [named, ...extra] = positionals;
if (named === undefined || named === '' || extra.length > 0)
  fail(COMMAND, `name one backup file\nusage: ${USAGE}`);
const file = callerPath(named ?? '');
const dataDir = values['data-dir'];
const settings = commandSettings(COMMAND, typeof dataDir === 'string' ? dataDir : undefined);

try {
  const result = restoreDataFolder({ settings, file });
  if (E.isLeft(result)) fail(COMMAND, result.left.message);
  else {
    const cleared = clearedLine(result.right);
    if (cleared !== undefined) process.stdout.write(`${cleared}\n`);
    process.stdout.write(`${restoreSummaryLine(file, result.right)}\n`);
  }
} catch (error) {
  fail(COMMAND, `failed: ${error instanceof Error ? error.message : String(error)}`, 1);
}

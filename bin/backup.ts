/**
 * Takes a consistent copy of the embedded store, online: `npm run backup -- <file> [--force]
 * [--data-dir <folder>]`. Uses the server's settings (TIDINGS_DATA_DIR; refused with
 * EVENTSTORE_CONNECTION_STRING set) and runs beside a running server (README "Backups").
 */
import * as E from 'fp-ts/lib/Either.js';
import { backupDataFolder } from '../composition/backup.js';
import { commandSettings, fail, parseCommandLine } from './commandLine.js';
import { backupSummaryLine, progressPrinter, skippedLine } from './backupReport.js';

const COMMAND = 'backup';
const USAGE = 'npm run backup -- <file> [--force] [--data-dir <folder>]';
const { values, positionals } = parseCommandLine(COMMAND, USAGE, {
  force: { type: 'boolean' },
  'data-dir': { type: 'string' },
});
const [target, ...extra] = positionals;
if (target === undefined || extra.length > 0)
  fail(COMMAND, `name one backup file\nusage: ${USAGE}`);
const dataDir = values['data-dir'];
const settings = commandSettings(COMMAND, typeof dataDir === 'string' ? dataDir : undefined);
const print = (line: string | undefined): void => {
  if (line !== undefined) process.stdout.write(`${line}\n`);
};

try {
  const result = await backupDataFolder({
    settings,
    target: target ?? '',
    force: values['force'] === true,
    onProgress: progressPrinter(print),
  });
  if (E.isLeft(result)) fail(COMMAND, result.left.message);
  else {
    print(skippedLine(result.right, settings.dataDir));
    print(backupSummaryLine(result.right));
  }
} catch (error) {
  fail(COMMAND, `failed: ${error instanceof Error ? error.message : String(error)}`, 1);
}

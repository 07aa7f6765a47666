/**
 * Takes a consistent copy of the embedded store, online: `npm run backup -- <file> [--force]
 * [--data-dir <folder>]`. Uses the server's settings (TIDINGS_DATA_DIR; refused with
 * EVENTSTORE_CONNECTION_STRING set) and runs beside a running server (README "Backups").
 * Stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP, it removes its partial copy, which holds the
 * tokens and password hashes, and exits with 128 + the signal's number.
 */
import * as E from 'fp-ts/lib/Either.js';
import { backupDataFolder, removePartialBackup } from '../composition/backup.js';
import { callerPath, commandSettings, fail, parseCommandLine } from './commandLine.js';
import { backupSummaryLine, progressPrinter, skippedLine } from './backupReport.js';

const COMMAND = 'backup';
const USAGE = 'npm run backup -- <file> [--force] [--data-dir <folder>]';
const { values, positionals } = parseCommandLine(COMMAND, USAGE, {
  force: { type: 'boolean' },
  'data-dir': { type: 'string' },
});
const [named, ...extra] = positionals;
if (named === undefined || named === '' || extra.length > 0)
  fail(COMMAND, `name one backup file\nusage: ${USAGE}`);
const target = callerPath(named ?? '');
const dataDir = values['data-dir'];
const settings = commandSettings(COMMAND, typeof dataDir === 'string' ? dataDir : undefined);
const print = (line: string | undefined): void => {
  if (line !== undefined) process.stdout.write(`${line}\n`);
};

const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
  process.once(signal, () => {
    removePartialBackup(target);
    process.stderr.write(`${COMMAND}: stopped by ${signal}; the partial copy is removed\n`);
    process.exit(code);
  });
}

try {
  const result = await backupDataFolder({
    settings,
    target,
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

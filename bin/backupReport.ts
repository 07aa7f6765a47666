import type { SnapshotProgress } from '../adapters/sqlite/onlineBackup.js';
import type { BackupSummary } from '../composition/backup.js';
import type { RestoreSummary } from '../composition/restore.js';

/** What `npm run backup` and `npm run restore` print (README "Backups"). */

/** A count for people: 12,345. */
export const count = (n: number): string => n.toLocaleString('en');

/**
 * A progress callback that prints the pages copied at most once per `everyMs` (from the first
 * call on), so a small store prints nothing and a large one a line a second.
 */
export const progressPrinter = (
  write: (line: string) => void,
  nowMs: () => number = () => performance.now(),
  everyMs = 1_000,
): ((progress: SnapshotProgress) => void) => {
  let last: number | undefined;
  return ({ done, total }) => {
    const now = nowMs();
    last ??= now;
    if (now - last < everyMs) return;
    last = now;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    write(`backup: ${count(done)} of ${count(total)} pages copied (${percent} %)`);
  };
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const carried = (files: readonly string[]): string =>
  files.length === 0 ? 'no folder files' : `with ${files.join(', ')}`;

/** The backup's one-line summary: file, size, events, head position, time taken. */
export const backupSummaryLine = (summary: BackupSummary): string =>
  `backup: wrote ${summary.file}: ${(summary.bytes / 1e6).toFixed(1)} MB, ${count(summary.manifest.events)} events, log head at ${count(summary.manifest.headPosition)}, ${carried(summary.files)}, in ${seconds(summary.elapsedMs)}`;

/** The line naming what the backup left out, if anything. */
export const skippedLine = (summary: BackupSummary, dataDir: string): string | undefined =>
  summary.skipped.length === 0
    ? undefined
    : `backup: not copied (not Tidings's) from ${dataDir}: ${summary.skipped.join(', ')}`;

/** The line naming what an unfinished restore had left and this one removed, if anything. */
export const clearedLine = (summary: RestoreSummary): string | undefined =>
  summary.cleared.length === 0
    ? undefined
    : `restore: removed what an unfinished restore had left in ${summary.dataDir}: ${summary.cleared.join(', ')}`;

/** The restore's one-line summary. */
export const restoreSummaryLine = (file: string, summary: RestoreSummary): string =>
  `restore: restored ${file} into ${summary.dataDir}: ${count(summary.manifest.events)} events, log head at ${count(summary.manifest.headPosition)}, taken ${summary.manifest.createdAt} from ${summary.manifest.source}, ${carried(summary.files)}, in ${seconds(summary.elapsedMs)}; the server starts on it as it is`;

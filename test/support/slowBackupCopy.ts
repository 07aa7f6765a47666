/**
 * Preloaded into a backup process (`node --import tsx --import ./test/support/slowBackupCopy.ts
 * bin/backup.ts …`), makes SQLite's online backup copy one page per step and wait 20 ms after
 * each, so a test can stop the process while the copy is under way; it prints
 * {@link COPY_STARTED} on stdout once the first step is done (the partial copy exists by then).
 */
import Database from 'better-sqlite3';

export const COPY_STARTED = 'slow copy: started';

type Backup = Database.Database['backup'];
// Taken off the prototype as a value, then called on each database (`this`) as SQLite's own.
const backup: Backup = Reflect.get(Database.prototype, 'backup');
const pause = new Int32Array(new SharedArrayBuffer(4));

Database.prototype.backup = function (this: Database.Database, file, options) {
  let started = false;
  return backup.call(this, file, {
    ...options,
    progress: (info) => {
      options?.progress(info);
      if (!started) {
        started = true;
        process.stdout.write(`${COPY_STARTED}\n`);
      }
      Atomics.wait(pause, 0, 0, 20);
      return 1;
    },
  });
};

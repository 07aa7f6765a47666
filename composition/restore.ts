import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Settings } from '../adapters/config/settings.js';
import { lockDataDir, type DataDirLock } from '../adapters/config/dataDirLock.js';
import {
  FOLDER_FILES,
  LOCK_FILES,
  RESTORING_FILE,
  sqliteFilesOf,
  STORE_FILES,
} from '../adapters/config/dataFolderFiles.js';
import { DATABASE_FILE } from '../adapters/sqlite/database.js';
import { refusal, type BackupRefusal } from '../adapters/sqlite/backupRefusal.js';
import {
  readBackup,
  stripBackupTables,
  type BackupContents,
  type BackupManifest,
} from '../adapters/sqlite/backupFile.js';
import { refuseEventStoreDb, syncFile } from './backup.js';

/** What `npm run restore` asks for (README "Backups"). */
export interface RestoreRequest {
  /** The data folder to restore into (empty or absent) and which log the settings choose. */
  readonly settings: Pick<Settings, 'dataDir' | 'eventStoreConnectionString'>;
  /** The backup file. */
  readonly file: string;
}

/** What a restore wrote. */
export interface RestoreSummary {
  /** The data folder, as an absolute path. */
  readonly dataDir: string;
  readonly manifest: BackupManifest;
  /** The data folder's files it wrote back beside the database. */
  readonly files: readonly string[];
  /** What an earlier restore that did not finish had left in the folder, removed first. */
  readonly cleared: readonly string[];
  readonly elapsedMs: number;
}

/** Owner-only, as the server makes them: the folder holds the log, tokens and password hashes. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * What a restore writes into the folder, in the order a restore removes it: the folder's files,
 * then the database under its temporary name, whose own file marks the folder as an unfinished
 * restore and so goes last.
 */
const RESTORE_OUTPUT: readonly string[] = [
  ...FOLDER_FILES,
  ...sqliteFilesOf(RESTORING_FILE).filter((name) => name !== RESTORING_FILE),
  RESTORING_FILE,
];

/**
 * Restores a backup into an empty (or absent) data folder, which a server then starts on as it
 * is. The folder is locked first, as a server locks it, and then found empty but for the lock's
 * own files; everything after happens under the lock: the backup is checked in full
 * (`readBackup`), the database goes in under a temporary name ({@link RESTORING_FILE}), then the
 * folder's files, and last the rename to `tidings.db`. Until that rename the temporary name marks
 * the folder as a restore that did not finish, which a server refuses to start on and a restore
 * run again clears (`unfinishedRestore`), so a restore that is killed or fails midway never
 * leaves something that passes for a store. A refused restore leaves the folder as it found it;
 * one that fails while it writes removes what it wrote (and the leftovers it cleared).
 */
export const restoreDataFolder = (
  request: RestoreRequest,
): E.Either<BackupRefusal, RestoreSummary> => {
  const started = performance.now();
  const dataDir = resolve(request.settings.dataDir);
  const file = resolve(request.file);
  const refused =
    refuseEventStoreDb(request.settings) ?? refuseFile(file) ?? refuseNotAFolder(dataDir);
  if (refused !== undefined) return E.left(refused);
  const made = mkdirSync(dataDir, { recursive: true, mode: FOLDER_MODE });
  const found = new Set(readdirSync(dataDir));
  let lock: DataDirLock;
  try {
    lock = lockDataDir(dataDir, 'restore');
  } catch (error) {
    removeMadeFolders(dataDir, made);
    return E.left(refusal('folder_in_use', error instanceof Error ? error.message : String(error)));
  }
  let writing = false;
  let done = false;
  try {
    const leftovers = leftoversOf(dataDir);
    if (E.isLeft(leftovers)) return leftovers;
    const contents = checkedBackup(file);
    if (E.isLeft(contents)) return contents;
    writing = true;
    clear(dataDir, leftovers.right);
    chmodSync(dataDir, FOLDER_MODE);
    const written = writeStore(file, dataDir, contents.right);
    if (E.isLeft(written)) return written;
    done = true;
    return E.right({
      dataDir,
      manifest: contents.right.manifest,
      files: contents.right.files.map((carried) => carried.name),
      cleared: leftovers.right,
      elapsedMs: performance.now() - started,
    });
  } finally {
    // Of its own output, nothing stays behind but a finished store.
    if (writing && !done) clear(dataDir, RESTORE_OUTPUT);
    // The lock's files go while it is still held: a server that starts now makes its own.
    for (const name of LOCK_FILES) {
      if (!found.has(name)) rmSync(join(dataDir, name), { force: true });
    }
    lock.release();
    if (!done) removeMadeFolders(dataDir, made);
  }
};

const refuseFile = (file: string): BackupRefusal | undefined =>
  existsSync(file) && statSync(file).isFile()
    ? undefined
    : refusal('no_backup_file', `there is no backup file ${file}`);

const refuseNotAFolder = (dataDir: string): BackupRefusal | undefined =>
  existsSync(dataDir) && !statSync(dataDir).isDirectory()
    ? refusal('folder_not_empty', `${dataDir} is not a folder`)
    : undefined;

/**
 * The one look at the folder, under the lock: empty but for the lock's files, or holding only
 * what a restore that did not finish left (its temporary database and the folder's files),
 * which are then the names to clear. Anything else refuses.
 */
const leftoversOf = (dataDir: string): E.Either<BackupRefusal, readonly string[]> => {
  const entries = readdirSync(dataDir)
    .filter((name) => !LOCK_FILES.includes(name))
    .sort();
  if (entries.length === 0) return E.right([]);
  const unfinished = entries.includes(RESTORING_FILE);
  if (unfinished && entries.every((name) => RESTORE_OUTPUT.includes(name))) return E.right(entries);
  const foreign = entries.filter((name) => !unfinished || !RESTORE_OUTPUT.includes(name));
  const shown = `${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}`;
  return E.left(
    refusal(
      'folder_not_empty',
      unfinished
        ? `${dataDir} holds what a restore that did not finish left, and other files (${shown}); remove those, or restore into an empty or new folder`
        : `${dataDir} is not empty (${shown}); restore into an empty or new folder`,
    ),
  );
};

/** The backup, checked in full, carrying none but the folder's own files. */
const checkedBackup = (file: string): E.Either<BackupRefusal, BackupContents> =>
  pipe(
    readBackup(file),
    E.flatMap((contents) => {
      const stranger = contents.files.find((carried) => !FOLDER_FILES.includes(carried.name));
      return stranger === undefined
        ? E.right(contents)
        : E.left(
            refusal(
              'corrupt',
              `${file} is damaged: it carries a file named ${stranger.name}, which is none of the data folder's (${FOLDER_FILES.join(', ')})`,
            ),
          );
    }),
  );

/**
 * The database first, under its temporary name and on disk (file and folder synced) before
 * anything else is written, then the folder's files, each owner-only and synced; last the
 * rename, unless a store appeared in the folder meanwhile (written by something that does not
 * take the lock), which it would otherwise replace and leave beside another store's WAL.
 */
const writeStore = (
  file: string,
  dataDir: string,
  contents: BackupContents,
): E.Either<BackupRefusal, void> => {
  const restoring = join(dataDir, RESTORING_FILE);
  copyFileSync(file, restoring, constants.COPYFILE_EXCL);
  chmodSync(restoring, FILE_MODE);
  syncFile(restoring);
  syncFile(dataDir);
  for (const carried of contents.files) {
    const path = join(dataDir, carried.name);
    writeFileSync(path, carried.content, { mode: FILE_MODE, flag: 'wx' });
    chmodSync(path, FILE_MODE);
    syncFile(path);
  }
  stripBackupTables(restoring);
  syncFile(restoring);
  const appeared = STORE_FILES.filter((name) => existsSync(join(dataDir, name)));
  if (appeared.length > 0) {
    return E.left(
      refusal(
        'folder_not_empty',
        `${appeared.join(', ')} appeared in ${dataDir} while the restore wrote it (another process writes there without the lock); nothing was restored`,
      ),
    );
  }
  renameSync(restoring, join(dataDir, DATABASE_FILE));
  syncFile(dataDir);
  return E.right(undefined);
};

/**
 * Removes `names` from the folder in the order of {@link RESTORE_OUTPUT}, so the temporary
 * database, which marks the folder as an unfinished restore, goes last, and syncs the folder.
 */
const clear = (dataDir: string, names: readonly string[]): void => {
  if (names.length === 0) return;
  for (const name of RESTORE_OUTPUT.filter((output) => names.includes(output))) {
    rmSync(join(dataDir, name), { force: true });
  }
  syncFile(dataDir);
};

/**
 * After a refused or failed restore: the folders it made removed again, from the data folder up
 * to the first it made, as long as they are empty (what another process put there stays).
 */
const removeMadeFolders = (dataDir: string, made: string | undefined): void => {
  if (made === undefined) return;
  for (let folder = dataDir; ; folder = dirname(folder)) {
    try {
      rmdirSync(folder);
    } catch {
      return;
    }
    if (folder === made) return;
  }
};

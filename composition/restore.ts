import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import type { Settings } from '../adapters/config/settings.js';
import { lockDataDir, type DataDirLock } from '../adapters/config/dataDirLock.js';
import { isStoreOrLockFile } from '../adapters/config/dataFolderFiles.js';
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
  readonly elapsedMs: number;
}

/** Owner-only, as the server makes them: the folder holds the log, tokens and password hashes. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Restores a backup into an empty (or absent) data folder, which a server then starts on as it
 * is. The backup is checked in full first (`readBackup`); while it is written the folder is
 * locked like a server would lock it, and the database goes in last, under a temporary name
 * renamed at the end, so a failed restore leaves the folder empty rather than half a store.
 */
export const restoreDataFolder = (
  request: RestoreRequest,
): E.Either<BackupRefusal, RestoreSummary> => {
  const started = performance.now();
  const dataDir = resolve(request.settings.dataDir);
  const file = resolve(request.file);
  const refused = refuseEventStoreDb(request.settings) ?? refuseFile(file) ?? refuseFolder(dataDir);
  if (refused !== undefined) return E.left(refused);
  const contents = readBackup(file);
  if (E.isLeft(contents)) return contents;
  const foreign = contents.right.files.find((carried) => isStoreOrLockFile(carried.name));
  if (foreign !== undefined) {
    return E.left(
      refusal('corrupt', `${file} is damaged: it carries a file named ${foreign.name}`),
    );
  }
  const existed = existsSync(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: FOLDER_MODE });
  chmodSync(dataDir, FOLDER_MODE);
  let lock: DataDirLock;
  try {
    lock = lockDataDir(dataDir, 'restore');
  } catch (error) {
    return E.left(refusal('folder_in_use', error instanceof Error ? error.message : String(error)));
  }
  let state: 'checking' | 'writing' | 'written' = 'checking';
  try {
    // Another process may have written into the folder between the check and the lock.
    const again = refuseFolder(dataDir, isStoreOrLockFile);
    if (again !== undefined) return E.left(again);
    state = 'writing';
    writeStore(file, dataDir, contents.right);
    state = 'written';
  } finally {
    lock.release();
    if (state === 'writing') emptyAgain(dataDir, existed);
  }
  return E.right({
    dataDir,
    manifest: contents.right.manifest,
    files: contents.right.files.map((carried) => carried.name),
    elapsedMs: performance.now() - started,
  });
};

const refuseFile = (file: string): BackupRefusal | undefined =>
  existsSync(file) && statSync(file).isFile()
    ? undefined
    : refusal('no_backup_file', `there is no backup file ${file}`);

/** A restore writes only into a folder that is absent or empty (`ignore` names what may be there). */
const refuseFolder = (
  dataDir: string,
  ignore: (name: string) => boolean = () => false,
): BackupRefusal | undefined => {
  if (!existsSync(dataDir)) return undefined;
  if (!statSync(dataDir).isDirectory()) {
    return refusal('folder_not_empty', `${dataDir} is not a folder`);
  }
  const entries = readdirSync(dataDir).filter((name) => !ignore(name));
  if (entries.length === 0) return undefined;
  const shown = entries.sort().slice(0, 3).join(', ');
  return refusal(
    'folder_not_empty',
    `${dataDir} is not empty (${shown}${entries.length > 3 ? ', …' : ''}); restore into an empty or new folder`,
  );
};

/** The folder's files first, the database last, each owner-only and synced. */
const writeStore = (file: string, dataDir: string, contents: BackupContents): void => {
  for (const carried of contents.files) {
    const path = join(dataDir, carried.name);
    writeFileSync(path, carried.content, { mode: FILE_MODE, flag: 'wx' });
    chmodSync(path, FILE_MODE);
    syncFile(path);
  }
  const restoring = join(dataDir, `${DATABASE_FILE}.restoring`);
  copyFileSync(file, restoring);
  chmodSync(restoring, FILE_MODE);
  stripBackupTables(restoring);
  syncFile(restoring);
  renameSync(restoring, join(dataDir, DATABASE_FILE));
  syncFile(dataDir);
};

/** After a restore failed while writing: the folder as it was found, empty (or gone, if it made it). */
const emptyAgain = (dataDir: string, existed: boolean): void => {
  if (!existed) {
    rmSync(dataDir, { recursive: true, force: true });
    return;
  }
  for (const name of readdirSync(dataDir))
    rmSync(join(dataDir, name), { recursive: true, force: true });
};

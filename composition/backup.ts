import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import type { Settings } from '../adapters/config/settings.js';
import {
  FOLDER_FILES,
  isStoreOrLockFile,
  sqliteFilesOf,
} from '../adapters/config/dataFolderFiles.js';
import { DATABASE_FILE } from '../adapters/sqlite/database.js';
import { refusal, type BackupRefusal } from '../adapters/sqlite/backupRefusal.js';
import {
  BACKUP_FORMAT,
  sealBackup,
  type BackupManifest,
  type CarriedFile,
} from '../adapters/sqlite/backupFile.js';
import {
  copySnapshot,
  openStoreForBackup,
  type SnapshotProgress,
} from '../adapters/sqlite/onlineBackup.js';
import { logKindOf } from './dataFolder.js';

/** What `npm run backup` asks for (README "Backups"). */
export interface BackupRequest {
  /** Where the data folder is and which log the settings choose. */
  readonly settings: Pick<Settings, 'dataDir' | 'eventStoreConnectionString'>;
  /** The backup file to write. */
  readonly target: string;
  /** Replace `target` if it exists. */
  readonly force?: boolean;
  /** The clock for the manifest's time. */
  readonly now?: () => Date;
  /** Pages copied per step (tests make it small to interleave writes with the copy). */
  readonly pagesPerStep?: number;
  readonly onProgress?: (progress: SnapshotProgress) => void;
}

/** What a backup wrote. */
export interface BackupSummary {
  /** The backup file, as an absolute path. */
  readonly file: string;
  readonly bytes: number;
  readonly manifest: BackupManifest;
  /** The data folder's files it carries. */
  readonly files: readonly string[];
  /** Entries of the data folder that are not Tidings's and were not copied. */
  readonly skipped: readonly string[];
  readonly elapsedMs: number;
}

/**
 * Takes a consistent online copy of the embedded store, with the data folder's files (the
 * generated tokens), into one backup file; a server may run on the folder meanwhile and keep
 * accepting writes. The file appears under its name only when it is complete and checked
 * (written beside it, then renamed), owner-only as it holds secrets.
 */
export const backupDataFolder = async (
  request: BackupRequest,
): Promise<E.Either<BackupRefusal, BackupSummary>> => {
  const started = performance.now();
  const dataDir = resolve(request.settings.dataDir);
  const target = resolve(request.target);
  const refused =
    refuseEventStoreDb(request.settings) ??
    refuseFolder(dataDir) ??
    refuseTarget(target, dataDir, request.force === true);
  if (refused !== undefined) return E.left(refused);
  const opened = openStoreForBackup(join(dataDir, DATABASE_FILE));
  if (E.isLeft(opened)) return opened;
  const source = opened.right;
  const partial = partialFileOf(target);
  try {
    const { files, skipped } = folderFiles(dataDir);
    // Created owner-only before SQLite writes into it: it will hold the tokens and password hashes.
    rmSync(partial, { force: true });
    closeSync(openSync(partial, 'wx', 0o600));
    const createdAt = (request.now ?? (() => new Date()))().toISOString();
    const snapshot = await copySnapshot(source, partial, {
      ...(request.pagesPerStep === undefined ? {} : { pagesPerStep: request.pagesPerStep }),
      ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }),
    });
    source.close();
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt,
      headPosition: snapshot.headPosition,
      events: snapshot.events ?? 0,
      schemaVersion: snapshot.schemaVersion,
      source: `${hostname()}:${dataDir}`,
    };
    sealBackup(partial, manifest, files);
    syncFile(partial);
    renameSync(partial, target);
    syncFile(dirname(target));
    return E.right({
      file: target,
      bytes: statSync(target).size,
      manifest,
      files: files.map((file) => file.name),
      skipped,
      elapsedMs: performance.now() - started,
    });
  } finally {
    if (source.open) source.close();
    removePartialBackup(target);
  }
};

/** Where a backup of this process writes the copy of `target` until it is complete, hidden. */
const partialFileOf = (target: string): string => {
  const absolute = resolve(target);
  return join(dirname(absolute), `.${basename(absolute)}.${process.pid}.partial`);
};

/**
 * Removes what a backup of this process to `target` wrote beside it until it was complete: the
 * copy under its temporary name, and SQLite's `-journal`, `-wal`, `-shm` of it. They hold the
 * tokens and password hashes, so whatever stops the backup removes them (bin/backup.ts does on
 * SIGINT and SIGTERM).
 */
export const removePartialBackup = (target: string): void => {
  for (const file of sqliteFilesOf(partialFileOf(target))) rmSync(file, { force: true });
};

/**
 * With EventStoreDB or a shared PostgreSQL database the log is not in the data folder, so a copy
 * of it would not be a backup.
 */
export const refuseEventStoreDb = (
  settings: Pick<Settings, 'eventStoreConnectionString'> & Partial<Pick<Settings, 'databaseUrl'>>,
): BackupRefusal | undefined => {
  switch (logKindOf(settings)) {
    case 'eventstoredb':
      return refusal(
        'eventstoredb',
        'EVENTSTORE_CONNECTION_STRING is set: the log is in EventStoreDB, not in the data folder, so it cannot be backed up or restored from here; back up EventStoreDB with its own tools (README "Backups")',
      );
    case 'postgres':
      return refusal(
        'postgres',
        'TIDINGS_DATABASE_URL is set: the log is in PostgreSQL, not in the data folder, so it cannot be backed up or restored from here; back up the database with pg_dump or your PostgreSQL backups (README "Running several nodes")',
      );
    default:
      return undefined;
  }
};

const refuseFolder = (dataDir: string): BackupRefusal | undefined => {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    return refusal(
      'no_data_folder',
      `there is no data folder at ${dataDir} (TIDINGS_DATA_DIR, or --data-dir)`,
    );
  }
  if (!existsSync(join(dataDir, DATABASE_FILE))) {
    return refusal(
      'not_a_store',
      `${dataDir} is not a Tidings data folder: it has no ${DATABASE_FILE}`,
    );
  }
  return undefined;
};

const refuseTarget = (
  target: string,
  dataDir: string,
  force: boolean,
): BackupRefusal | undefined => {
  const folder = dirname(target);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    return refusal('bad_target', `there is no folder ${folder} to write the backup in`);
  }
  // Inside the data folder the backup would be lost with it, and --force could name the store.
  // Outside is `..` or `../…` only: `..snap` is a folder inside it.
  const inside = relative(realpathSync(dataDir), realpathSync(folder));
  if (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside)) {
    return refusal(
      'bad_target',
      `${target} is inside the data folder ${dataDir}; write the backup elsewhere`,
    );
  }
  if (!existsSync(target)) return undefined;
  if (!lstatSync(target).isFile()) {
    return refusal('bad_target', `${target} exists and is not a file`);
  }
  return force
    ? undefined
    : refusal(
        'target_exists',
        `${target} exists already; choose another name, or --force to replace it`,
      );
};

/** The folder's own files that exist, and the entries that are none of Tidings's. */
const folderFiles = (dataDir: string): { files: CarriedFile[]; skipped: string[] } => {
  const files: CarriedFile[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(dataDir).sort()) {
    if (isStoreOrLockFile(name)) continue;
    const path = join(dataDir, name);
    if (FOLDER_FILES.includes(name) && lstatSync(path).isFile()) {
      files.push({ name, content: readFileSync(path) });
    } else {
      skipped.push(name);
    }
  }
  return { files, skipped };
};

/** fsync of a file or a folder (a rename is durable once its folder is synced). */
export const syncFile = (path: string): void => {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

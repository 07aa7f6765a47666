import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE } from '../sqlite/database.js';
import { LOCK_DATABASE_FILE, LOCK_INFO_FILE } from './dataDirLock.js';

/** The operator token's file in the data folder, written when no `TIDINGS_ADMIN_TOKEN` is set. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** The auditor token's file in the data folder, written when no `TIDINGS_AUDIT_TOKEN` is set. */
export const AUDIT_TOKEN_FILE = 'audit-token';

/**
 * The key that seals devices' secret settings in the log (adapters/config/deviceSecretsKey.ts);
 * without it those secrets cannot be read, and the devices must be saved again.
 */
export const DEVICE_SECRETS_KEY_FILE = 'device-secrets.key';

/**
 * The Ed25519 key the server signs its log's chain head with (adapters/config/auditSigningKey.ts);
 * its public half is `GET /v1/audit/key`. A lost key does not weaken the chain, but heads signed
 * with a new one no longer share a key with those auditors kept.
 */
export const AUDIT_SIGNING_KEY_FILE = 'audit-signing-key.pem';

/**
 * The files the server keeps in its data folder beside the database and the lock. A backup
 * carries each of them that exists and a restore writes it back, owner-only: without them a
 * restored folder would start with new tokens, and the operator's would no longer work. A file
 * the server comes to write there (issue 14's signing key, say) joins this list; the backup
 * drill (test/server/backup.test.ts) fails on a started server's folder holding one it lacks.
 */
export const FOLDER_FILES: readonly string[] = [
  ADMIN_TOKEN_FILE,
  AUDIT_TOKEN_FILE,
  DEVICE_SECRETS_KEY_FILE,
  AUDIT_SIGNING_KEY_FILE,
];

/**
 * The database a restore is writing, under its name until the restore's last step renames it
 * to `tidings.db`. Found in a folder, it marks a restore that did not finish (README "Backups").
 */
export const RESTORING_FILE = `${DATABASE_FILE}.restoring`;

const SQLITE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** A SQLite database's file and the files SQLite keeps beside it. */
export const sqliteFilesOf = (base: string): readonly string[] =>
  SQLITE_SUFFIXES.map((suffix) => `${base}${suffix}`);

/** The files of the database: `tidings.db` and its `-wal`, `-shm`, `-journal`. */
export const STORE_FILES: readonly string[] = sqliteFilesOf(DATABASE_FILE);

/** The lock's own files: `tidings.lock` and the SQLite files of `tidings.lock.db`. */
export const LOCK_FILES: readonly string[] = [LOCK_INFO_FILE, ...sqliteFilesOf(LOCK_DATABASE_FILE)];

/**
 * True for the files of the database and of the lock: a backup copies the database through
 * SQLite, never as files, and the lock belongs to the process that holds it.
 */
export const isStoreOrLockFile = (name: string): boolean =>
  STORE_FILES.includes(name) || LOCK_FILES.includes(name);

/**
 * Why a process that would open the store must not, when a restore into the folder did not
 * finish (it was killed, or the machine stopped): the folder may hold the backup's tokens but
 * no database yet, and a server would start on a new, empty store with them. One line that says
 * what to do; `undefined` for a folder without such leftovers.
 */
export const unfinishedRestore = (dataDir: string): string | undefined =>
  existsSync(join(dataDir, RESTORING_FILE))
    ? `data folder ${dataDir} holds ${RESTORING_FILE}, left by a restore that did not finish: run the restore again (npm run restore -- <file>), which clears what it left, or empty the folder to start on a new store`
    : undefined;

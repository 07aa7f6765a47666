import { DATABASE_FILE } from '../sqlite/database.js';
import { LOCK_DATABASE_FILE, LOCK_INFO_FILE } from './dataDirLock.js';

/** The operator token's file in the data folder, written when no `TIDINGS_ADMIN_TOKEN` is set. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** The auditor token's file in the data folder, written when no `TIDINGS_AUDIT_TOKEN` is set. */
export const AUDIT_TOKEN_FILE = 'audit-token';

/**
 * The files the server keeps in its data folder beside the database and the lock. A backup
 * carries each of them that exists and a restore writes it back, owner-only: without them a
 * restored folder would start with new tokens, and the operator's would no longer work. A file
 * the server comes to write there (issue 14's signing key, say) joins this list; the backup
 * drill (test/server/backup.test.ts) fails on a started server's folder holding one it lacks.
 */
export const FOLDER_FILES: readonly string[] = [ADMIN_TOKEN_FILE, AUDIT_TOKEN_FILE];

const SQLITE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/**
 * True for the files of the database (`tidings.db` and its `-wal`, `-shm`, `-journal`) and of
 * the lock: a backup copies the database through SQLite, never as files, and the lock belongs
 * to the process that holds it.
 */
export const isStoreOrLockFile = (name: string): boolean =>
  name === LOCK_INFO_FILE ||
  [DATABASE_FILE, LOCK_DATABASE_FILE].some((base) =>
    SQLITE_SUFFIXES.some((suffix) => name === `${base}${suffix}`),
  );

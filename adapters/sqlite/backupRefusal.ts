/**
 * Why a backup or a restore was refused: an expected outcome of the operator's request (a
 * wrong folder, a file that is no backup), answered with a stable code and one line that says
 * what to do; never an exception.
 */
export interface BackupRefusal {
  readonly code: BackupRefusalCode;
  readonly message: string;
}

export type BackupRefusalCode =
  /** The settings (or the folder) name EventStoreDB: the log is not in the data folder. */
  | 'eventstoredb'
  /** The settings name a shared PostgreSQL database: the log is not in the data folder. */
  | 'postgres'
  /** No data folder where the settings point. */
  | 'no_data_folder'
  /** The folder (or the file) is not a Tidings store. */
  | 'not_a_store'
  /** The store, or the store inside a backup, was made by a newer Tidings. */
  | 'newer_store'
  /** The backup's file exists already (and `--force` was not given). */
  | 'target_exists'
  /** The backup's file cannot go there: no such folder, a folder by that name, the data folder. */
  | 'bad_target'
  /** No backup file where the request points. */
  | 'no_backup_file'
  /** The file is not a Tidings backup. */
  | 'not_a_backup'
  /** The backup fails SQLite's integrity check, or does not hold what its manifest says. */
  | 'corrupt'
  /** The backup was written in a newer format than this build reads. */
  | 'newer_format'
  /** A restore goes into an empty folder only. */
  | 'folder_not_empty'
  /** Another process holds the folder a restore would write. */
  | 'folder_in_use';

/** A refusal with its code and message. */
export const refusal = (code: BackupRefusalCode, message: string): BackupRefusal => ({
  code,
  message,
});

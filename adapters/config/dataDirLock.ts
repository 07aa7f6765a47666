import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lock's SQLite file in the data folder (see {@link lockDataDir}). */
export const LOCK_DATABASE_FILE = 'tidings.lock.db';

/** The file beside it that names the holder; only information. */
export const LOCK_INFO_FILE = 'tidings.lock';

/** Held while a process owns the data folder; release it on shutdown. */
export interface DataDirLock {
  release(): void;
}

/**
 * Makes sure one process at a time owns a data folder (a server and an offline rebuild would race
 * each other's read models).
 *
 * The lock itself is a SQLite file, `tidings.lock.db`, held in exclusive locking mode: the
 * operating system drops that lock when the process ends, however it ends, so a crashed holder
 * never blocks the next start — not even when the next process has the same pid (as in a
 * container, where the server is often pid 1). Beside it, `tidings.lock` names the holder (pid,
 * purpose, since) for people and for the refusal message; it is only information.
 */
export const lockDataDir = (dataDir: string, purpose: string): DataDirLock => {
  const info = join(dataDir, LOCK_INFO_FILE);
  const db = new Database(join(dataDir, LOCK_DATABASE_FILE), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock, which this connection then keeps until it closes.
    db.exec('CREATE TABLE IF NOT EXISTS holder (since TEXT); DELETE FROM holder;');
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    const holder = readHolder(info);
    throw new Error(
      holder === undefined
        ? `data folder ${dataDir} is in use by another process; stop it first`
        : `data folder ${dataDir} is in use by process ${holder.pid} (${holder.purpose}); stop it first`,
    );
  }
  writeFileSync(
    info,
    JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }),
  );
  return {
    release: () => {
      rmSync(info, { force: true });
      db.close();
    },
  };
};

const readHolder = (file: string): { pid: number; purpose: string } | undefined => {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; purpose?: unknown };
    return typeof parsed.pid === 'number'
      ? {
          pid: parsed.pid,
          purpose: typeof parsed.purpose === 'string' ? parsed.purpose : 'unknown',
        }
      : undefined;
  } catch {
    return undefined;
  }
};

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Held while a process owns the data folder; release it on shutdown. */
export interface DataDirLock {
  release(): void;
}

/**
 * Makes sure one process at a time owns a data folder (a server and an offline rebuild would race
 * each other's read models). A lock left by a process that is gone is taken over.
 */
export const lockDataDir = (dataDir: string, purpose: string): DataDirLock => {
  const file = join(dataDir, 'tidings.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(
        file,
        JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }),
        {
          flag: 'wx',
        },
      );
      return {
        release: () => {
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(file);
      if (holder !== undefined && isAlive(holder.pid)) {
        throw new Error(
          `data folder ${dataDir} is in use by process ${holder.pid} (${holder.purpose}); stop it first`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock data folder ${dataDir}`);
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

const isAlive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

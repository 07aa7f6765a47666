import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FOLDER_FILES } from '../adapters/config/dataFolderFiles.js';
import { CheckpointStore } from '../adapters/sqlite/checkpointStore.js';
import { DATABASE_FILE, openDatabase } from '../adapters/sqlite/database.js';
import { copySnapshot } from '../adapters/sqlite/onlineBackup.js';
import { openSourceDatabase, trimLogUntil } from '../adapters/sqlite/replayCopy.js';
import { SqliteEventStore } from '../adapters/sqlite/sqliteEventStore.js';
import { rebuildProjection } from '../application/processing/rebuild.js';
import { allProjections } from '../projections/index.js';
import type { Projection } from '../projections/projection.js';

/** What a point-in-time replay did, step by step. */
export type ReplayProgress =
  | { readonly step: 'copying'; readonly pages: number; readonly totalPages: number }
  | { readonly step: 'copied'; readonly events: number; readonly lastPosition: number }
  | { readonly step: 'rebuilt'; readonly projection: string; readonly events: number };

export interface ReplayRequest {
  /** The live data folder; its database is opened read-only. */
  readonly from: string;
  /** The new folder (created; must be empty or missing: the caller checks). */
  readonly out: string;
  /** ISO 8601 UTC: the log is cut after the last event that occurred at or before it. */
  readonly until: string;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** The read models to build (every one by default). */
  readonly projections?: readonly Projection[];
}

/**
 * Point-in-time replay (docs/audit.md, "Point-in-time replay"): copies the log of `from` up to
 * `until` into `out`, builds every read model from that copy through the same code as live
 * processing, and copies the folder's files (tokens and keys). Nothing in `from` changes.
 */
export const replayFolder = async (
  request: ReplayRequest,
): Promise<{ readonly events: number }> => {
  const report = request.onProgress ?? (() => {});
  const source = openSourceDatabase(request.from);
  mkdirSync(request.out, { recursive: true, mode: 0o700 });
  try {
    // One consistent snapshot of the live database, page by page, while a server may go on
    // writing it; the copy is then cut at `until` and emptied of everything but the log.
    await copySnapshot(source, join(request.out, DATABASE_FILE), {
      // The trim counts what stays.
      countEvents: false,
      onProgress: ({ done, total }) => {
        report({ step: 'copying', pages: done, totalPages: total });
      },
    });
    chmodSync(join(request.out, DATABASE_FILE), 0o600);
  } finally {
    source.close();
  }
  const db = openDatabase({ dataDir: request.out, synchronous: 'normal' });
  let copied: { readonly events: number; readonly lastPosition: number };
  try {
    copied = trimLogUntil(db, request.until);
  } catch (error) {
    db.close();
    throw error;
  }
  report({ step: 'copied', ...copied });
  const store = new SqliteEventStore(db);
  const checkpoints = new CheckpointStore(db);
  try {
    for (const projection of request.projections ?? allProjections) {
      const { events } = await rebuildProjection(db, store, checkpoints, projection);
      report({ step: 'rebuilt', projection: projection.name, events });
    }
  } finally {
    await store.close();
    db.close();
  }
  for (const name of FOLDER_FILES) {
    const file = join(request.from, name);
    if (!existsSync(file)) continue;
    copyFileSync(file, join(request.out, name));
    chmodSync(join(request.out, name), 0o600);
  }
  return { events: copied.events };
};

import type { EventStore, Position } from '../../domain/shared/eventStore.js';
import type { Checkpoints } from './checkpoints.js';
import type { ReadModelDb } from '../../projections/readModelDb.js';
import { prepareProjection, type Projection } from '../../projections/projection.js';
import { projectionProcessor } from './processor.js';

export interface RebuildProgress {
  readonly projection: string;
  readonly events: number;
  readonly position: Position;
}

export interface RebuildOptions {
  /** Events read and committed per transaction; default 5,000. */
  readonly pageSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Empties a projection's tables and checkpoint, then replays the whole log into it, a page per
 * transaction, through the same code path as live processing, so the rows come out the same.
 * Run it while the server is stopped: live processing would race the truncation.
 */
export const rebuildProjection = async (
  db: ReadModelDb,
  store: EventStore,
  checkpoints: Checkpoints,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<{ readonly events: number }> => {
  prepareProjection(db, projection);
  db.transaction(() => {
    for (const table of projection.tables) db.exec(`DELETE FROM "${table}"`);
    checkpoints.remove(projection.name);
  })();
  const processor = projectionProcessor(db, checkpoints, projection);
  const pageSize = options.pageSize ?? 5_000;
  let after: Position | undefined;
  let events = 0;
  for (;;) {
    const page = await store.readAll({
      ...(after === undefined ? {} : { after }),
      maxCount: pageSize,
      ...(projection.eventTypes === undefined ? {} : { eventTypes: projection.eventTypes }),
    });
    const last = page.at(-1);
    if (last === undefined) return { events };
    await processor.processBatch(page);
    events += page.length;
    after = last.position;
    options.onProgress?.({ projection: projection.name, events, position: last.position });
  }
};

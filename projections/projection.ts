import type { RecordedEvent } from '../domain/shared/eventStore.js';
import type { ReadModelDb } from './readModelDb.js';

/**
 * A read model kept in the embedded database. Its rows are a pure function of the events it has
 * seen, so it can be dropped and rebuilt from the log at any time with the same result.
 */
export interface Projection {
  /** Unique; also the name of its checkpoint. */
  readonly name: string;
  /** Bump when the table layout or the meaning of a row changes: the projection is then rebuilt. */
  readonly version: number;
  /** Only these event types reach `apply`; all when absent. */
  readonly eventTypes?: readonly string[];
  /** Tables it owns, dropped on a version change and emptied on a rebuild. */
  readonly tables: readonly string[];
  /** Creates its tables and indexes if they do not exist. */
  setup(db: ReadModelDb): void;
  /**
   * Prepares its statements and returns the function that applies one event. It runs inside the
   * transaction that also moves the checkpoint, so it must be synchronous and must not commit.
   */
  bind(db: ReadModelDb): (event: RecordedEvent) => void;
}

/**
 * Prepares a projection's tables: creates them, or drops and recreates them (and forgets the
 * checkpoint) when the stored version differs from the code's, so the runner replays it from the
 * start. Returns true when it was reset.
 */
export const prepareProjection = (db: ReadModelDb, projection: Projection): boolean =>
  db.transaction(() => {
    const row = db
      .prepare<[string], { version: number }>(
        'SELECT version FROM projection_versions WHERE name = ?',
      )
      .get(projection.name);
    const reset = row !== undefined && row.version !== projection.version;
    if (reset) {
      for (const table of projection.tables) db.exec(`DROP TABLE IF EXISTS "${table}"`);
      db.prepare('DELETE FROM checkpoints WHERE name = ?').run(projection.name);
    }
    projection.setup(db);
    db.prepare(
      `INSERT INTO projection_versions (name, version) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
    ).run(projection.name, projection.version);
    return reset;
  })();

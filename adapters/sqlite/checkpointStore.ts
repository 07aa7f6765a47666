import type { Position } from '../../domain/shared/eventStore.js';
import { decodePosition, encodePosition } from '../../domain/shared/eventStore.js';
import type { Checkpoints } from '../../application/processing/checkpoints.js';
import type { SqliteDatabase } from './database.js';

/**
 * Durable checkpoints of processors, kept beside the read models so that a projection can commit
 * its rows and its checkpoint in one transaction.
 */
export class CheckpointStore implements Checkpoints {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      load: db.prepare<[string], { position: string }>(
        'SELECT position FROM checkpoints WHERE name = ?',
      ),
      save: db.prepare<[string, string, string]>(
        `INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare<[string]>('DELETE FROM checkpoints WHERE name = ?'),
    };
  }

  /** The last position the processor finished, or `undefined` if it has not started. */
  load(name: string): Position | undefined {
    const row = this.statements.load.get(name);
    if (row === undefined) return undefined;
    const position = decodePosition(row.position);
    if (position === undefined)
      throw new Error(`checkpoint of ${name} is corrupt: ${row.position}`);
    return position;
  }

  save(name: string, position: Position, now: Date = new Date()): void {
    this.statements.save.run(name, encodePosition(position), now.toISOString());
  }

  remove(name: string): void {
    this.statements.remove.run(name);
  }
}

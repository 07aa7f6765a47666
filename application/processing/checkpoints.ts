import type { Position } from '../../domain/shared/eventStore.js';

/**
 * The port for processors' durable checkpoints: the last log position each named processor
 * finished. The embedded adapter keeps them in the read-model database, so a projection can
 * commit its rows and its checkpoint in one transaction.
 */
export interface Checkpoints {
  /** The last position the processor finished, or `undefined` if it has not started. */
  load(name: string): Position | undefined;
  save(name: string, position: Position, now?: Date): void;
  remove(name: string): void;
}

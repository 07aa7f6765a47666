import type { Logger } from '../domain/shared/logger.js';

/** One thing to undo at shutdown: close a store, stop a runner, release a lock. */
export type StopStep = () => Promise<void> | void;

/**
 * The shutdown steps of a start, pushed by each builder as it starts something. They run in
 * reverse order, the last started first, and every one runs even if an earlier one failed: the
 * first ones pushed close the store and release the data folder, and must never be skipped.
 */
export class StopStack {
  private readonly steps: StopStep[] = [];

  constructor(private readonly logger: Logger) {}

  /** Adds the step that undoes what was just started. */
  push(step: StopStep): void {
    this.steps.push(step);
  }

  /** Runs every step pushed so far, last first, logging (not throwing) a step that fails. */
  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.logger.error('a shutdown step failed; going on with the others', { error });
      }
    }
  }
}

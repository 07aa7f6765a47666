import type { ProcessorRunner } from '../application/processing/processor.js';
import type { Metrics } from '../adapters/http/metrics.js';

/** On each scrape, reports every processor's position and its consecutive failures. */
export const reportProcessors = (metrics: Metrics, runners: readonly ProcessorRunner[]): void => {
  metrics.onScrape(() => {
    for (const runner of runners) {
      metrics.processorFailures.set({ processor: runner.name }, runner.consecutiveFailures);
      metrics.processorPosition.set(
        { processor: runner.name },
        Number(runner.position?.commit ?? 0n),
      );
    }
  });
};

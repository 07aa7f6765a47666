/** Helpers shared by the benchmarks: timing and memory sampling. */

/** Seconds since `start` (from `process.hrtime.bigint()`). */
export const secondsSince = (start: bigint): number =>
  Number(process.hrtime.bigint() - start) / 1e9;

/** Samples resident memory every 20 ms until stopped; returns the peak in MB. */
export const sampleRss = (): { stop(): number } => {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak / (1024 * 1024);
    },
  };
};

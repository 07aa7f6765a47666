import { expect } from 'chai';
import { progressPrinter } from '../../bin/backupReport.js';

describe('progressPrinter', () => {
  it('prints the pages copied at most once a second, from the first step on', () => {
    const lines: string[] = [];
    let now = 0;
    const onProgress = progressPrinter(
      (line) => lines.push(line),
      () => now,
    );
    for (const [at, done] of [
      [0, 0],
      [400, 1_000],
      [999, 2_000],
      [1_000, 2_500],
      [1_500, 3_000],
      [2_100, 4_000],
    ] as const) {
      now = at;
      onProgress({ done, total: 4_000 });
    }
    expect(lines).to.deep.equal([
      'backup: 2,500 of 4,000 pages copied (62 %)',
      'backup: 4,000 of 4,000 pages copied (100 %)',
    ]);
  });

  it('prints nothing for a copy done within the first second', () => {
    const lines: string[] = [];
    let now = 5_000;
    const onProgress = progressPrinter(
      (line) => lines.push(line),
      () => now,
    );
    onProgress({ done: 0, total: 12 });
    now = 5_020;
    onProgress({ done: 12, total: 12 });
    expect(lines).to.deep.equal([]);
  });
});

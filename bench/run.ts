/**
 * `npm run bench`: prints each figure an issue budgets beside the raw engine ceiling measured
 * the same way in the same run. Every case runs in its own process on a fresh temp folder.
 * Options: --quick (smaller runs, for a smoke check), --keep (leave the temp folder).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quick = process.argv.includes('--quick');
const keep = process.argv.includes('--keep');
const root = mkdtempSync(join(tmpdir(), 'tidings-bench-'));

interface Figure {
  readonly perSecond?: number;
  readonly seconds?: number;
  readonly peakRssMb?: number;
  readonly failures?: number;
  readonly stored?: number;
  readonly events?: number;
}

/** Runs one case of bench/foundation.ts in a child process and returns its JSON line. */
const runCase = (benchCase: string, folder: string, ...options: string[]): Figure => {
  const dir = join(root, folder);
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'bench/foundation.ts', benchCase, dir, ...options],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
  );
  const lastLine = output.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(lastLine) as Figure;
};

const prepare = (folder: string): void => {
  execFileSync('mkdir', ['-p', join(root, folder)]);
};

const rate = (figure: Figure): string =>
  `${Math.round(figure.perSecond ?? 0).toLocaleString('en')} ev/s`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
const rows: string[][] = [];

const appendEvents = quick ? 20_000 : 100_000;
const replayEvents = quick ? 100_000 : 500_000;
process.stdout.write(
  `Tidings foundation benchmark — ${new Date().toISOString()} — node ${process.version}, ${quick ? 'quick' : 'full'} run\n`,
);

for (const sync of ['full', 'normal'] as const) {
  prepare(`raw-${sync}`);
  prepare(`append-${sync}`);
  process.stdout.write(`… appends (synchronous=${sync})\n`);
  const ceiling = runCase('rawInsert', `raw-${sync}`, `--events=${appendEvents}`, `--sync=${sync}`);
  const handler = runCase(
    'handlerAppend',
    `append-${sync}`,
    `--events=${appendEvents}`,
    '--writers=50',
    `--sync=${sync}`,
  );
  const lost = (handler.events ?? 0) - (handler.stored ?? 0);
  const budget = sync === 'full' ? 15_000 : undefined;
  rows.push([
    `appends via command handler, 50 writers, new streams (synchronous=${sync}${sync === 'full' ? ', default' : ''})`,
    rate(handler),
    `${rate(ceiling)} (bare insert loop, 500 rows/tx)`,
    budget === undefined ? '—' : `≥ ${budget.toLocaleString('en')} ev/s`,
    budget === undefined
      ? lost === 0 && handler.failures === 0
        ? 'ok'
        : 'LOST'
      : verdict((handler.perSecond ?? 0) >= budget && lost === 0 && handler.failures === 0),
  ]);
}

prepare('replay');
process.stdout.write(`… seeding ${replayEvents.toLocaleString('en')} events for the replay\n`);
const seeded = runCase('seed', 'replay', `--events=${replayEvents}`);
process.stdout.write(`  seeded in ${(seeded.seconds ?? 0).toFixed(1)} s\n… replay\n`);
const readCeiling = runCase('rawRead', 'replay');
const replay = runCase('replay', 'replay');
rows.push([
  `replay of ${replayEvents.toLocaleString('en')} events into the apps projection`,
  rate(replay),
  `${rate(readCeiling)} (bare read loop)`,
  '≥ 150,000 ev/s',
  verdict((replay.perSecond ?? 0) >= 150_000),
]);
rows.push([
  'peak RSS during that replay',
  `${(replay.peakRssMb ?? 0).toFixed(0)} MB`,
  '—',
  '≤ 300 MB',
  verdict((replay.peakRssMb ?? Infinity) <= 300),
]);

const header = ['figure', 'measured', 'ceiling (same run)', 'budget', 'verdict'];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
);
const line = (cells: readonly string[]): string =>
  `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
process.stdout.write(`\n${line(header)}\n${line(widths.map((width) => '-'.repeat(width)))}\n`);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
if (quick)
  process.stdout.write('\n(quick run: smaller sizes; budgets are judged on the full run)\n');

if (keep) process.stdout.write(`\ndata kept in ${root}\n`);
else rmSync(root, { recursive: true, force: true });

/**
 * `npm run fuzz`: a long run of the API fuzzer (devtools/apiFuzz/) against a Tidings started in
 * this process (bin/fuzzTarget.ts). Every generated request is sent and judged, the run goes on
 * past failures, and the end prints a summary: requests sent, the status histogram, 5xx and
 * undocumented answers, every kind of violation with one request that shows it, and how to
 * replay that request. The exit code is 1 when anything broke a rule.
 *
 *   npm run fuzz -- [--count 20000] [--seed N] [--family credentials|target|body|mutation|method]
 *   npm run fuzz -- --seed N --path P [--family F]   replays case P of that run and shrinks it
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import type { Family, FuzzCase } from '../devtools/apiFuzz/fuzzCase.js';
import { Fuzzer, fuzzProperty, type Outcome } from '../devtools/apiFuzz/fuzzer.js';
import { operationName } from '../devtools/apiFuzz/openApiDocument.js';
import { operationOf } from '../devtools/apiFuzz/oracle.js';
import { startFuzzTarget } from './fuzzTarget.js';

const FAMILIES: readonly Family[] = ['credentials', 'target', 'body', 'mutation', 'method'];

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

const fail = (message: string): never => {
  process.stderr.write(`fuzz: ${message}\n`);
  process.exit(2);
};

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    family: { type: 'string' },
    path: { type: 'string' },
  },
  allowPositionals: false,
});
const count = Number(args.count);
if (!Number.isSafeInteger(count) || count < 1)
  fail(`--count must be a positive integer, not ${args.count}`);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (!Number.isSafeInteger(seed)) fail(`--seed must be an integer, not ${String(args.seed)}`);
const family = args.family as Family | undefined;
if (family !== undefined && !FAMILIES.includes(family))
  fail(`--family must be one of ${FAMILIES.join(', ')}`);

/** One kind of violation: a rule broken with one status by one kind of request. */
interface ViolationClass {
  count: number;
  readonly operations: Set<string>;
  readonly first: { readonly index: number; readonly report: string };
}

/**
 * What kind of request a case is, without its particulars: `path parameter appId: the raw
 * segment "%zz"` and `path parameter messageId: the raw segment "%zz"` are one kind.
 */
const kindOf = (fuzzCase: FuzzCase): string =>
  `${fuzzCase.family}: ${fuzzCase.mutation}`
    .replace(/(path parameter|query parameter|query|header) [^:]+:/, '$1:')
    .replace(/^(mutation: )\/[^:]*:/, '$1a field:')
    .replace(/\d+/g, 'N')
    .replace(/\(documented: [^)]*\)/, '');

async function campaign(fuzzer: Fuzzer, arbitrary: fc.Arbitrary<FuzzCase>): Promise<boolean> {
  const classes = new Map<string, ViolationClass>();
  let index = 0;
  let lastProgress = performance.now();
  const note = (outcome: Outcome, at: number): void => {
    const operation = operationOf(fuzzer.api, outcome.fuzzCase);
    const where =
      operation === undefined
        ? `${outcome.fuzzCase.method.toUpperCase()} ${outcome.fuzzCase.operation.path}`
        : operationName(operation);
    for (const found of outcome.violations) {
      const key = `${found.rule} · ${outcome.answer?.status ?? 'no answer'} · ${kindOf(outcome.fuzzCase)}`;
      const known = classes.get(key);
      if (known === undefined) {
        classes.set(key, {
          count: 1,
          operations: new Set([where]),
          first: { index: at, report: fuzzer.report(outcome) },
        });
      } else {
        known.count += 1;
        known.operations.add(where);
      }
    }
  };
  const property = fc.asyncProperty(arbitrary, async (fuzzCase) => {
    const at = index;
    index += 1;
    const outcome = await fuzzer.run(fuzzCase);
    note(outcome, at);
    if (index % 200 === 0) {
      const health = await fuzzer.healthCheck();
      if (health !== undefined) note({ ...outcome, violations: [health] }, at);
    }
    if (performance.now() - lastProgress > 10_000 || index === count) {
      lastProgress = performance.now();
      const { stats } = fuzzer;
      const violations = [...stats.violations.values()].reduce((a, b) => a + b, 0);
      out(
        `fuzz: ${stats.sent.toLocaleString('en')} / ${count.toLocaleString('en')} requests, ${((performance.now() - stats.started) / 1000).toFixed(0)} s, 5xx ${countStatuses(fuzzer, (s) => s >= 500)}, violations ${violations}`,
      );
    }
    return true;
  });
  const details = await fc.check(property, { seed, numRuns: count });
  // The property never fails on a violation (they are counted), so a failure is the fuzzer's own.
  if (details.failed)
    throw new Error(`the fuzzer failed at case ${details.counterexamplePath ?? '?'}`, {
      cause: details.errorInstance,
    });
  const health = await fuzzer.healthCheck();

  const { stats } = fuzzer;
  const seconds = (performance.now() - stats.started) / 1000;
  const histogram = (statuses: ReadonlyMap<number, number>): string =>
    [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s === 0 ? 'none' : s}: ${n}`)
      .join(', ');
  out();
  out('━━ summary');
  out(
    `requests sent      ${stats.sent.toLocaleString('en')} in ${seconds.toFixed(1)} s (${(stats.sent / seconds).toFixed(0)}/s), seed ${seed}`,
  );
  out(`5xx answers        ${countStatuses(fuzzer, (s) => s >= 500)}`);
  out(
    `undocumented       ${(stats.violations.get('undocumented status') ?? 0) + (stats.violations.get('wrong method not 405') ?? 0)} (a status the operation does not document, or a wrong method not answered 405)`,
  );
  out(`no answer          ${stats.statuses.get(0) ?? 0}`);
  out(`/healthz at end    ${health === undefined ? 'ok' : `${health.rule}: ${health.detail}`}`);
  out(`statuses           ${histogram(stats.statuses)}`);
  out(`background events  ${stats.background} (written by processors, not by a request)`);
  out(`log lines          ${stats.logLines} at warn or error level`);
  const documented = fuzzer.api.operations.map(operationName);
  const neverSucceeded = documented.filter((name) => !stats.succeeded.has(name));
  out(
    `operations         ${documented.filter((name) => stats.byOperation.has(name)).length} of ${documented.length} reached, ${documented.length - neverSucceeded.length} answered a 2xx`,
  );
  if (neverSucceeded.length > 0)
    out(`  never a 2xx (their success is unchecked): ${neverSucceeded.join(', ')}`);
  for (const name of documented)
    out(
      `  ${name.padEnd(52)} ${histogram(stats.byOperation.get(name) ?? new Map())}; 2xx reached: ${stats.succeeded.get(name) ?? 0}`,
    );
  out('violations by rule');
  for (const [rule, n] of [...stats.violations].sort(([, a], [, b]) => b - a))
    out(`  ${String(n).padStart(6)}  ${rule}`);
  if (classes.size > 0) {
    out();
    out(
      `━━ ${classes.size} kinds of violation (rule · status · kind of request), one request each`,
    );
    for (const [key, found] of [...classes].sort(([a], [b]) => a.localeCompare(b))) {
      const operations = [...found.operations];
      out();
      out(`■ ${key}`);
      out(
        `  ${found.count}× on ${operations.length} operation(s): ${operations.slice(0, 4).join(', ')}${operations.length > 4 ? ', …' : ''}`,
      );
      out(
        `  replay: npm run fuzz -- --seed ${seed} --path ${found.first.index}${family === undefined ? '' : ` --family ${family}`}`,
      );
      out(found.first.report.replace(/^/gm, '  '));
    }
  }
  return classes.size > 0 || health !== undefined;
}

function countStatuses(fuzzer: Fuzzer, test: (status: number) => boolean): number {
  return [...fuzzer.stats.statuses]
    .filter(([status]) => test(status))
    .reduce((sum, [, n]) => sum + n, 0);
}

const running = await startFuzzTarget();
let violated = false;
try {
  const fuzzer = await Fuzzer.start(running.target);
  const arbitrary: fc.Arbitrary<FuzzCase> =
    family === undefined ? fc.oneof(...[...fuzzer.families.values()]) : fuzzer.family(family);
  out(
    `fuzz: ${fuzzer.api.operations.length} operations from /openapi.json, seed ${seed}${family === undefined ? '' : `, family ${family}`}`,
  );

  if (args.path !== undefined) {
    // Replay one case of an earlier run, then let fast-check shrink it to the smallest that fails.
    const details = await fc.check(fuzzProperty(fuzzer, arbitrary), {
      seed,
      path: args.path,
      numRuns: 1,
    });
    if (details.failed) {
      violated = true;
      out(`fuzz: case ${args.path} fails; shrunk to path ${details.counterexamplePath ?? '?'}:`);
      out(
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance),
      );
    } else {
      out(`fuzz: case ${args.path} of seed ${seed} passes now`);
    }
  } else {
    violated = await campaign(fuzzer, arbitrary);
  }
} finally {
  await running.close();
}
process.exit(violated ? 1 : 0);

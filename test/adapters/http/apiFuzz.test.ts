import { expect } from 'chai';
import fc from 'fast-check';
import { startFuzzTarget, type RunningFuzzTarget } from '../../../bin/fuzzTarget.js';
import type { JsonSchema } from '../../../adapters/http/codecs.js';
import type { Family } from '../../../devtools/apiFuzz/fuzzCase.js';
import { boundedRun, Fuzzer, fuzzProperty } from '../../../devtools/apiFuzz/fuzzer.js';
import { operationName } from '../../../devtools/apiFuzz/openApiDocument.js';
import { validate } from '../../support/jsonSchemaCheck.js';

/**
 * The standing API fuzz suite (issue 12): requests generated from the served `/openapi.json`
 * for every operation (devtools/apiFuzz/), sent one at a time to a real Tidings, each answer
 * judged: never a 5xx; a status the operation documents; errors as problem+json with a
 * catalogued code documented under that status; success bodies matching their schema; no event
 * and no warn- or error-level log line for a refused request; a wrong credential never succeeds
 * (and on a valid request is 401); a wrong method is 405; `/healthz` answers between batches and
 * at the end; and every operation succeeded at least once, so its success was judged too. A
 * fixed seed and a bounded count keep it repeatable and short; `npm run fuzz` runs the
 * same generators longer and goes on past failures. A failure prints the exact request (method,
 * target, headers, body), the answer, and fast-check's seed and shrink path: replay it with
 * `npm run fuzz -- --seed <seed> --path <path> --family <family>`.
 */

/** Fixed, so `npm test` sends the same requests every time. */
const SEED = 20_261_203;

/** Cases per family, and what each family sends. */
const families: readonly { family: Family; runs: number; what: string }[] = [
  {
    family: 'credentials',
    runs: 800,
    what: 'every credential (none, wrong, huge, each scheme) on every route',
  },
  {
    family: 'target',
    runs: 800,
    what: 'malformed percent-encoding, raw bytes, huge and empty path and query values',
  },
  {
    family: 'body',
    runs: 800,
    what: 'garbage, invalid JSON, deep nesting, huge, empty bodies, wrong content types, framing',
  },
  {
    family: 'mutation',
    runs: 1800,
    what: 'valid requests with one field, member, header or query value made wrong',
  },
  {
    family: 'method',
    runs: 300,
    what: 'every path with each method it does not document, OPTIONS too (405)',
  },
];

/**
 * The time the families may take together, shared by their counts: about five times what they
 * take on a quiet machine, so only a machine that slow fails, and says it ran out of time.
 */
const TIME_BUDGET_MS = 100_000;
const TOTAL_RUNS = families.reduce((sum, { runs }) => sum + runs, 0);

/**
 * Operations no fuzzed request can make succeed, each with the reason; every other one must answer
 * a 2xx at least once. None today: the fixture holds what each one needs.
 */
const NEVER_SUCCEEDS: ReadonlyMap<string, string> = new Map<string, string>([
  [
    'POST /v1/app/callback/deliveries/{id}/retry',
    'a delivery id exists only once an event was queued for a registered callback, which the fuzzer does not set up; test/server/callbacks.test.ts retries one',
  ],
]);

/** Success bodies against the schema the document gives them. */
const checkSchema = (root: unknown, schema: JsonSchema, value: unknown): string[] =>
  validate(root, schema, value);

describe('API fuzz suite: every operation of /openapi.json', function () {
  this.timeout(180_000);
  let running: RunningFuzzTarget | undefined;
  let fuzzer: Fuzzer;

  before(async () => {
    running = await startFuzzTarget();
    fuzzer = await Fuzzer.start({ ...running.target, checkSchema });
  });

  after(async () => {
    await running?.close();
  });

  for (const { family, runs, what } of families) {
    it(`${family}: ${what}`, async () => {
      await fc.assert(
        fuzzProperty(fuzzer, fuzzer.family(family)),
        boundedRun({
          seed: SEED,
          numRuns: runs,
          timeLimitMs: Math.round((TIME_BUDGET_MS * runs) / TOTAL_RUNS),
        }),
      );
      expect(await fuzzer.healthCheck(), '/healthz after the batch').to.equal(undefined);
    });
  }

  it('made every documented operation succeed at least once', () => {
    const documented = fuzzer.api.operations.map(operationName);
    expect(documented.length, 'operations in /openapi.json').to.be.greaterThan(30);
    const { succeeded, byOperation } = fuzzer.stats;
    const answers = (name: string): string =>
      [...(byOperation.get(name) ?? [])].map(([status, n]) => `${status}×${n}`).join(', ');
    const never = documented
      .filter((name) => !NEVER_SUCCEEDS.has(name) && (succeeded.get(name) ?? 0) === 0)
      .map((name) => `${name} (answered ${answers(name) || 'nothing'})`);
    expect(never, 'operations no request got a 2xx from').to.deep.equal([]);
    for (const [name, why] of NEVER_SUCCEEDS) {
      expect(documented, `exempt operation ${name} (${why})`).to.include(name);
      expect(succeeded.get(name), `${name} succeeded after all: drop its exemption`).to.equal(
        undefined,
      );
    }
  });
});

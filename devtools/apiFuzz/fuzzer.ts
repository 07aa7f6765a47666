import fc from 'fast-check';
import { caseFamilies } from './cases.js';
import { setUpFixture, type Fixture, type FixtureOptions } from './fixture.js';
import { caseSummary, describeWire, renderCase, type Family, type FuzzCase } from './fuzzCase.js';
import { lateLogViolations, refusalLogViolations } from './logLines.js';
import { describeApi, operationName, type ApiDescription } from './openApiDocument.js';
import { judgeAnswer, operationOf, reachedBy, type SchemaCheck, type Violation } from './oracle.js';
import {
  endpointOf,
  NoAnswer,
  send,
  type Endpoint,
  type WireAnswer,
  type WireRequest,
} from './wire.js';

/**
 * The API fuzzer: reads `/openapi.json`, sets up a {@link Fixture}, and sends generated requests
 * one at a time, judging each answer (oracle.ts) and what it did to the event log and the server
 * log: a refused request (4xx) must write no event, and log nothing at warn or error level
 * (logLines.ts). The mocha suite (test/adapters/http/apiFuzz.test.ts) and `npm run fuzz`
 * (bin/fuzz.ts) both drive it.
 */

/** One event appended to the log, as the fuzzer sees it. */
export interface LoggedEvent {
  readonly type: string;
  /** The `X-Request-Id` of the request that led to it (Tidings' event metadata `correlationId`). */
  readonly correlationId: string;
  readonly data: unknown;
}

/** Reads what the log gained since the last call (the first call: since the probe was made). */
export interface EventLogProbe {
  takeNew(): Promise<readonly LoggedEvent[]>;
}

/** The warn- and error-level log lines (JSON, as Tidings writes them) written since the last call. */
export interface LogLineProbe {
  takeNew(): readonly string[];
}

/** The server under test and the probes into it. */
export interface FuzzTarget {
  /** `http://127.0.0.1:port`. */
  readonly base: string;
  readonly operatorToken: string;
  readonly auditToken: string;
  readonly log: EventLogProbe;
  readonly logLines?: LogLineProbe;
  /** Checks success bodies against their schemas when given. */
  readonly checkSchema?: SchemaCheck;
  /** The Bark device the fixture's person registers (see {@link FixtureOptions.device}). */
  readonly device?: FixtureOptions['device'];
  /** What makes the target's moderation hold a message (see {@link FixtureOptions.holdMarker}). */
  readonly holdMarker?: string;
}

/** What happened to one case. */
export interface Outcome {
  readonly fuzzCase: FuzzCase;
  readonly request: WireRequest;
  readonly requestId: string;
  readonly answer?: WireAnswer;
  /** Why there was no answer, when there was none. */
  readonly failure?: string;
  readonly violations: readonly Violation[];
}

/** Running totals. */
export interface FuzzStats {
  sent: number;
  readonly statuses: Map<number, number>;
  /** Statuses by documented operation aimed at (wrong-method probes under their path and method). */
  readonly byOperation: Map<string, Map<number, number>>;
  /**
   * 2xx answers by the documented operation the request really reached (judged from the path it
   * sent, as the oracle does): an operation missing here never had its success checked.
   */
  readonly succeeded: Map<string, number>;
  /** Events of no request the fuzzer sent: the processors' own work (delivery attempts…). */
  background: number;
  /** Warn- and error-level lines the server logged (the probe's, when there is one). */
  logLines: number;
  /** Violations by rule. */
  readonly violations: Map<string, number>;
  readonly started: number;
}

const REPLACEMENT = '\ufffd';
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The strings anywhere in a value. */
const stringsIn = (value: unknown, out: string[] = [], depth = 0): string[] => {
  if (typeof value === 'string') out.push(value);
  else if (depth < 50 && typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) stringsIn(inner, out, depth + 1);
  }
  return out;
};

/** Whether the request carried U+FFFD itself (then finding one stored is no alteration). */
const sentReplacement = (request: WireRequest): boolean =>
  /%EF%BF%BD/i.test(request.target) ||
  (request.body !== undefined && Buffer.from(request.body).includes(Buffer.from(REPLACEMENT)));

/** Drives generated requests at a target; see the module comment. */
export class Fuzzer {
  readonly stats: FuzzStats = {
    sent: 0,
    statuses: new Map(),
    byOperation: new Map(),
    succeeded: new Map(),
    background: 0,
    logLines: 0,
    violations: new Map(),
    started: performance.now(),
  };

  private counter = 0;

  private constructor(
    /** Whether each request id was answered with a success (its events are wanted) or refused. */
    private readonly outcomes: Map<string, 'wanted' | 'refused'>,
    readonly api: ApiDescription,
    readonly families: ReadonlyMap<Family, fc.Arbitrary<FuzzCase>>,
    private readonly target: FuzzTarget,
    private readonly endpoint: Endpoint,
    private readonly fixture: Fixture,
    private readonly timeoutMs: number,
  ) {}

  /** Reads the document, sets up the fixture and builds the generators. */
  static async start(
    target: FuzzTarget,
    options: {
      readonly timeoutMs?: number;
      /** Sets up the world requests act on; Tidings' own (fixture.ts) unless given. */
      readonly fixture?: (options: FixtureOptions) => Promise<Fixture>;
    } = {},
  ): Promise<Fuzzer> {
    const response = await fetch(`${target.base}/openapi.json`);
    if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
    const api = describeApi(await response.json());
    const outcomes = new Map<string, 'wanted' | 'refused'>();
    let setUp = 0;
    const fixture = await (options.fixture ?? setUpFixture)({
      base: target.base,
      operatorToken: target.operatorToken,
      auditToken: target.auditToken,
      ...(target.device === undefined ? {} : { device: target.device }),
      ...(target.holdMarker === undefined ? {} : { holdMarker: target.holdMarker }),
      nextRequestId: () => {
        const id = `fuzz-setup-${(setUp += 1)}`;
        outcomes.set(id, 'wanted');
        return id;
      },
    });
    for (const scheme of api.securitySchemes.keys()) {
      if (!fixture.credentials.has(scheme)) {
        throw new Error(
          `the fixture holds no credential for the security scheme ${scheme}: teach devtools/apiFuzz/fixture.ts`,
        );
      }
    }
    const families = caseFamilies({
      api,
      root: api.root,
      known: new Map([...fixture.known.keys()].map((name) => [name, name])),
      scopes: fixture.scopes ?? [],
      now: Date.now(),
    });
    const fuzzer = new Fuzzer(
      outcomes,
      api,
      families,
      target,
      endpointOf(target.base),
      fixture,
      options.timeoutMs ?? 15_000,
    );
    await target.log.takeNew();
    target.logLines?.takeNew();
    return fuzzer;
  }

  /** The families, by name (throws for one the document gives nothing to build from). */
  family(name: Family): fc.Arbitrary<FuzzCase> {
    const arbitrary = this.families.get(name);
    if (arbitrary === undefined) throw new Error(`no ${name} cases for this document`);
    return arbitrary;
  }

  /** Sends one case and judges it; see the module comment for what is checked. */
  async run(fuzzCase: FuzzCase): Promise<Outcome> {
    const violations: Violation[] = [];
    // Events that arrived since the last case: late writes of refused requests are violations.
    violations.push(...this.attribute(await this.target.log.takeNew(), undefined));
    // Log lines since the last case: only those naming a refused request can be placed.
    const since = this.target.logLines?.takeNew() ?? [];
    this.stats.logLines += since.length;
    violations.push(...lateLogViolations(since, (id) => this.outcomes.get(id) === 'refused'));

    this.counter += 1;
    const requestId = `fuzz-${this.counter}`;
    const request = renderCase(
      {
        endpoint: this.endpoint,
        schemes: this.api.securitySchemes,
        credentials: this.fixture.credentials,
        known: this.fixture.known,
        requestId,
      },
      fuzzCase,
    );
    let answer: WireAnswer | undefined;
    let failure: string | undefined;
    try {
      answer = await send(this.endpoint, request, this.timeoutMs);
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      failure = error.message;
      violations.push({
        rule: 'no answer',
        detail: `${error.message}; received ${error.received.length} bytes`,
      });
    }
    const success = answer !== undefined && answer.status >= 200 && answer.status < 300;
    this.outcomes.set(requestId, success ? 'wanted' : 'refused');
    const sentPath = request.target.split('?')[0];
    if (answer !== undefined)
      violations.push(
        ...judgeAnswer(this.api, fuzzCase, answer, this.target.checkSchema, sentPath),
      );
    violations.push(...this.attribute(await this.target.log.takeNew(), { requestId, request }));
    const logLines = this.target.logLines?.takeNew() ?? [];
    this.stats.logLines += logLines.length;
    if (answer !== undefined && answer.status >= 400 && answer.status < 500)
      violations.push(...refusalLogViolations(logLines, requestId));
    if (success) {
      const reached = reachedBy(this.api, fuzzCase, sentPath);
      if (reached.kind === 'operation') {
        const name = operationName(reached.operation);
        this.stats.succeeded.set(name, (this.stats.succeeded.get(name) ?? 0) + 1);
      }
    }

    if (success && fuzzCase.method !== 'get') {
      try {
        await this.fixture.renew();
      } catch (error) {
        // The API would not let the fixture put its world back after this request: a finding.
        violations.push({
          rule: 'fixture not restorable',
          detail: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.record(fuzzCase, answer, violations);
    return {
      fuzzCase,
      request,
      requestId,
      ...(answer === undefined ? {} : { answer }),
      ...(failure === undefined ? {} : { failure }),
      violations,
    };
  }

  /** `GET /healthz` answers 200 `{ status: "ok" }`; a violation otherwise. */
  async healthCheck(): Promise<Violation | undefined> {
    try {
      const answer = await send(
        this.endpoint,
        { method: 'GET', target: '/healthz', headers: [], framing: { kind: 'length' } },
        this.timeoutMs,
      );
      const body = answer.body.toString('utf8');
      return answer.status === 200 && body.includes('"ok"')
        ? undefined
        : { rule: 'healthz down', detail: `${answer.status} ${body.slice(0, 200)}` };
    } catch (error) {
      return {
        rule: 'healthz down',
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /** A failing case as a reader replays it: the broken rules, the exact request, the answer. */
  report(outcome: Outcome): string {
    const answer = outcome.answer;
    const answerText =
      answer === undefined
        ? `no answer: ${outcome.failure ?? ''}`
        : `${answer.status} ${answer.headers.get('content-type') ?? '(no Content-Type)'} ${JSON.stringify(answer.body.subarray(0, 400).toString('utf8'))}`;
    return [
      ...outcome.violations.map((found) => `✘ ${found.rule}: ${found.detail}`),
      `case: ${caseSummary(outcome.fuzzCase)}`,
      'request:',
      describeWire(outcome.request).replace(/^/gm, '  '),
      `answer: ${answerText}`,
    ].join('\n');
  }

  /** Judges the events the log gained: whose they are, and whether their text was altered. */
  private attribute(
    events: readonly LoggedEvent[],
    current: { requestId: string; request: WireRequest } | undefined,
  ): Violation[] {
    const found: Violation[] = [];
    for (const event of events) {
      const outcome = this.outcomes.get(event.correlationId);
      if (outcome === 'refused') {
        found.push({
          rule: 'refused request wrote an event',
          detail: `${event.type} (request ${event.correlationId}${event.correlationId === current?.requestId ? '' : ', written after its answer'})`,
        });
      } else if (outcome === undefined) {
        // Not caused by a request: a processor's own work, such as a delivery attempt.
        this.stats.background += 1;
      } else if (current !== undefined && event.correlationId === current.requestId) {
        const strings = stringsIn(event.data);
        if (strings.some((text) => loneSurrogate.test(text))) {
          found.push({
            rule: 'lone surrogate stored',
            detail: `${event.type} holds a lone surrogate`,
          });
        } else if (
          !sentReplacement(current.request) &&
          strings.some((text) => text.includes(REPLACEMENT))
        ) {
          found.push({
            rule: 'text silently altered',
            detail: `${event.type} holds U+FFFD that the request did not send`,
          });
        }
      }
    }
    return found;
  }

  private record(
    fuzzCase: FuzzCase,
    answer: WireAnswer | undefined,
    violations: readonly Violation[],
  ): void {
    const { stats } = this;
    stats.sent += 1;
    const status = answer?.status ?? 0;
    stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
    const operation = operationOf(this.api, fuzzCase);
    const name =
      operation === undefined
        ? `${fuzzCase.method.toUpperCase()} ${fuzzCase.operation.path} (wrong method)`
        : operationName(operation);
    const statuses = stats.byOperation.get(name) ?? new Map<number, number>();
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    stats.byOperation.set(name, statuses);
    for (const found of violations)
      stats.violations.set(found.rule, (stats.violations.get(found.rule) ?? 0) + 1);
  }
}

/**
 * A fast-check property over one family (or all of them): each case is sent, and any violation
 * fails it with {@link Fuzzer.report}. Every `healthEvery` cases `/healthz` must still answer.
 */
export const fuzzProperty = (
  fuzzer: Fuzzer,
  arbitrary: fc.Arbitrary<FuzzCase>,
  healthEvery = 50,
): fc.IAsyncProperty<[FuzzCase]> => {
  let runs = 0;
  return fc.asyncProperty(arbitrary, async (fuzzCase) => {
    const outcome = await fuzzer.run(fuzzCase);
    runs += 1;
    const health = runs % healthEvery === 0 ? await fuzzer.healthCheck() : undefined;
    const violations = health === undefined ? outcome.violations : [...outcome.violations, health];
    if (violations.length > 0) throw new Error(fuzzer.report({ ...outcome, violations }));
  });
};

/**
 * fast-check's parameters for a bounded, repeatable run: a fixed seed and count, the failing
 * request in the message itself, and a time limit. Past the limit the run stops and fails saying
 * so ("Property interrupted after N tests"); a failure whose shrinking runs past it is reported
 * as far as the shrinking got. fast-check's `skipAllAfterTimeLimit` is no bound for this: it
 * skips the runs left, so a slow run that would have passed fails as "too many pre-condition
 * failures".
 */
export const boundedRun = <T>(options: {
  readonly seed: number;
  readonly numRuns: number;
  readonly timeLimitMs: number;
}): fc.Parameters<T> => ({
  seed: options.seed,
  numRuns: options.numRuns,
  plugins: [
    // The plugin never touches the values; fast-check types it for unknown ones only.
    fc.interruptAfterTimeLimit(options.timeLimitMs, { failOnInterrupt: true }) as fc.Plugin<T>,
  ],
  // The request and answer in the message itself, whatever the reporter does with causes.
  includeErrorInReport: true,
});

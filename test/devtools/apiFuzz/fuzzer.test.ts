import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { caseFamilies } from '../../../devtools/apiFuzz/cases.js';
import type { Fixture } from '../../../devtools/apiFuzz/fixture.js';
import {
  bodyBytes,
  JsonObject,
  Known,
  renderCase,
  type FuzzCase,
  type RenderContext,
} from '../../../devtools/apiFuzz/fuzzCase.js';
import {
  boundedRun,
  Fuzzer,
  fuzzProperty,
  type LoggedEvent,
  type Outcome,
} from '../../../devtools/apiFuzz/fuzzer.js';

/**
 * The fuzzer's own checks, against a stand-in server that misbehaves on purpose: each rule the
 * suite relies on must catch the fault it names, or the suite could pass while the API is wrong.
 * The generators are checked for the malformations the suite promises.
 */

const problemAnswer = (codes: readonly string[]): unknown => ({
  description: 'Problems',
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
      examples: Object.fromEntries(codes.map((code) => [code, { summary: code, value: { code } }])),
    },
  },
});

/** A two-operation API document shaped like the one Tidings serves. */
const document = {
  openapi: '3.1.0',
  info: { title: 'stand-in', version: '1' },
  paths: {
    '/healthz': {
      get: {
        operationId: 'health',
        security: [],
        responses: {
          200: {
            description: 'Up',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
    '/things/{id}': {
      post: {
        operationId: 'make',
        security: [{ token: [] }],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { name: { type: 'string', maxLength: 10 } },
                required: ['name'],
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          201: {
            description: 'Made',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          400: problemAnswer(['validation_failed']),
          401: problemAnswer(['unauthorized']),
        },
      },
    },
  },
  components: {
    schemas: {
      Problem: {
        type: 'object',
        properties: {
          code: {
            type: 'string',
            enum: ['validation_failed', 'unauthorized', 'not_found', 'method_not_allowed'],
          },
        },
      },
    },
    securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
  },
};

/** What the stand-in does with one request; the default is a documented 201. */
interface Script {
  status: number;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
  /** An event "written" for the request, now or after the answer. */
  event?: { data: unknown; later?: boolean };
  /** A server log line written while the request is answered (or after, with `later`). */
  logLine?: string | ((requestId: string) => string);
  logLater?: boolean;
  destroy?: boolean;
}

const problemBody = (code: string, status: number): string =>
  JSON.stringify({ type: `https://x/${code}`, title: code, status, detail: code, code });

describe('the API fuzzer (devtools/apiFuzz/)', () => {
  let server: http.Server;
  let base: string;
  let script: Script;
  let healthStatus = 200;
  const seenTargets: string[] = [];
  const events: LoggedEvent[] = [];
  const logLines: string[] = [];
  let fuzzer: Fuzzer;

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seenTargets.push(request.url ?? '');
        if (request.url === '/openapi.json') {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify(document));
          return;
        }
        if (request.url === '/healthz') {
          response.statusCode = healthStatus;
          response.setHeader('content-type', 'application/json');
          response.end('{"status":"ok"}');
          return;
        }
        const now = script;
        if (now.destroy === true) {
          request.socket.destroy();
          return;
        }
        const correlationId = String(request.headers['x-request-id']);
        const event = now.event;
        if (event !== undefined) {
          const logged = { type: 'ThingMade', correlationId, data: event.data };
          if (event.later === true) setTimeout(() => events.push(logged), 10);
          else events.push(logged);
        }
        const line = now.logLine;
        if (line !== undefined) {
          const text = typeof line === 'string' ? line : line(correlationId);
          if (now.logLater === true) setTimeout(() => logLines.push(text), 10);
          else logLines.push(text);
        }
        response.statusCode = now.status;
        for (const [name, value] of Object.entries(now.headers ?? {}))
          response.setHeader(name, value);
        if (now.type !== undefined) response.setHeader('content-type', now.type);
        response.end(now.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fixture = (): Promise<Fixture> =>
      Promise.resolve({
        credentials: new Map([['token', 'the-secret']]),
        known: new Map([['id', ['t1']]]),
        renew: () => Promise.resolve(),
      });
    fuzzer = await Fuzzer.start(
      {
        base,
        operatorToken: 'op',
        auditToken: 'au',
        log: { takeNew: () => Promise.resolve(events.splice(0)) },
        logLines: { takeNew: () => logLines.splice(0) },
      },
      { fixture, timeoutMs: 2000 },
    );
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    script = { status: 201, type: 'application/json', body: '{}' };
    healthStatus = 200;
  });

  /** A valid request to `POST /things/{id}`, with changes. */
  const aCase = (changes: Partial<FuzzCase> = {}): FuzzCase => ({
    family: 'mutation',
    operation: { method: 'post', path: '/things/{id}' },
    method: 'post',
    path: [{ literal: '/things/' }, { param: 'id', value: new Known('id', 0) }],
    query: [],
    credential: { kind: 'scheme', scheme: 'token' },
    headers: [],
    body: { kind: 'json', tree: new JsonObject([['name', 'x']]) },
    framing: { kind: 'length' },
    mutation: 'valid',
    ...changes,
  });

  const rules = (outcome: Outcome): string[] => outcome.violations.map((found) => found.rule);

  it('finds nothing wrong with a documented answer', async () => {
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
  });

  it('reads the operations, schemes and catalogue from the document', () => {
    expect(
      fuzzer.api.operations.map((operation) => `${operation.method} ${operation.path}`),
    ).to.deep.equal(['get /healthz', 'post /things/{id}']);
    expect([...fuzzer.api.problemCodes]).to.include('method_not_allowed');
    expect(fuzzer.api.statusOfCode.get('unauthorized')).to.equal(401);
  });

  it('calls a 5xx a violation, and a status the operation does not document', async () => {
    script = {
      status: 500,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 500),
    };
    expect(rules(await fuzzer.run(aCase()))).to.include.members(['5xx', 'undocumented status']);
  });

  it('calls an error that is not problem+json a violation', async () => {
    script = { status: 400, type: 'text/plain', body: 'Bad Request' };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['not problem+json']);
  });

  it('calls a code the operation does not document under that status a violation', async () => {
    script = { status: 400, type: 'application/problem+json', body: problemBody('not_found', 400) };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['undocumented code']);
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('no_such_code', 400),
    };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['code not in the catalogue']);
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('unauthorized', 400),
    };
    expect(rules(await fuzzer.run(aCase()))).to.include('code answered with another status');
  });

  it('catches a refused request that writes an event, at once or after its answer', async () => {
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 400),
      event: { data: {} },
    };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['refused request wrote an event']);
    script = { ...script, event: { data: {}, later: true } };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    script = { status: 201, type: 'application/json', body: '{}' };
    const next = await fuzzer.run(aCase());
    expect(rules(next)).to.deep.equal(['refused request wrote an event']);
    expect(next.violations[0]?.detail).to.contain('written after its answer');
  });

  it('lets the events of a success and the processors’ own events be', async () => {
    script = { status: 201, type: 'application/json', body: '{}', event: { data: { name: 'x' } } };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
    events.push({ type: 'DeliveryFailed', correlationId: 'delivery:1', data: {} });
    const before = fuzzer.stats.background;
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
    expect(fuzzer.stats.background).to.equal(before + 1);
  });

  it('catches an error-level log line for a client mistake', async () => {
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 400),
      logLine: '{"level":"error","msg":"unhandled error"}',
    };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['error log for a client mistake']);
    // Even from a background worker: an error while a refused request ran is worth a look.
    script = { ...script, logLine: '{"level":"error","msg":"boom","processor":"router"}' };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['error log for a client mistake']);
  });

  it('catches a warn-level log line after a 4xx, unless a background worker wrote it', async () => {
    const refused = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 400),
    };
    script = { ...refused, logLine: '{"level":"warn","msg":"bad input","path":"/things/t1"}' };
    const outcome = await fuzzer.run(aCase());
    expect(rules(outcome)).to.deep.equal(['warn log for a client mistake']);
    expect(outcome.violations[0]?.detail).to.contain('bad input');
    script = { ...refused, status: 429, body: problemBody('rate_limited', 429) };
    script.logLine = '{"level":"warn","msg":"rate limited"}';
    expect(rules(await fuzzer.run(aCase()))).to.include('warn log for a client mistake');
    // A delivery worker's own warning while the request ran is not the request's.
    script = {
      ...refused,
      logLine: '{"level":"warn","msg":"outcome refused","component":"delivery"}',
    };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
    // Unless it names the request.
    script = {
      ...refused,
      logLine: (id) => JSON.stringify({ level: 'warn', msg: 'x', processor: 'p', requestId: id }),
    };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['warn log for a client mistake']);
    // A success may warn (an operator is told what a request changed).
    script = { status: 201, type: 'application/json', body: '{}', logLine: '{"level":"warn"}' };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal([]);
  });

  it('catches a log line naming a refused request written after its answer', async () => {
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 400),
      logLine: (id) => JSON.stringify({ level: 'warn', msg: 'late', requestId: id }),
      logLater: true,
    };
    const first = await fuzzer.run(aCase());
    await new Promise((resolve) => setTimeout(resolve, 50));
    script = { status: 201, type: 'application/json', body: '{}' };
    const next = await fuzzer.run(aCase());
    expect(rules(next)).to.deep.equal(['warn log for a client mistake']);
    expect(next.violations[0]?.detail).to.contain(first.requestId).and.contain('after its answer');
  });

  it('catches text stored other than it was sent', async () => {
    const lone = aCase({ body: { kind: 'json', tree: new JsonObject([['name', 'a\udfff']]) } });
    script = {
      status: 201,
      type: 'application/json',
      body: '{}',
      event: { data: { name: 'a\ufffd' } },
    };
    expect(rules(await fuzzer.run(lone))).to.deep.equal(['text silently altered']);
    script = { ...script, event: { data: { name: 'a\udfff' } } };
    expect(rules(await fuzzer.run(lone))).to.deep.equal(['lone surrogate stored']);
    // U+FFFD that the request itself sent is no alteration.
    const sent = aCase({ body: { kind: 'json', tree: new JsonObject([['name', 'a\ufffd']]) } });
    script = { ...script, event: { data: { name: 'a\ufffd' } } };
    expect(rules(await fuzzer.run(sent))).to.deep.equal([]);
  });

  it('catches a success without the credential, and a wrong credential not answered 401', async () => {
    const wrong = aCase({ credential: { kind: 'wrong', scheme: 'token', value: 'nope' } });
    expect(rules(await fuzzer.run(wrong))).to.deep.equal(['success without the credential']);
    script = {
      status: 400,
      type: 'application/problem+json',
      body: problemBody('validation_failed', 400),
    };
    expect(rules(await fuzzer.run({ ...wrong, family: 'credentials' }))).to.deep.equal([
      'wrong credential not 401',
    ]);
    script = {
      status: 401,
      type: 'application/problem+json',
      body: problemBody('unauthorized', 401),
    };
    expect(rules(await fuzzer.run({ ...wrong, family: 'credentials' }))).to.deep.equal([]);
  });

  it('wants 405 method_not_allowed with Allow for a method a path does not document', async () => {
    const get = aCase({
      family: 'method',
      method: 'get',
      operation: { method: 'get', path: '/things/{id}' },
    });
    script = { status: 404, type: 'application/problem+json', body: problemBody('not_found', 404) };
    expect(rules(await fuzzer.run(get))).to.deep.equal(['wrong method not 405']);
    script = {
      status: 405,
      type: 'application/problem+json',
      body: problemBody('method_not_allowed', 405),
    };
    expect(rules(await fuzzer.run(get))).to.deep.equal(['405 without Allow']);
    script = { ...script, headers: { allow: 'POST' } };
    expect(rules(await fuzzer.run(get))).to.deep.equal([]);
  });

  it('sends the request target byte for byte and calls a dropped connection no answer', async () => {
    await fuzzer.run(
      aCase({ path: [{ literal: '/things/' }, { param: 'id', value: { raw: '%zz%ED%A0%80%' } }] }),
    );
    expect(seenTargets.at(-1)).to.equal('/things/%zz%ED%A0%80%');
    script = { status: 201, destroy: true };
    expect(rules(await fuzzer.run(aCase()))).to.deep.equal(['no answer']);
  });

  it('notices /healthz going down', async () => {
    expect(await fuzzer.healthCheck()).to.equal(undefined);
    healthStatus = 503;
    expect((await fuzzer.healthCheck())?.rule).to.equal('healthz down');
  });

  it('fails its property with the request a reader can replay', async () => {
    script = { status: 500, type: 'text/plain', body: 'boom' };
    const details = await fc.check(fuzzProperty(fuzzer, fc.constant(aCase())), {
      seed: 1,
      numRuns: 1,
    });
    expect(details.failed).to.equal(true);
    const message = details.errorInstance instanceof Error ? details.errorInstance.message : '';
    expect(message)
      .to.contain('✘ 5xx')
      .and.contain('POST /things/t1 HTTP/1.1')
      .and.contain('Authorization: Bearer the-secret');
    expect(message).to.contain('{"name":"x"}');
  });

  describe('its generators', () => {
    const context = (): RenderContext => ({
      endpoint: { host: '127.0.0.1', port: 1 },
      schemes: fuzzer.api.securitySchemes,
      credentials: new Map([['token', 'the-secret']]),
      known: new Map([['id', ['t1']]]),
      requestId: 'r',
    });
    const sample = (family: Parameters<Fuzzer['family']>[0], runs = 1500): FuzzCase[] =>
      fc.sample(fuzzer.family(family), { seed: 7, numRuns: runs });

    it('put every malformed percent-encoding the issue names into path parameters', () => {
      const targets = new Set(
        sample('target', 3000).map((fuzzCase) => renderCase(context(), fuzzCase).target),
      );
      for (const bad of ['%', '%zz', '%ff', '%ED%A0%80', '%C0%AF']) {
        expect(targets, bad).to.include(`/things/${bad}`);
      }
    });

    it('send lone surrogates, NUL and raw invalid UTF-8 in body fields, one field at a time', () => {
      const bodies = sample('mutation', 3000).map((fuzzCase) =>
        Buffer.from(bodyBytes(context(), fuzzCase.body) ?? []),
      );
      const hasText = (text: string): boolean =>
        bodies.some((body) => body.includes(Buffer.from(text)));
      expect(hasText('\\udfff'), 'an escaped lone surrogate').to.equal(true);
      expect(hasText('\\u0000'), 'an escaped NUL').to.equal(true);
      expect(
        bodies.some((body) => body.includes(Buffer.from([0xff]))),
        'a raw 0xff byte',
      ).to.equal(true);
      expect(
        bodies.some((body) => body.length > 100_000),
        'a huge string',
      ).to.equal(true);
    });

    it('give a field the values its route is scoped to, and its own elsewhere', () => {
      const families = caseFamilies({
        api: fuzzer.api,
        root: fuzzer.api.root,
        known: new Map([
          ['id', 'id'],
          ['heldId', 'heldId'],
        ]),
        scopes: [{ pathPrefix: '/things/', name: 'id', from: 'heldId' }],
        now: Date.now(),
      });
      const scoped = {
        ...context(),
        known: new Map([
          ['id', ['t1']],
          ['heldId', ['h1']],
        ]),
      };
      const targets = fc
        .sample(families.get('credentials') ?? fc.constant(aCase()), { seed: 7, numRuns: 300 })
        .map((fuzzCase) => renderCase(scoped, fuzzCase).target);
      expect(targets).to.include('/things/h1').and.not.include('/things/t1');
    });

    it('present every credential: none, wrong, huge and each scheme', () => {
      const kinds = new Set(sample('credentials').map((fuzzCase) => fuzzCase.credential.kind));
      expect([...kinds].sort()).to.deep.equal(['huge', 'none', 'scheme', 'wrong']);
    });

    it('send bodies to every operation, body-less ones too, and every wrong method, OPTIONS too', () => {
      const operations = new Set(
        sample('body').map((fuzzCase) => `${fuzzCase.operation.method} ${fuzzCase.operation.path}`),
      );
      expect([...operations].sort()).to.deep.equal(['get /healthz', 'post /things/{id}']);
      const methods = new Set(
        sample('method', 200).map((fuzzCase) => `${fuzzCase.method} ${fuzzCase.operation.path}`),
      );
      expect(methods)
        .to.include('get /things/{id}')
        .and.include('post /healthz')
        .and.include('options /things/{id}')
        .and.include('options /healthz')
        .and.not.include('post /things/{id}')
        .and.not.include('head /healthz');
    });
  });
});

describe('a bounded run of the API fuzzer (boundedRun)', () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  /** The message fast-check fails `property` with under `boundedRun`, or undefined if it passes. */
  const failure = async <Ts extends [unknown, ...unknown[]]>(
    property: fc.IAsyncProperty<Ts>,
    numRuns: number,
  ): Promise<string | undefined> => {
    try {
      await fc.assert(property, boundedRun({ seed: 1, numRuns, timeLimitMs: 300 }));
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  it('fails a run that passes but runs out of time, saying it was interrupted', async () => {
    const slow = fc.asyncProperty(fc.nat(), () => sleep(20));
    const message = await failure(slow, 100);
    expect(message)
      .to.be.a('string')
      .and.to.match(/interrupted after \d+ tests/i);
    expect(message).not.to.contain('pre-condition');
  });

  it('passes a run that finishes in time', async () => {
    expect(
      await failure(
        fc.asyncProperty(fc.nat(), () => sleep(1)),
        20,
      ),
    ).to.equal(undefined);
  });

  it('reports a failure whose shrinking runs out of time, as far as it got', async () => {
    const big = fc.asyncProperty(fc.nat({ max: 1_000_000 }), async (n) => {
      await sleep(20);
      if (n > 10) throw new Error(`too big: ${n}`);
    });
    expect(await failure(big, 100))
      .to.match(/Property failed after \d+ tests/)
      .and.to.contain('too big');
  });
});

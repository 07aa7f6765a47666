import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from 'express';
import { createHttpApp } from '../../../adapters/http/app.js';
import { createMetrics } from '../../../adapters/http/metrics.js';
import { documentedRoutes } from '../../support/docs.js';
import { withoutForeignProtocols } from '../../support/foreignProtocols.js';
import { eventCount, expectProblem } from '../../support/httpFixtures.js';
import { recordingLogger, type LogEntry } from '../../support/logs.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';

/**
 * Path segments that are not valid percent-encoded UTF-8: a lone `%`, a non-hex escape, a byte
 * that is never UTF-8, an encoded UTF-16 surrogate and an overlong encoding of `/`.
 */
const MALFORMED = ['%', '%zz', '%ff', '%ED%A0%80', '%C0%AF', 'ok%2'] as const;

interface Document {
  readonly paths: Record<
    string,
    Record<string, { readonly parameters?: readonly { name: string; in: string }[] }>
  >;
}

describe('HTTP paths that are not valid percent-encoding', () => {
  let server: TestServer;
  let entries: LogEntry[];
  let operations: { method: string; path: string; params: string[] }[];

  before(async () => {
    const recording = recordingLogger();
    entries = recording.entries;
    server = await startTestServer({ logger: recording.logger });
    const document = withoutForeignProtocols(
      (await call<Document>(server.base, 'GET', '/openapi.json')).body,
    );
    operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        method,
        path,
        params: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      })),
    );
  });
  after(async () => {
    await server.dispose();
  });

  it('answers 400 validation_failed naming the parameter on every operation with a path parameter, before authentication, writing and logging nothing above debug', async () => {
    const withParams = operations.filter(({ params }) => params.length > 0);
    // Every operation of the document that has a path parameter, not a hand-picked few.
    expect(withParams.length).to.be.greaterThan(15);
    const eventsBefore = await eventCount(server.tidings);
    const logged = entries.length;
    for (const { method, path, params } of withParams) {
      for (const name of params) {
        for (const value of MALFORMED) {
          const concrete = path.replace(/\{([^}]+)\}/g, (_whole, param: string) =>
            param === name ? value : 'x',
          );
          const what = `${method.toUpperCase()} ${concrete}`;
          const reply = await call(server.base, method.toUpperCase(), concrete);
          const body = expectProblem(reply, 400, 'validation_failed');
          expect(
            body.errors?.map((error) => error.path),
            what,
          ).to.deep.equal([`/params/${name}`]);
        }
      }
    }
    expect(await eventCount(server.tidings)).to.equal(eventsBefore);
    const loud = entries.slice(logged).filter((entry) => entry.level !== 'debug');
    expect(loud, JSON.stringify(loud[0])).to.deep.equal([]);
  });

  it('names the parameter in any letter case and with a trailing slash, as express matches routes', async () => {
    const reply = await call(server.base, 'POST', '/V1/Admin/Apps/%zz/secret/');
    expect(expectProblem(reply, 400, 'validation_failed').errors).to.deep.equal([
      { path: '/params/appId', message: 'is not valid percent-encoded UTF-8' },
    ]);
  });

  it('still decodes valid escapes in a parameter (a well-formed id with %-escapes reaches the route)', async () => {
    const reply = await call(server.base, 'GET', '/v1/admin/apps/%61%62', {
      token: server.adminToken,
    });
    expectProblem(reply, 404, 'not_found');
  });

  it('answers web page and static paths with malformed escapes with a problem, never a 5xx, logging nothing above debug', async () => {
    const pages = documentedRoutes()
      .filter(({ state }) => state.kind === 'page')
      .map(({ path }) => path);
    expect(pages.length).to.be.greaterThan(5);
    const logged = entries.length;
    for (const page of [...pages, '/static']) {
      for (const value of MALFORMED) {
        for (const path of [`${page.replace(/\/$/, '')}/${value}`, `${page}${value}`]) {
          const reply = await call(server.base, 'GET', path);
          expect(reply.status, path).to.be.within(400, 499);
          expect(reply.headers.get('content-type'), path).to.match(/^application\/problem\+json/);
        }
      }
    }
    const loud = entries.slice(logged).filter((entry) => entry.level !== 'debug');
    expect(loud, JSON.stringify(loud[0])).to.deep.equal([]);
  });
});

describe('HTTP app: a route mounted outside the API router whose parameter cannot be decoded', () => {
  let server: Server;
  let base: string;
  const recording = recordingLogger();
  before(async () => {
    const router = Router();
    router.get('/things/:thingId', (request, response) => {
      response.json({ thingId: request.params['thingId'] });
    });
    const app = createHttpApp({
      logger: recording.logger,
      metrics: createMetrics(),
      readiness: [],
      routers: [router],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("answers express's own decoding failure with 400 validation_failed, not a logged 500", async () => {
    expectProblem(await call(base, 'GET', '/things/%E0%A4%A'), 400, 'validation_failed');
    expect((await call(base, 'GET', '/things/%41')).body).to.deep.equal({ thingId: 'A' });
    expect(recording.entries.filter((entry) => entry.level === 'error')).to.deep.equal([]);
  });
});

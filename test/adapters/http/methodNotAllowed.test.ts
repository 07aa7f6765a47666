import { expect } from 'chai';
import { documentedRoutes } from '../../support/docs.js';
import { foreignOperations, withoutForeignProtocols } from '../../support/foreignProtocols.js';
import { eventCount, expectProblem } from '../../support/httpFixtures.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';

interface Document {
  readonly paths: Record<string, Record<string, unknown>>;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `/v1/me/apps/{bindingId}` as a pattern that matches a concrete path, as express matches it. */
const patternOf = (template: string): RegExp =>
  new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`, 'i');

/** Every method served at `concrete`, over all the templates it matches (HEAD with GET). */
const methodsAt = (served: ReadonlyMap<string, readonly string[]>, concrete: string): string[] => {
  const methods = new Set<string>();
  for (const [template, list] of served) {
    if (!patternOf(template).test(concrete)) continue;
    for (const method of list) methods.add(method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
};

const allowOf = (header: string | null): string[] =>
  (header ?? '')
    .split(',')
    .map((method) => method.trim())
    .filter((method) => method !== '')
    .sort();

describe('HTTP 405 method_not_allowed for a served path asked with another method', () => {
  let server: TestServer;
  /** Every path the server answers (the API document's and the pages), with its methods. */
  let served: Map<string, string[]>;

  before(async () => {
    server = await startTestServer();
    const full = (await call<Document>(server.base, 'GET', '/openapi.json')).body;
    const document = withoutForeignProtocols(full);
    served = new Map(
      Object.entries(document.paths).map(([path, item]) => [
        path,
        Object.keys(item).map((method) => method.toUpperCase()),
      ]),
    );
    // The compatible ingress's fixed paths (POST / and POST /push) are methods of those paths; its
    // templated ones take only binding keys, which the probes' `x` is not.
    for (const operation of foreignOperations(full)) {
      const [method = '', path = ''] = operation.split(' ');
      if (!path.includes('{')) served.set(path, [...(served.get(path) ?? []), method]);
    }
    for (const page of documentedRoutes().filter(({ state }) => state.kind === 'page')) {
      served.set(page.path, [...(served.get(page.path) ?? []), page.method.toUpperCase()]);
    }
  });
  after(async () => {
    await server.dispose();
  });

  it('answers every other method on every API and page path with 405, Allow naming the methods, writing nothing', async () => {
    expect(served.size).to.be.greaterThan(30);
    const before = await eventCount(server.tidings);
    let probes = 0;
    for (const template of served.keys()) {
      const concrete = template.replace(/\{[^}]+\}/g, 'x');
      const methods = methodsAt(served, concrete);
      for (const method of METHODS.filter((candidate) => !methods.includes(candidate))) {
        const what = `${method} ${concrete}`;
        // With a credential and a body, so nothing but the method can be wrong.
        const reply = await call(server.base, method, concrete, {
          token: server.adminToken,
          ...(method === 'GET' ? {} : { body: {} }),
        });
        expectProblem(reply, 405, 'method_not_allowed');
        expect(allowOf(reply.headers.get('allow')), what).to.deep.equal(methods);
        probes += 1;
      }
    }
    expect(probes).to.be.greaterThan(100);
    expect(await eventCount(server.tidings)).to.equal(before);
  });

  it('answers HEAD on a path without GET with 405, and HEAD on a GET path as GET', async () => {
    const head = await fetch(`${server.base}/v1/auth/login`, { method: 'HEAD' });
    expect(head.status).to.equal(405);
    expect(head.headers.get('allow')).to.equal('POST');
    expect((await fetch(`${server.base}/healthz`, { method: 'HEAD' })).status).to.equal(200);
  });

  it('allows every method of the patterns a path matches: /v1/messages/batch is also /v1/messages/{messageId}', async () => {
    const reply = await call(server.base, 'PUT', '/v1/messages/batch');
    expectProblem(reply, 405, 'method_not_allowed');
    expect(allowOf(reply.headers.get('allow'))).to.deep.equal(['DELETE', 'GET', 'HEAD', 'POST']);
  });

  it('answers OPTIONS like any other method a path does not take: 405 with Allow, on every served path', async () => {
    let probes = 0;
    for (const template of served.keys()) {
      const concrete = template.replace(/\{[^}]+\}/g, 'x');
      const reply = await call(server.base, 'OPTIONS', concrete);
      expectProblem(reply, 405, 'method_not_allowed');
      expect(reply.headers.get('cache-control'), concrete).to.equal('no-store');
      expect(allowOf(reply.headers.get('allow')), concrete).to.deep.equal(
        methodsAt(served, concrete),
      );
      probes += 1;
    }
    expect(probes).to.be.greaterThan(30);
    expectProblem(await call(server.base, 'OPTIONS', '/v1/nothing-here'), 404, 'not_found');
  });

  it('still answers a path nothing serves with the 404', async () => {
    const reply = await call(server.base, 'DELETE', '/v1/nothing-here');
    expectProblem(reply, 404, 'not_found');
    expect(reply.headers.get('allow')).to.equal(null);
  });
});

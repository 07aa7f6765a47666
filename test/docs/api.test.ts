import { expect } from 'chai';
import { problemCatalogue } from '../../adapters/http/problem.js';
import {
  documentedErrorCodes,
  documentedRoutes,
  type Caller,
  type DocumentedRoute,
} from '../support/docs.js';
import { isNoRoute } from '../support/noRoute.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * docs/api.md kept in step with the server: its route tables against the served `/openapi.json`
 * (methods, paths, callers), its pages and planned routes against what the server answers, and its
 * error code table against the server's one catalogue of codes.
 */

interface Document {
  readonly paths: Record<string, Record<string, { readonly security: unknown[] }>>;
}

/**
 * The OpenAPI security requirement each caller of docs/api.md proves itself with. A binding key
 * (the compatible ingress) travels in the path or the body, where no OpenAPI security scheme can
 * name it: it is a documented parameter of an operation with no security requirement.
 */
const securityOf: Record<Caller, unknown[]> = {
  none: [],
  key: [],
  auditor: [{ auditToken: [] }],
  operator: [{ operatorToken: [] }],
  recipient: [{ session: [] }],
  app: [{ appSecret: [] }],
};

const key = ({ method, path }: { method: string; path: string }): string =>
  `${method.toUpperCase()} ${path}`;

/** The path with every `{parameter}` filled in, for probing. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, 'x');

describe('docs/api.md', () => {
  const routes = documentedRoutes();
  const inState = (kind: DocumentedRoute['state']['kind']): DocumentedRoute[] =>
    routes.filter((route) => route.state.kind === kind);

  let server: TestServer;
  let operations: { method: string; path: string; security: unknown[] }[];

  before(async () => {
    server = await startTestServer();
    const reply = await call<Document>(server.base, 'GET', '/openapi.json');
    expect(reply.status).to.equal(200);
    operations = Object.entries(reply.body.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        method,
        path,
        security: operation.security,
      })),
    );
  });
  after(async () => {
    await server.dispose();
  });

  describe('its route tables', () => {
    it('list every route of the contract once, in each state', () => {
      expect(inState('served').length).to.be.greaterThan(30);
      expect(inState('page').length).to.be.greaterThan(0);
      // Every route of wave 2 is served; a route documented ahead of its code would be `planned`.
      const keys = routes.map(key);
      expect(keys.filter((route, index) => keys.indexOf(route) !== index)).to.deep.equal([]);
    });

    it('refuse a row that does not parse, naming its line', () => {
      expect(() => documentedRoutes('## App\n\n| `GET /v1/app` | someone | served |\n')).to.throw(
        'docs/api.md line 3',
      );
      expect(() => documentedRoutes('| `GET /v1/app` | app | soon |')).to.throw(/line 1/);
      expect(
        documentedRoutes('## App\n| `DELETE /v1/messages/:id` | app | planned (issue 9) |'),
      ).to.deep.equal([
        {
          method: 'delete',
          path: '/v1/messages/{id}',
          caller: 'app',
          state: { kind: 'planned', issue: 9 },
          section: 'App',
        },
      ]);
    });

    it('name an issue of wave 2 for every planned route', () => {
      for (const route of inState('planned')) {
        const issue = route.state.kind === 'planned' ? route.state.issue : 0;
        expect(issue, key(route)).to.be.within(12, 18);
      }
    });
  });

  describe('against the served /openapi.json', () => {
    it('every served route is an operation with that method and path', () => {
      const documented = new Set(operations.map(key));
      expect(
        inState('served')
          .map(key)
          .filter((route) => !documented.has(route)),
      ).to.deep.equal([]);
    });

    it('every operation is a served route of docs/api.md', () => {
      const served = new Set(inState('served').map(key));
      expect(operations.map(key).filter((route) => !served.has(route))).to.deep.equal([]);
    });

    it("every served route's caller is the operation's security requirement", () => {
      for (const route of inState('served')) {
        const operation = operations.find((op) => key(op) === key(route));
        expect(route.caller, key(route)).to.be.oneOf(Object.keys(securityOf));
        expect(operation?.security, key(route)).to.deep.equal(securityOf[route.caller]);
      }
    });

    it('no page and no planned route is an operation', () => {
      const documented = new Set(operations.map(key));
      const outside = [...inState('page'), ...inState('planned')].map(key);
      expect(outside.filter((route) => documented.has(route))).to.deep.equal([]);
    });
  });

  describe('against the server', () => {
    it('answers every page with HTML (after its redirects), never "no route"', async () => {
      for (const route of inState('page')) {
        const reply = await call(server.base, route.method.toUpperCase(), concrete(route.path));
        expect(isNoRoute(reply), key(route)).to.equal(false);
        expect(reply.headers.get('content-type') ?? '', key(route)).to.match(/^text\/html\b/);
      }
    });

    it('serves no planned route yet (when one is served, docs/api.md must say so)', async () => {
      const answered: string[] = [];
      for (const route of inState('planned')) {
        const reply = await call(server.base, route.method.toUpperCase(), concrete(route.path));
        if (!isNoRoute(reply)) answered.push(key(route));
      }
      expect(answered).to.deep.equal([]);
    });
  });

  describe('its error codes', () => {
    it("are the server's catalogue, each under its status", () => {
      const catalogue = new Map(
        Object.entries(problemCatalogue).map(([code, { status }]) => [code, status]),
      );
      expect([...documentedErrorCodes()].sort()).to.deep.equal([...catalogue].sort());
    });
  });
});

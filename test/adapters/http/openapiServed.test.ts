import { expect } from 'chai';
import { appRoutes } from '../../../adapters/http/api/appRoutes.js';
import { authRoutes } from '../../../adapters/http/api/authRoutes.js';
import { consentRoutes } from '../../../adapters/http/api/consentRoutes.js';
import type { ApiDeps } from '../../../adapters/http/api/deps.js';
import { meRoutes } from '../../../adapters/http/api/meRoutes.js';
import { operatorRoutes } from '../../../adapters/http/api/operatorRoutes.js';
import { documentedRoutes } from '../../support/docs.js';
import { withoutForeignProtocols } from '../../support/foreignProtocols.js';
import { eventCount } from '../../support/httpFixtures.js';
import { isNoRoute } from '../../support/noRoute.js';
import { call, startTestServer, type TestServer } from '../../support/testServer.js';

/**
 * The served API document (`GET /openapi.json`), checked against the routes the server mounts
 * and against docs/api.md. The generator itself has its own tests in test/adapters/http/openapi.test.ts.
 */

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: Record<string, unknown> }>;
  };
  responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, unknown>;
      content?: Record<
        string,
        {
          schema: Record<string, unknown>;
          examples?: Record<string, { value: { code: string; status: number } }>;
        }
      >;
    }
  >;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

type Credential = 'none' | 'operator' | 'recipient' | 'app';

/**
 * docs/api.md's routes that this server implements, with who may call them and the error statuses
 * each can answer besides 500 (taken from docs/api.md and from what the HTTP tests observe).
 */
const expectedRoutes: readonly {
  method: string;
  path: string;
  auth: Credential;
  statuses: readonly number[];
}[] = [
  { method: 'get', path: '/healthz', auth: 'none', statuses: [] },
  { method: 'get', path: '/readyz', auth: 'none', statuses: [503] },
  { method: 'get', path: '/metrics', auth: 'none', statuses: [] },
  { method: 'get', path: '/openapi.json', auth: 'none', statuses: [] },
  { method: 'post', path: '/v1/admin/apps', auth: 'operator', statuses: [400, 401, 413, 415] },
  {
    method: 'post',
    path: '/v1/admin/apps/{appId}/secret',
    auth: 'operator',
    statuses: [400, 401, 404],
  },
  { method: 'get', path: '/v1/admin/apps/{appId}', auth: 'operator', statuses: [400, 401, 404] },
  { method: 'post', path: '/v1/auth/register', auth: 'none', statuses: [400, 409, 413, 415, 429] },
  { method: 'post', path: '/v1/auth/login', auth: 'none', statuses: [400, 401, 413, 415, 429] },
  { method: 'post', path: '/v1/auth/logout', auth: 'none', statuses: [] },
  { method: 'get', path: '/v1/me', auth: 'recipient', statuses: [401] },
  { method: 'put', path: '/v1/me/devices/bark', auth: 'recipient', statuses: [400, 401, 413, 415] },
  { method: 'delete', path: '/v1/me/devices/bark', auth: 'recipient', statuses: [401] },
  {
    method: 'post',
    path: '/v1/me/authorizations',
    auth: 'recipient',
    statuses: [400, 401, 404, 413, 415, 422],
  },
  { method: 'get', path: '/v1/me/apps', auth: 'recipient', statuses: [401] },
  {
    method: 'patch',
    path: '/v1/me/apps/{bindingId}',
    auth: 'recipient',
    statuses: [400, 401, 404, 413, 415],
  },
  {
    method: 'delete',
    path: '/v1/me/apps/{bindingId}',
    auth: 'recipient',
    statuses: [400, 401, 404],
  },
  { method: 'get', path: '/v1/bindings', auth: 'app', statuses: [400, 401, 404] },
];

const securityOf: Record<Credential, Record<string, string[]>[]> = {
  none: [],
  operator: [{ operatorToken: [] }],
  recipient: [{ session: [] }],
  app: [{ appSecret: [] }],
};

/** Codes that must appear (as examples) under a route's problem answers. */
const expectedCodes: readonly { method: string; path: string; codes: readonly string[] }[] = [
  {
    method: 'post',
    path: '/v1/admin/apps',
    codes: ['validation_failed', 'invalid_json', 'unauthorized', 'payload_too_large'],
  },
  { method: 'get', path: '/v1/admin/apps/{appId}', codes: ['not_found', 'unauthorized'] },
  { method: 'post', path: '/v1/admin/apps/{appId}/secret', codes: ['not_found', 'unauthorized'] },
  {
    method: 'post',
    path: '/v1/auth/register',
    codes: ['validation_failed', 'already_exists', 'rate_limited'],
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    codes: ['validation_failed', 'unauthorized', 'rate_limited'],
  },
  {
    method: 'put',
    path: '/v1/me/devices/bark',
    codes: ['forbidden_destination', 'validation_failed', 'unauthorized'],
  },
  {
    method: 'post',
    path: '/v1/me/authorizations',
    codes: ['invalid_redirect_uri', 'not_found', 'illegal_state', 'unauthorized'],
  },
  {
    method: 'patch',
    path: '/v1/me/apps/{bindingId}',
    codes: ['validation_failed', 'not_found', 'unauthorized'],
  },
  { method: 'delete', path: '/v1/me/apps/{bindingId}', codes: ['not_found', 'unauthorized'] },
  {
    method: 'get',
    path: '/v1/bindings',
    codes: ['not_found', 'unauthorized', 'validation_failed'],
  },
];

/** The routes the API router mounts, read from the same route modules `createApiRouter` uses. */
const mountedApiRoutes = (): { method: string; path: string; auth: string }[] => {
  // Building the route lists only closes over the dependencies; no handler runs here.
  const deps = {} as ApiDeps;
  return [
    ...operatorRoutes(deps),
    ...authRoutes(deps),
    ...meRoutes(deps),
    ...consentRoutes(deps),
    ...appRoutes(deps),
  ].map(({ spec }) => ({
    method: spec.method,
    path: spec.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}'),
    auth: spec.auth,
  }));
};

const key = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;

/**
 * Every route of docs/api.md's tables that belongs in the API document, served here or not yet.
 * Pages of the web app are left out: they are served, but as HTML outside `/openapi.json`.
 */
const allApiMdRoutes: readonly { method: string; path: string }[] = documentedRoutes().filter(
  ({ state }) => state.kind !== 'page',
);

describe('HTTP GET /openapi.json (the served API document)', () => {
  let server: TestServer;
  let document: Document;
  let operations: { method: string; path: string; operation: Operation }[];

  before(async () => {
    server = await startTestServer();
    const reply = await call<Document>(server.base, 'GET', '/openapi.json');
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('content-type')).to.match(/^application\/json\b/);
    document = reply.body;
    operations = Object.entries(withoutForeignProtocols(document).paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ method, path, operation })),
    );
  });
  after(async () => {
    await server.dispose();
  });

  const operation = (method: string, path: string): Operation => {
    const found = document.paths[path]?.[method];
    if (found === undefined) return expect.fail(`${key(method, path)} is not documented`);
    return found;
  };

  it('is OpenAPI 3.1.0 with a title, the server version and the public URL', () => {
    expect(document.openapi).to.equal('3.1.0');
    expect(document.info.title).to.be.a('string').and.not.equal('');
    expect(document.info.version).to.equal('0.1.0');
    expect(document.servers?.[0]?.url).to.equal(server.tidings.settings.publicUrl);
  });

  it('describes what each batch item must be and the bounds the route checks, and what an Idempotency-Key may hold', () => {
    const batch = operation('post', '/v1/messages/batch');
    const schema = batch.requestBody?.content['application/json']?.schema as {
      properties: {
        messages: {
          items: { properties?: Record<string, unknown> };
          minItems: number;
          maxItems: number;
        };
      };
    };
    const { messages } = schema.properties;
    expect([messages.minItems, messages.maxItems]).to.deep.equal([1, 500]);
    expect(messages.items.properties).to.include.keys('title', 'body', 'key');
    const key = batch.parameters?.find((parameter) => parameter.name === 'Idempotency-Key');
    const pattern = new RegExp(String(key?.schema['pattern']), 'u');
    expect(['abc-1', '!~']).to.satisfy((keys: string[]) => keys.every((k) => pattern.test(k)));
    // The server takes visible ASCII only (routing.ts): so does the document.
    for (const refused of ['with space', 'é', ''])
      expect(pattern.test(refused), refused).to.equal(false);
  });

  it('answers the same document on every request and needs no credential', async () => {
    const again = await call<Document>(server.base, 'GET', '/openapi.json', { token: 'whatever' });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(document);
  });

  it('documents every route of the route modules the API router mounts', () => {
    const mounted = mountedApiRoutes();
    expect(mounted.length).to.be.greaterThan(10);
    const documented = operations.map(({ method, path }) => key(method, path));
    expect(documented).to.include.members(mounted.map(({ method, path }) => key(method, path)));
    expect(documented).to.include.members([
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
    ]);
  });

  it("documents every docs/api.md route this server implements, with docs/api.md's paths", () => {
    const documented = operations.map(({ method, path }) => key(method, path));
    expect(documented).to.include.members(
      expectedRoutes.map(({ method, path }) => key(method, path)),
    );
    // The routes checked in detail below are ones docs/api.md lists as served.
    const served = documentedRoutes()
      .filter(({ state }) => state.kind === 'served')
      .map(({ method, path }) => key(method, path));
    expect(served).to.include.members(expectedRoutes.map(({ method, path }) => key(method, path)));
  });

  it('documents every docs/api.md route the server answers (routes not served yet may be missing)', async () => {
    // The whole document here: the compatible ingress's routes are docs/api.md routes too.
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => key(method, path)),
      ),
    );
    const served: string[] = [];
    for (const { method, path } of allApiMdRoutes) {
      const reply = await call(server.base, method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'));
      if (!isNoRoute(reply)) served.push(key(method, path));
    }
    // At least the routes of this capability are served, so the check below is not vacuous.
    expect(served).to.include.members(expectedRoutes.map(({ method, path }) => key(method, path)));
    expect(served.filter((route) => !documented.has(route))).to.deep.equal([]);
  });

  it('every documented operation is really served (no "no route" 404) and writes nothing without credentials', async () => {
    const before = await eventCount(server.tidings);
    for (const { method, path } of operations) {
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      const reply = await call(server.base, method.toUpperCase(), concrete);
      expect(isNoRoute(reply), `${key(method, path)} is documented but not served`).to.equal(false);
    }
    expect(await eventCount(server.tidings)).to.equal(before);
    // The probe can tell: an undocumented route is the "no route" 404.
    expect(isNoRoute(await call(server.base, 'GET', '/v1/admin/no-such-route'))).to.equal(true);
  });

  it('gives every operation a unique operationId, a summary and a tag', () => {
    const ids = operations.map(({ operation: op }) => op.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const { method, path, operation: op } of operations) {
      expect(op.summary, key(method, path)).to.be.a('string').and.not.equal('');
      expect(op.tags, key(method, path)).to.have.length(1);
    }
  });

  describe('security', () => {
    it('declares the credential schemes of docs/api.md', () => {
      const schemes = document.components.securitySchemes;
      expect(schemes['operatorToken']).to.deep.include({ type: 'http', scheme: 'bearer' });
      expect(schemes['appSecret']).to.deep.include({ type: 'http', scheme: 'bearer' });
      expect(schemes['session']).to.deep.include({
        type: 'apiKey',
        in: 'cookie',
        name: 'tidings_session',
      });
    });

    for (const { method, path, auth } of expectedRoutes) {
      it(`${key(method, path)} requires ${auth === 'none' ? 'no credential' : `the ${auth} credential`}`, () => {
        expect(operation(method, path).security).to.deep.equal(securityOf[auth]);
      });
    }

    it('agrees with the server: operations with a security requirement answer 401 without credentials, the others do not', async () => {
      for (const { method, path, operation: op } of operations) {
        const concrete = path.replace(/\{[^}]+\}/g, 'x');
        const reply = await call(server.base, method.toUpperCase(), concrete);
        if (op.security.length > 0) {
          expect(reply.status, key(method, path)).to.equal(401);
        } else {
          expect(reply.status, key(method, path)).not.to.equal(401);
        }
      }
    });
  });

  describe('error answers', () => {
    for (const { method, path, statuses } of expectedRoutes) {
      it(`${key(method, path)} documents ${[...statuses, 500].join(', ')} as problem+json`, () => {
        const responses = operation(method, path).responses;
        for (const status of [...statuses, 500]) {
          const answer = responses[String(status)];
          expect(answer, `${key(method, path)} does not document ${status}`).not.to.equal(
            undefined,
          );
          expect(answer?.content?.['application/problem+json']?.schema).to.deep.equal({
            $ref: '#/components/schemas/Problem',
          });
        }
      });
    }

    for (const { method, path, codes } of expectedCodes) {
      it(`${key(method, path)} names the codes ${codes.join(', ')} under their statuses`, () => {
        const responses = operation(method, path).responses;
        const named = new Map<string, number>();
        for (const [status, answer] of Object.entries(responses)) {
          for (const [code, example] of Object.entries(
            answer.content?.['application/problem+json']?.examples ?? {},
          )) {
            named.set(code, Number(status));
            expect(example.value.code).to.equal(code);
            expect(example.value.status).to.equal(Number(status));
          }
        }
        for (const code of codes) expect([...named.keys()], key(method, path)).to.include(code);
      });
    }

    it('documents Retry-After on the 429 answers', () => {
      for (const path of ['/v1/auth/register', '/v1/auth/login']) {
        expect(operation('post', path).responses['429']?.headers).to.have.property('Retry-After');
      }
    });

    it('defines the Problem schema with the RFC 9457 members and code', () => {
      const problem = document.components.schemas['Problem'];
      expect(problem?.['type']).to.equal('object');
      expect(Object.keys(problem?.['properties'] as object)).to.include.members([
        'type',
        'title',
        'status',
        'detail',
        'code',
        'errors',
      ]);
    });
  });

  describe('request schemas', () => {
    const bodySchema = (method: string, path: string): Record<string, unknown> => {
      const schema = operation(method, path).requestBody?.content['application/json']?.schema;
      if (schema === undefined) return expect.fail(`${key(method, path)} has no JSON request body`);
      return schema;
    };

    it('POST /v1/admin/apps: an object with additionalProperties false and required [name, redirectUris]', () => {
      const schema = bodySchema('post', '/v1/admin/apps');
      expect(schema['type']).to.equal('object');
      expect(schema['additionalProperties']).to.equal(false);
      expect(schema['required']).to.have.members(['name', 'redirectUris']);
      expect(schema['required']).to.have.length(2);
      const properties = schema['properties'] as Record<string, Record<string, unknown>>;
      expect(Object.keys(properties)).to.have.members(['name', 'redirectUris', 'callbackUrl']);
      expect(properties['name']).to.deep.include({ type: 'string', minLength: 1, maxLength: 100 });
      expect(properties['redirectUris']?.['type']).to.equal('array');
      expect(operation('post', '/v1/admin/apps').requestBody?.required).to.equal(true);
    });

    it('every request body of these routes refuses unknown fields (additionalProperties false), as the server does', () => {
      for (const [method, path] of [
        ['post', '/v1/admin/apps'],
        ['post', '/v1/auth/register'],
        ['post', '/v1/auth/login'],
        ['put', '/v1/me/devices/bark'],
        ['post', '/v1/me/authorizations'],
        ['patch', '/v1/me/apps/{bindingId}'],
      ] as const) {
        expect(bodySchema(method, path)['additionalProperties'], key(method, path)).to.equal(false);
      }
      // Routes without a body declare none.
      for (const [method, path] of [
        ['get', '/v1/admin/apps/{appId}'],
        ['post', '/v1/admin/apps/{appId}/secret'],
        ['post', '/v1/auth/logout'],
        ['delete', '/v1/me/apps/{bindingId}'],
      ] as const) {
        expect(operation(method, path).requestBody, key(method, path)).to.equal(undefined);
      }
    });

    it('POST /v1/me/authorizations: decision is allow|deny and level strong|weak', () => {
      const properties = bodySchema('post', '/v1/me/authorizations')['properties'] as Record<
        string,
        Record<string, unknown>
      >;
      expect(properties['decision']?.['enum']).to.have.members(['allow', 'deny']);
      expect(properties['level']?.['enum']).to.have.members(['strong', 'weak']);
      expect(bodySchema('post', '/v1/me/authorizations')['required']).to.have.members([
        'appId',
        'openid',
        'redirectUri',
        'decision',
      ]);
    });

    it('documents path and query parameters as required', () => {
      for (const [method, path, name] of [
        ['get', '/v1/admin/apps/{appId}', 'appId'],
        ['post', '/v1/admin/apps/{appId}/secret', 'appId'],
        ['patch', '/v1/me/apps/{bindingId}', 'bindingId'],
        ['delete', '/v1/me/apps/{bindingId}', 'bindingId'],
      ] as const) {
        const parameter = operation(method, path).parameters?.find((p) => p.name === name);
        expect(parameter, key(method, path)).to.deep.include({ in: 'path', required: true });
        expect(parameter?.schema['type'], key(method, path)).to.equal('string');
      }
      const openid = operation('get', '/v1/bindings').parameters?.find((p) => p.name === 'openid');
      expect(openid).to.deep.include({ in: 'query', required: true });
    });
  });
});

import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { JsonSchema } from '../../../adapters/http/codecs.js';
import {
  buildOpenApiDocument,
  openApiPath,
  operationIdOf,
  problemCodesOf,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../../../adapters/http/openapi.js';
import { problemCatalogue, type ProblemCode } from '../../../adapters/http/problem.js';
import { checkSchema, refsIn, resolvePointer, validate } from '../../support/jsonSchemaCheck.js';
import { AuthorizeBody, MessageBody, routes } from '../../support/openApiSamples.js';

const document: OpenApiDocument = buildOpenApiDocument(routes, {
  title: 'Tidings',
  version: '1.0.0',
  description: 'Notification hub',
  serverUrl: 'https://tidings.example.com',
});

const operation = (
  path: string,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
): OpenApiOperation => {
  const found = document.paths[path]?.[method];
  if (found === undefined) throw new Error(`no ${method} ${path} in the document`);
  return found;
};

const requestSchema = (op: OpenApiOperation): JsonSchema => {
  const schema = op.requestBody?.content['application/json']?.schema;
  if (schema === undefined) throw new Error(`${op.operationId} has no JSON request body`);
  return schema;
};

const statuses = (op: OpenApiOperation): string[] => Object.keys(op.responses);

const problemCodesIn = (op: OpenApiOperation, status: string): string[] =>
  Object.keys(op.responses[status]?.content?.['application/problem+json']?.examples ?? {});

// ---------------------------------------------------------------------------------------------

describe('openapi: buildOpenApiDocument', () => {
  it('is an OpenAPI 3.1.0 document with info, servers and tags', () => {
    expect(document.openapi).to.equal('3.1.0');
    expect(document.info).to.deep.equal({
      title: 'Tidings',
      version: '1.0.0',
      description: 'Notification hub',
    });
    expect(document.servers).to.deep.equal([{ url: 'https://tidings.example.com' }]);
    expect(document.tags).to.deep.equal([
      { name: 'recipient' },
      { name: 'auditor' },
      { name: 'app' },
    ]);
    const bare = buildOpenApiDocument([], { title: 'x', version: '0' });
    expect(bare).not.to.have.property('servers');
    expect(bare.info).to.deep.equal({ title: 'x', version: '0' });
    expect(bare.paths).to.deep.equal({});
  });

  it('templates express paths and derives stable operation ids', () => {
    expect(Object.keys(document.paths)).to.deep.equal([
      '/v1/me/authorizations',
      '/v1/audit/streams/{stream}',
      '/v1/messages',
      '/v1/auth/login',
      '/v1/me/inbox/{messageId}',
    ]);
    expect(openApiPath('/v1/me/apps/:bindingId')).to.equal('/v1/me/apps/{bindingId}');
    expect(operation('/v1/me/authorizations', 'post').operationId).to.equal(
      'post_v1_me_authorizations',
    );
    expect(operation('/v1/audit/streams/{stream}', 'get').operationId).to.equal(
      'get_v1_audit_streams_stream',
    );
    expect(operationIdOf('get', '/')).to.equal('get_root');
    expect(operationIdOf('get', '/openapi.json')).to.equal('get_openapi_json');
    const clash = buildOpenApiDocument(
      [
        { ...routes[4]!, path: '/a-b' },
        { ...routes[4]!, path: '/a_b' },
      ],
      { title: 'x', version: '0' },
    );
    expect([
      clash.paths['/a-b']?.delete?.operationId,
      clash.paths['/a_b']?.delete?.operationId,
    ]).to.deep.equal(['delete_a_b', 'delete_a_b_2']);
  });

  it('copies summary, description and tag', () => {
    const op = operation('/v1/audit/streams/{stream}', 'get');
    expect(op.summary).to.equal('The events of one stream');
    expect(op.description).to.equal('Oldest first.');
    expect(op.tags).to.deep.equal(['auditor']);
    expect(operation('/v1/messages', 'post')).not.to.have.property('description');
  });

  it('documents path parameters from the params codec, or as required strings', () => {
    const stream = operation('/v1/audit/streams/{stream}', 'get').parameters?.find(
      (p) => p.in === 'path',
    );
    expect(stream).to.deep.equal({
      name: 'stream',
      in: 'path',
      required: true,
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    });
    expect(operation('/v1/me/inbox/{messageId}', 'delete').parameters).to.deep.equal([
      { name: 'messageId', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('documents query parameters with their required flags and schemas', () => {
    const query = operation('/v1/audit/streams/{stream}', 'get').parameters?.filter(
      (p) => p.in === 'query',
    );
    expect(query).to.deep.equal([
      {
        name: 'limit',
        in: 'query',
        required: true,
        schema: { type: 'integer', minimum: 1, maximum: 500 },
      },
      {
        name: 'after',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
      { name: 'verbose', in: 'query', required: false, schema: { type: 'boolean' } },
    ]);
  });

  it('documents strict JSON bodies: required list, no other fields, enums and formats', () => {
    const op = operation('/v1/me/authorizations', 'post');
    expect(op.requestBody?.required).to.equal(true);
    const body = requestSchema(op);
    expect(body.type).to.equal('object');
    expect(body.additionalProperties).to.equal(false);
    expect(body.required).to.deep.equal(['appId', 'openid', 'redirectUri', 'decision']);
    expect(body.properties?.['decision']).to.deep.equal({
      type: 'string',
      enum: ['allow', 'deny'],
    });
    expect(body.properties?.['level']).to.deep.equal({ type: 'string', enum: ['strong', 'weak'] });
    expect(body.properties?.['redirectUri']).to.include({ type: 'string', format: 'uri' });
    expect(body.properties?.['state']).to.deep.equal({ type: 'string', maxLength: 512 });

    const message = requestSchema(operation('/v1/messages', 'post'));
    expect(message.properties?.['deliverAt']).to.include({ type: 'string', format: 'date-time' });
    expect(message.properties?.['delaySeconds']).to.deep.equal({ type: 'integer', minimum: 1 });
    expect(message.properties?.['level']?.enum).to.deep.equal([
      'active',
      'timeSensitive',
      'passive',
    ]);
    const login = requestSchema(operation('/v1/auth/login', 'post'));
    expect(login.properties?.['username']).to.deep.equal({
      type: 'string',
      minLength: 3,
      maxLength: 32,
      pattern: '^[a-z0-9_]+$',
    });
  });

  it('documents success answers with and without a JSON body', () => {
    const ok = operation('/v1/me/authorizations', 'post').responses['200'];
    expect(ok?.description).to.equal('Where to send the browser');
    expect(ok?.content?.['application/json']?.schema).to.deep.equal({
      type: 'object',
      properties: {
        redirect: { type: 'string', format: 'uri', description: 'absolute http(s) URL' },
      },
      required: ['redirect'],
    });
    const accepted = operation('/v1/messages', 'post').responses['202'];
    expect(accepted?.content?.['application/json']?.schema.properties?.['status']).to.deep.equal({
      type: 'string',
      enum: ['accepted', 'scheduled', 'suppressed'],
    });
    expect(operation('/v1/me/inbox/{messageId}', 'delete').responses['204']).to.deep.equal({
      description: 'Archived',
    });
    expect(operation('/v1/auth/login', 'post').responses['200']).to.deep.equal({
      description: 'Logged in; the session cookie is set',
    });
    const events = operation('/v1/audit/streams/{stream}', 'get').responses['200']?.content?.[
      'application/json'
    ]?.schema;
    expect(events?.properties?.['next']).to.deep.equal({
      anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }],
    });
    expect(events?.properties?.['items']?.items).to.deep.include({
      required: ['position', 'type', 'data', 'metadata'],
    });
  });

  it('documents one problem answer per error status, listing its codes', () => {
    const authorize = operation('/v1/me/authorizations', 'post');
    expect(statuses(authorize)).to.deep.equal([
      '200',
      '400',
      '401',
      '403',
      '404',
      '408',
      '413',
      '415',
      '431',
      '500',
    ]);
    expect(problemCodesIn(authorize, '400')).to.deep.equal([
      'validation_failed',
      'invalid_json',
      'invalid_redirect_uri',
      'malformed_request',
    ]);
    const badRequest = authorize.responses['400'];
    expect(badRequest?.description).to.contain('`validation_failed`');
    expect(badRequest?.description).to.contain('`invalid_redirect_uri`');
    expect(badRequest?.content?.['application/problem+json']?.schema).to.deep.equal({
      $ref: '#/components/schemas/Problem',
    });
    expect(problemCodesIn(authorize, '401')).to.deep.equal(['unauthorized']);
    expect(problemCodesIn(authorize, '413')).to.deep.equal(['payload_too_large']);
    expect(problemCodesIn(authorize, '500')).to.deep.equal(['internal_error']);

    const send = operation('/v1/messages', 'post');
    expect(statuses(send)).to.deep.equal([
      '202',
      '400',
      '401',
      '403',
      '404',
      '408',
      '409',
      '410',
      '413',
      '415',
      '422',
      '429',
      '431',
      '500',
    ]);
    expect(problemCodesIn(send, '403')).to.deep.equal(['app_suspended', 'app_banned', 'forbidden']);
    expect(problemCodesIn(send, '409')).to.deep.equal(['idempotency_in_flight']);
    expect(problemCodesIn(send, '422')).to.deep.equal(['idempotency_key_reused']);
    expect(send.responses['429']?.headers?.['Retry-After']?.schema).to.deep.equal({
      type: 'integer',
      minimum: 0,
    });
  });

  it('adds validation, CSRF and credential problems only where they apply', () => {
    const login = operation('/v1/auth/login', 'post');
    expect(statuses(login)).to.deep.equal([
      '200',
      '400',
      '403',
      '408',
      '413',
      '415',
      '429',
      '431',
      '500',
    ]);
    expect(problemCodesIn(login, '400')).to.deep.equal([
      'validation_failed',
      'invalid_json',
      'malformed_request',
    ]);
    expect(problemCodesIn(login, '403')).to.deep.equal(['forbidden']);

    const events = operation('/v1/audit/streams/{stream}', 'get');
    expect(statuses(events)).to.deep.equal([
      '200',
      '400',
      '401',
      '404',
      '408',
      '413',
      '415',
      '431',
      '500',
    ]);

    // A path parameter can be malformed percent-encoding even without a params codec.
    const archive = operation('/v1/me/inbox/{messageId}', 'delete');
    expect(problemCodesOf(routes[4]!)).to.deep.equal([
      'validation_failed',
      'invalid_json',
      'malformed_request',
      'unauthorized',
      'forbidden',
      'not_found',
      'request_timeout',
      'payload_too_large',
      'unsupported_media_type',
      'headers_too_large',
      'internal_error',
    ]);
    expect(statuses(archive)).to.include('403');
    const bare = buildOpenApiDocument([{ ...routes[4]!, method: 'get', path: '/plain' }], {
      title: 'x',
      version: '0',
    });
    expect(problemCodesIn(bare.paths['/plain']!.get!, '400')).to.deep.equal([
      'invalid_json',
      'malformed_request',
    ]);
    expect(statuses(bare.paths['/plain']!.get!)).not.to.include('403');
  });

  it('documents on every operation the problems any request can meet before its route runs', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const codes = Object.values(op.responses).flatMap((answer) =>
          Object.keys(answer.content?.['application/problem+json']?.examples ?? {}),
        );
        expect(codes, `${method} ${path}`).to.include.members([
          'malformed_request',
          'request_timeout',
          'headers_too_large',
          'invalid_json',
          'payload_too_large',
          'unsupported_media_type',
          'internal_error',
        ]);
      }
    }
  });

  it('documents a text answer under its media type, as a string', () => {
    const metrics = buildOpenApiDocument(
      [
        {
          method: 'get',
          path: '/metrics',
          tag: 'health',
          summary: 'Metrics',
          auth: 'none',
          responses: { 200: { description: 'Prometheus text', mediaType: 'text/plain' } },
        },
      ],
      { title: 'x', version: '0' },
    );
    expect(metrics.paths['/metrics']?.get?.responses['200']).to.deep.equal({
      description: 'Prometheus text',
      content: { 'text/plain': { schema: { type: 'string' } } },
    });
  });

  it('sets security per route from its auth, with the four schemes declared', () => {
    expect(operation('/v1/me/authorizations', 'post').security).to.deep.equal([{ session: [] }]);
    expect(operation('/v1/audit/streams/{stream}', 'get').security).to.deep.equal([
      { auditToken: [] },
    ]);
    expect(operation('/v1/messages', 'post').security).to.deep.equal([{ appSecret: [] }]);
    expect(operation('/v1/auth/login', 'post').security).to.deep.equal([]);
    const operator = buildOpenApiDocument([{ ...routes[4]!, auth: 'operator' }], {
      title: 'x',
      version: '0',
    });
    expect(operator.paths['/v1/me/inbox/{messageId}']?.delete?.security).to.deep.equal([
      { operatorToken: [] },
    ]);
    const schemes = document.components.securitySchemes;
    expect(Object.keys(schemes).sort()).to.deep.equal([
      'appSecret',
      'auditToken',
      'operatorToken',
      'session',
    ]);
    for (const name of ['operatorToken', 'appSecret', 'auditToken'] as const) {
      expect(schemes[name]).to.include({ type: 'http', scheme: 'bearer' });
    }
    expect(schemes['session']).to.include({
      type: 'apiKey',
      in: 'cookie',
      name: 'tidings_session',
    });
  });

  it('documents the Idempotency-Key header on idempotent routes only', () => {
    const header = operation('/v1/messages', 'post').parameters?.find((p) => p.in === 'header');
    expect(header).to.include({ name: 'Idempotency-Key', required: false });
    expect(header?.schema).to.deep.equal({
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[!-~]+$',
    });
    expect(operation('/v1/me/authorizations', 'post')).not.to.have.property('parameters');
    for (const [path, item] of Object.entries(document.paths)) {
      for (const op of Object.values(item)) {
        if (path === '/v1/messages') continue;
        expect(op.parameters?.some((p) => p.in === 'header') ?? false, path).to.equal(false);
      }
    }
  });

  it('declares the Problem schema with every catalogue code', () => {
    const problemSchema = document.components.schemas['Problem'];
    expect(problemSchema?.required).to.deep.equal(['type', 'title', 'status', 'detail', 'code']);
    expect(problemSchema?.properties?.['code']?.enum).to.deep.equal(Object.keys(problemCatalogue));
    expect(problemSchema?.properties?.['errors']?.items).to.deep.equal({
      $ref: '#/components/schemas/FieldProblem',
    });
  });

  it('refuses two routes with the same method and path', () => {
    expect(() =>
      buildOpenApiDocument([routes[4]!, routes[4]!], { title: 'x', version: '0' }),
    ).to.throw(/two routes declare DELETE \/v1\/me\/inbox\/:messageId/);
  });

  it('serialises to JSON and back unchanged', () => {
    expect(JSON.parse(JSON.stringify(document))).to.deep.equal(document);
  });
});

describe('openapi: the document is internally consistent', () => {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

  it('resolves every $ref', () => {
    const refs = refsIn(document);
    expect(refs.length).to.be.greaterThan(10);
    for (const { at, ref } of refs) {
      expect(resolvePointer(document, ref), `${ref} at ${at}`).not.to.equal(undefined);
    }
  });

  it('has unique operation ids and matching path templates and parameters', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const { path, op } of operations) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(
        declared.map((p) => p.name),
        path,
      ).to.deep.equal(templated);
      expect(declared.every((p) => p.required)).to.equal(true);
      const keys = (op.parameters ?? []).map((p) => `${p.in}:${p.name}`);
      expect(new Set(keys).size, path).to.equal(keys.length);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(status).to.match(/^[1-5]\d\d$/);
        expect(response.description.length, `${path} ${status}`).to.be.greaterThan(0);
      }
      for (const scheme of op.security.flatMap((requirement) => Object.keys(requirement))) {
        expect(document.components.securitySchemes, scheme).to.have.property(scheme);
      }
      expect(document.tags.map((tag) => tag.name)).to.include.members([...op.tags]);
    }
  });

  it('has only well-formed JSON Schemas', () => {
    const schemas: { at: string; schema: unknown }[] = [];
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      schemas.push({ at: `components/${name}`, schema });
    }
    for (const { path, method, op } of operations) {
      for (const p of op.parameters ?? []) {
        schemas.push({ at: `${method} ${path} ${p.in} ${p.name}`, schema: p.schema });
      }
      const body = op.requestBody?.content['application/json']?.schema;
      if (body !== undefined) schemas.push({ at: `${method} ${path} body`, schema: body });
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          schemas.push({ at: `${method} ${path} ${status} ${type}`, schema: media.schema });
        }
      }
    }
    expect(schemas.length).to.be.greaterThan(20);
    for (const { at, schema } of schemas) expect(checkSchema(schema, at)).to.deep.equal([]);
  });

  it('has problem examples that are valid Problems of their status', () => {
    let checked = 0;
    for (const { path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const media = response.content?.['application/problem+json'];
        if (media === undefined) continue;
        for (const [code, example] of Object.entries(media.examples ?? {})) {
          expect(validate(document, media.schema, example.value), `${path} ${code}`).to.deep.equal(
            [],
          );
          expect(String(problemCatalogue[code as ProblemCode].status)).to.equal(status);
          checked += 1;
        }
      }
    }
    expect(checked).to.be.greaterThan(20);
    const bad = { type: 'x', title: 'x', status: 400, detail: 'x', code: 'nope' };
    expect(validate(document, { $ref: '#/components/schemas/Problem' }, bad)).not.to.deep.equal([]);
  });

  it('has body schemas that accept and refuse what the codecs accept and refuse', () => {
    const cases: { codec: t.Mixed; schema: JsonSchema; values: unknown[] }[] = [
      {
        codec: MessageBody,
        schema: requestSchema(operation('/v1/messages', 'post')),
        values: [
          { key: 'k', body: 'b' },
          { key: 'k', body: 'b', title: '🐈'.repeat(256), level: 'passive', delaySeconds: 30 },
          { key: 'k', body: 'b', title: '🐈'.repeat(257) },
          { key: 'k', body: 'b', deliverAt: '2025-01-31T12:00:00Z', url: 'https://example.com/x' },
          { key: 'k', body: 'b', deliverAt: 'tomorrow' },
          { key: 'k', body: 'b', url: 'not a url' },
          { key: 'k', body: 'b', level: 'loud' },
          { key: 'k', body: 'b', delaySeconds: 0 },
          { key: 'k', body: 'b', delaySeconds: 1.5 },
          { key: 'k', body: 'b', titel: 'typo' },
          { key: 'k', body: 'b', title: null },
          { key: '', body: 'b' },
          { body: 'b' },
          [],
          null,
          'text',
        ],
      },
      {
        codec: AuthorizeBody,
        schema: requestSchema(operation('/v1/me/authorizations', 'post')),
        values: [
          { appId: 'a', openid: 'o', redirectUri: 'https://app.example.com/cb', decision: 'allow' },
          {
            appId: 'a',
            openid: 'o',
            redirectUri: 'https://app.example.com/cb',
            decision: 'deny',
            state: 's',
            level: 'weak',
          },
          { appId: 'a', openid: 'o', redirectUri: 'https://app.example.com/cb', decision: 'maybe' },
          { appId: 'a', openid: 'o', redirectUri: 'https://app.example.com/cb' },
          {
            appId: 'a',
            openid: 'o',
            redirectUri: 'https://app.example.com/cb',
            decision: 'allow',
            level: 'none',
          },
        ],
      },
    ];
    let compared = 0;
    for (const { codec, schema, values } of cases) {
      for (const value of values) {
        const byCodec = E.isRight(codec.decode(value));
        const bySchema = validate(document, schema, value).length === 0;
        expect(bySchema, `${codec.name} ${JSON.stringify(value)}`).to.equal(byCodec);
        compared += 1;
      }
    }
    expect(compared).to.equal(21);
  });
});

import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  boundedString,
  codePointLength,
  queryBoolean,
  queryInt,
  strictObject,
  withSchema,
  type JsonSchema,
} from '../../../adapters/http/codecs.js';
import {
  buildOpenApiDocument,
  openApiPath,
  operationIdOf,
  problemCodesOf,
  toJsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../../../adapters/http/openapi.js';
import { problemCatalogue, type ProblemCode } from '../../../adapters/http/problem.js';
import type { RouteSpec } from '../../../adapters/http/routeSpec.js';
import {
  HttpUrl,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  withOptional,
} from '../../../domain/shared/codecs.js';

// ---------------------------------------------------------------------------------------------
// A small JSON Schema checker (the subset the generator writes), so the tests need no package.

type Json = unknown;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Resolves a local `#/a/b` reference in `root`. */
const resolvePointer = (root: unknown, ref: string): unknown => {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isRecord(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
};

const jsonType = (value: Json): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return 'number';
  return typeof value;
};

const deepEqual = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Validates `value` against `schema` and lists the violations (empty when valid). */
const validate = (root: unknown, schema: JsonSchema | boolean, value: Json, at = ''): string[] => {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed`];
  const errors: string[] = [];
  const fail = (message: string): void => {
    errors.push(`${at || '/'}: ${message}`);
  };
  if (schema.$ref !== undefined) {
    const target = resolvePointer(root, schema.$ref);
    if (target === undefined) return [`${at}: unresolved ${schema.$ref}`];
    errors.push(...validate(root, target as JsonSchema, value, at));
  }
  if (schema.type !== undefined) {
    const types: readonly string[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    const actual = jsonType(value);
    const ok = types.some(
      (type) =>
        type === actual || (type === 'integer' && actual === 'number' && Number.isInteger(value)),
    );
    if (!ok) {
      fail(`expected ${types.join('|')}, got ${actual}`);
      return errors;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((member) => deepEqual(member, value))) {
    fail(`not one of ${JSON.stringify(schema.enum)}`);
  }
  if (Object.hasOwn(schema, 'const') && !deepEqual(schema.const, value)) {
    fail(`not ${JSON.stringify(schema.const)}`);
  }
  if (typeof value === 'string') {
    const length = codePointLength(value);
    if (schema.minLength !== undefined && length < schema.minLength) fail('too short');
    if (schema.maxLength !== undefined && length > schema.maxLength) fail('too long');
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      fail('pattern');
    }
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) fail('not a date-time');
    if (schema.format === 'uri' && !URL.canParse(value)) fail('not a uri');
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail('below minimum');
    if (schema.maximum !== undefined && value > schema.maximum) fail('above maximum');
  }
  if (Array.isArray(value)) {
    const prefix = schema.prefixItems ?? [];
    value.forEach((item: Json, index) => {
      const itemSchema = prefix[index] ?? schema.items;
      if (itemSchema !== undefined) {
        errors.push(...validate(root, itemSchema, item, `${at}/${index}`));
      }
    });
    if (schema.minItems !== undefined && value.length < schema.minItems) fail('too few items');
    if (schema.maxItems !== undefined && value.length > schema.maxItems) fail('too many items');
  }
  if (isRecord(value)) {
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(value, name)) fail(`missing ${name}`);
    }
    for (const [name, member] of Object.entries(value)) {
      const declared = schema.properties?.[name];
      if (declared !== undefined) {
        errors.push(...validate(root, declared, member, `${at}/${name}`));
      } else if (schema.additionalProperties !== undefined) {
        errors.push(...validate(root, schema.additionalProperties, member, `${at}/${name}`));
      }
      if (schema.propertyNames !== undefined) {
        errors.push(...validate(root, schema.propertyNames, name, `${at}/${name}`));
      }
    }
  }
  if (schema.allOf !== undefined) {
    for (const part of schema.allOf) errors.push(...validate(root, part, value, at));
  }
  if (schema.anyOf !== undefined) {
    if (!schema.anyOf.some((part) => validate(root, part, value, at).length === 0)) {
      fail('matches no member of anyOf');
    }
  }
  if (schema.oneOf !== undefined) {
    const matches = schema.oneOf.filter((part) => validate(root, part, value, at).length === 0);
    if (matches.length !== 1) fail(`matches ${matches.length} members of oneOf`);
  }
  if (schema.not !== undefined && validate(root, schema.not, value, at).length === 0) {
    fail('matches not');
  }
  return errors;
};

const schemaKeywords = new Set([
  '$ref',
  'title',
  'description',
  'type',
  'format',
  'enum',
  'const',
  'default',
  'examples',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
]);
const jsonTypes = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
const counts = ['minLength', 'maxLength', 'minItems', 'maxItems'] as const;

/** Checks that `schema` is a well-formed JSON Schema of the subset above; lists what is not. */
const checkSchema = (schema: unknown, at: string): string[] => {
  if (typeof schema === 'boolean') return [];
  if (!isRecord(schema)) return [`${at}: a schema must be an object or a boolean`];
  const errors: string[] = [];
  const sub = (value: unknown, where: string): void => {
    errors.push(...checkSchema(value, `${at}/${where}`));
  };
  const list = (value: unknown, where: string): void => {
    if (!Array.isArray(value) || value.length === 0) {
      errors.push(`${at}/${where}: must be a non-empty array`);
      return;
    }
    value.forEach((item, index) => {
      sub(item, `${where}/${index}`);
    });
  };
  for (const [key, value] of Object.entries(schema)) {
    if (!schemaKeywords.has(key) && !key.startsWith('x-')) errors.push(`${at}: unknown ${key}`);
    if (key === 'type') {
      const types: unknown[] = Array.isArray(value) ? value : [value];
      if (!types.every((type) => typeof type === 'string' && jsonTypes.has(type))) {
        errors.push(`${at}: bad type ${JSON.stringify(value)}`);
      }
    }
    if (key === 'enum' && (!Array.isArray(value) || value.length === 0)) {
      errors.push(`${at}: enum must be a non-empty array`);
    }
    if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf' || key === 'prefixItems') && value) {
      list(value, key);
    }
    if (key === 'items' || key === 'not' || key === 'additionalProperties') sub(value, key);
    if (key === 'propertyNames') sub(value, key);
    if (key === 'properties') {
      if (!isRecord(value)) errors.push(`${at}: properties must be an object`);
      else for (const [name, member] of Object.entries(value)) sub(member, `properties/${name}`);
    }
    if (key === 'required') {
      const names = Array.isArray(value) ? value : [];
      const properties = isRecord(schema['properties']) ? schema['properties'] : {};
      if (!Array.isArray(value) || new Set(names).size !== names.length) {
        errors.push(`${at}: required must be an array of distinct names`);
      }
      for (const name of names) {
        if (typeof name !== 'string' || !Object.hasOwn(properties, name)) {
          errors.push(`${at}: required ${String(name)} is not a declared property`);
        }
      }
    }
    if (key === 'pattern') {
      try {
        new RegExp(String(value), 'u');
      } catch {
        errors.push(`${at}: pattern is not a valid expression`);
      }
    }
    if ((counts as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        errors.push(`${at}: ${key} must be a non-negative integer`);
      }
    }
  }
  return errors;
};

/** Every `$ref` in `node`, with where it is. */
const refsIn = (node: unknown, at = ''): { at: string; ref: string }[] => {
  if (Array.isArray(node)) return node.flatMap((item, index) => refsIn(item, `${at}/${index}`));
  if (!isRecord(node)) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [{ at, ref: value }]
      : refsIn(value, `${at}/${key}`),
  );
};

// ---------------------------------------------------------------------------------------------
// Sample routes

const Level = t.union([t.literal('strong'), t.literal('weak')]);

const AuthorizeBody = strictObject(
  'AuthorizeBody',
  {
    appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
    openid: boundedString('Openid', { minLength: 1, maxLength: 128 }),
    redirectUri: HttpUrl,
    decision: t.union([t.literal('allow'), t.literal('deny')]),
  },
  { state: boundedString('State', { maxLength: 512 }), level: Level },
);

const MessageBody = strictObject(
  'MessageBody',
  {
    key: boundedString('BindingKey', { minLength: 1 }),
    body: boundedString('Body', { maxLength: 4000 }),
  },
  {
    title: boundedString('Title', { maxLength: 256 }),
    url: HttpUrl,
    level: t.union([t.literal('active'), t.literal('timeSensitive'), t.literal('passive')]),
    deliverAt: IsoTime,
    delaySeconds: PositiveInt,
  },
);

const routes: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/me/authorizations',
    summary: 'Allow or deny an app',
    tag: 'recipient',
    auth: 'recipient',
    body: AuthorizeBody,
    responses: {
      200: { description: 'Where to send the browser', body: t.type({ redirect: HttpUrl }) },
    },
    errors: ['invalid_redirect_uri', 'not_found'],
  },
  {
    method: 'get',
    path: '/v1/audit/streams/:stream',
    summary: 'The events of one stream',
    description: 'Oldest first.',
    tag: 'auditor',
    auth: 'auditor',
    params: strictObject('StreamParams', {
      stream: boundedString('Stream', { minLength: 1, maxLength: 200 }),
    }),
    query: strictObject(
      'StreamQuery',
      { limit: queryInt('Limit', { min: 1, max: 500 }) },
      {
        after: queryInt('After', { min: 0, max: Number.MAX_SAFE_INTEGER }),
        verbose: queryBoolean('Verbose'),
      },
    ),
    responses: {
      200: {
        description: 'The events',
        body: t.type({
          items: t.array(
            t.type({
              position: NonNegativeInt,
              type: t.string,
              data: t.UnknownRecord,
              metadata: withOptional({ occurredAt: IsoTime }, { causationId: t.string }),
            }),
          ),
          next: t.union([NonNegativeInt, t.null]),
        }),
      },
    },
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/v1/messages',
    summary: 'Send a message',
    tag: 'app',
    auth: 'app',
    body: MessageBody,
    idempotent: true,
    responses: {
      202: {
        description: 'Accepted',
        body: t.type({
          messageId: t.string,
          status: t.keyof({ accepted: null, scheduled: null, suppressed: null }),
        }),
      },
    },
    errors: ['app_suspended', 'app_banned', 'binding_revoked', 'rate_limited', 'not_found'],
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    summary: 'Log in',
    tag: 'recipient',
    auth: 'none',
    body: strictObject('Credentials', {
      username: boundedString('Username', { minLength: 3, maxLength: 32, pattern: /^[a-z0-9_]+$/ }),
      password: boundedString('Password', { minLength: 8, maxLength: 200 }),
    }),
    responses: { 200: { description: 'Logged in; the session cookie is set' } },
    errors: ['rate_limited'],
  },
  {
    method: 'delete',
    path: '/v1/me/inbox/:messageId',
    summary: 'Archive a message',
    tag: 'recipient',
    auth: 'recipient',
    responses: { 204: { description: 'Archived' } },
    errors: ['not_found'],
  },
];

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

describe('openapi: toJsonSchema', () => {
  it('maps the primitive codecs', () => {
    expect(toJsonSchema(t.string)).to.deep.equal({ type: 'string' });
    expect(toJsonSchema(t.number)).to.deep.equal({ type: 'number' });
    expect(toJsonSchema(t.boolean)).to.deep.equal({ type: 'boolean' });
    expect(toJsonSchema(t.null)).to.deep.equal({ type: 'null' });
    expect(toJsonSchema(t.unknown)).to.deep.equal({});
    expect(toJsonSchema(t.UnknownRecord)).to.deep.equal({ type: 'object' });
  });

  it('maps literals, keyof and unions of literals to const and enum', () => {
    expect(toJsonSchema(t.literal('allow'))).to.deep.equal({ type: 'string', const: 'allow' });
    expect(toJsonSchema(t.literal(3))).to.deep.equal({ type: 'number', const: 3 });
    expect(toJsonSchema(t.keyof({ open: null, upheld: null }))).to.deep.equal({
      type: 'string',
      enum: ['open', 'upheld'],
    });
    expect(toJsonSchema(Level)).to.deep.equal({ type: 'string', enum: ['strong', 'weak'] });
    expect(toJsonSchema(t.union([Level, t.literal('none'), t.null]))).to.deep.equal({
      enum: ['strong', 'weak', 'none', null],
    });
    expect(toJsonSchema(t.union([t.string, t.undefined]))).to.deep.equal({ type: 'string' });
  });

  it('maps other unions to anyOf', () => {
    expect(toJsonSchema(t.union([IsoTime, t.null]))).to.deep.equal({
      anyOf: [
        {
          type: 'string',
          format: 'date-time',
          description: 'ISO 8601 time in UTC, e.g. 2025-01-31T12:00:00Z',
        },
        { type: 'null' },
      ],
    });
  });

  it('maps objects: type, partial, exact, and strict objects with additionalProperties false', () => {
    expect(
      toJsonSchema(t.type({ a: t.string, b: t.union([t.number, t.undefined]) })),
    ).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    });
    expect(toJsonSchema(t.partial({ a: t.string }))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'string' } },
    });
    expect(toJsonSchema(t.exact(t.type({ a: t.boolean })))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'boolean' } },
      required: ['a'],
    });
    expect(toJsonSchema(t.strict({ a: t.boolean }))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'boolean' } },
      required: ['a'],
    });
    expect(toJsonSchema(strictObject('S', { a: PositiveInt }, { b: t.string }))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'integer', minimum: 1 }, b: { type: 'string' } },
      required: ['a'],
      additionalProperties: false,
    });
    expect(toJsonSchema(strictObject('Empty', {}))).to.deep.equal({
      type: 'object',
      properties: {},
      additionalProperties: false,
    });
  });

  it('merges intersections of plain objects and keeps allOf otherwise', () => {
    expect(toJsonSchema(withOptional({ a: t.string }, { b: t.number }))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    });
    const strict = strictObject('S', { a: t.string });
    expect(toJsonSchema(t.intersection([strict, t.type({ b: t.string })]))).to.deep.equal({
      allOf: [
        {
          type: 'object',
          properties: { a: { type: 'string' } },
          required: ['a'],
          additionalProperties: false,
        },
        { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] },
      ],
    });
  });

  it('maps arrays, read-only arrays, tuples and records', () => {
    expect(toJsonSchema(t.array(t.string))).to.deep.equal({
      type: 'array',
      items: { type: 'string' },
    });
    expect(toJsonSchema(t.readonlyArray(HttpUrl))).to.deep.equal({
      type: 'array',
      items: { type: 'string', format: 'uri', description: 'absolute http(s) URL' },
    });
    expect(toJsonSchema(t.tuple([t.string, t.number]))).to.deep.equal({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
      minItems: 2,
      maxItems: 2,
      items: false,
    });
    expect(toJsonSchema(t.record(t.string, t.number))).to.deep.equal({
      type: 'object',
      additionalProperties: { type: 'number' },
    });
    expect(toJsonSchema(t.record(t.keyof({ a: null, b: null }), t.number))).to.deep.equal({
      type: 'object',
      propertyNames: { type: 'string', enum: ['a', 'b'] },
      additionalProperties: { type: 'number' },
    });
    expect(toJsonSchema(t.readonly(t.type({ a: t.string })))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
    });
  });

  it('maps refinements and brands to the underlying schema with their name', () => {
    const Even = t.refinement(t.number, (n) => n % 2 === 0, 'Even');
    expect(toJsonSchema(Even)).to.deep.equal({ type: 'number', description: 'Even' });
    interface NonEmptyBrand {
      readonly NonEmpty: unique symbol;
    }
    const NonEmpty = t.brand(
      t.string,
      (s): s is t.Branded<string, NonEmptyBrand> => s.length > 0,
      'NonEmpty',
    );
    expect(toJsonSchema(NonEmpty)).to.deep.equal({ type: 'string', description: 'NonEmpty' });
    expect(toJsonSchema(t.Int)).to.deep.equal({ type: 'integer' });
  });

  it('prefers an attached schema, and never throws on what it cannot read', () => {
    const Custom = new t.Type<string>('Custom', t.string.is, t.string.validate, t.identity);
    expect(toJsonSchema(Custom)).to.deep.equal({ description: 'Custom' });
    const Annotated = withSchema(
      new t.Type<string>('Colour', t.string.is, t.string.validate, t.identity),
      { type: 'string', pattern: '^#[0-9a-f]{6}$' },
    );
    expect(toJsonSchema(t.type({ c: Annotated }))).to.deep.equal({
      type: 'object',
      properties: { c: { type: 'string', pattern: '^#[0-9a-f]{6}$' } },
      required: ['c'],
    });
    interface Tree {
      readonly children: readonly Tree[];
    }
    const Tree: t.Type<Tree> = t.recursion('Tree', () =>
      t.type({ children: t.readonlyArray(Tree) }),
    );
    expect(() => toJsonSchema(Tree)).not.to.throw();
    expect(toJsonSchema(t.bigint)).to.deep.equal({ description: 'bigint' });
    expect(toJsonSchema(t.undefined)).to.deep.equal({ description: 'undefined' });
  });

  it('writes well-formed schemas for every codec above', () => {
    for (const codec of [AuthorizeBody, MessageBody, Level, t.union([IsoTime, t.null])]) {
      expect(checkSchema(toJsonSchema(codec), codec.name)).to.deep.equal([]);
    }
  });
});

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
    expect(statuses(authorize)).to.deep.equal(['200', '400', '401', '404', '413', '415', '500']);
    expect(problemCodesIn(authorize, '400')).to.deep.equal([
      'validation_failed',
      'invalid_json',
      'invalid_redirect_uri',
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
      '409',
      '410',
      '413',
      '415',
      '422',
      '429',
      '500',
    ]);
    expect(problemCodesIn(send, '403')).to.deep.equal(['app_suspended', 'app_banned']);
    expect(problemCodesIn(send, '409')).to.deep.equal(['idempotency_in_flight']);
    expect(problemCodesIn(send, '422')).to.deep.equal(['idempotency_key_reused']);
    expect(send.responses['429']?.headers?.['Retry-After']?.schema).to.deep.equal({
      type: 'integer',
      minimum: 0,
    });
  });

  it('adds validation, body and credential problems only where they apply', () => {
    const login = operation('/v1/auth/login', 'post');
    expect(statuses(login)).to.deep.equal(['200', '400', '413', '415', '429', '500']);
    expect(problemCodesIn(login, '400')).to.deep.equal(['validation_failed', 'invalid_json']);

    const events = operation('/v1/audit/streams/{stream}', 'get');
    expect(statuses(events)).to.deep.equal(['200', '400', '401', '404', '500']);
    expect(problemCodesIn(events, '400')).to.deep.equal(['validation_failed']);

    const archive = operation('/v1/me/inbox/{messageId}', 'delete');
    expect(statuses(archive)).to.deep.equal(['204', '401', '404', '500']);
    expect(problemCodesOf(routes[4]!)).to.deep.equal([
      'unauthorized',
      'not_found',
      'internal_error',
    ]);
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
    expect(header?.schema).to.deep.equal({ type: 'string', minLength: 1, maxLength: 128 });
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

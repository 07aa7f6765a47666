import type { JsonSchema } from './codecs.js';
import { objectFields, toJsonSchema } from './jsonSchema.js';
import { problem, problemCatalogue, type ProblemCode } from './problem.js';
import type { HttpMethod, RouteAuth, RouteSpec } from './routeSpec.js';

/**
 * The OpenAPI 3.1 document of the API, generated from the route declarations: the codecs that
 * validate requests are the ones documented here (through jsonSchema.ts), so the two cannot drift
 * apart (docs/api.md: "Serve it as OpenAPI 3.1 at `GET /openapi.json`, generated from the same
 * codecs that validate requests").
 */

/** The parts of an OpenAPI 3.1 document this generator writes (loosely typed past the top). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description?: string;
  };
  readonly servers?: readonly { readonly url: string }[];
  readonly tags: readonly { readonly name: string }[];
  readonly paths: Readonly<Record<string, Readonly<Partial<Record<HttpMethod, OpenApiOperation>>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly securitySchemes: Readonly<Record<string, OpenApiSecurityScheme>>;
  };
}

/** A path, query or header parameter of an operation. */
export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

/** A body of one content type, with named examples. */
export interface OpenApiMediaType {
  readonly schema: JsonSchema;
  readonly examples?: Readonly<
    Record<string, { readonly summary: string; readonly value: unknown }>
  >;
}

/** One answer of an operation: success or problem. */
export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<
    Record<string, { readonly description: string; readonly schema: JsonSchema }>
  >;
  readonly content?: Readonly<Record<string, OpenApiMediaType>>;
}

/** One method on one path. */
export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required: true;
    readonly content: Readonly<Record<string, OpenApiMediaType>>;
  };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
  /** The foreign protocol a route speaks (`RouteSpec.protocol`): its errors are not problems. */
  readonly 'x-tidings-protocol'?: string;
}

/** How a caller proves who it is: a bearer token or the session cookie. */
export type OpenApiSecurityScheme =
  | {
      readonly type: 'http';
      readonly scheme: 'bearer';
      readonly description: string;
    }
  | {
      readonly type: 'apiKey';
      readonly in: 'cookie';
      readonly name: string;
      readonly description: string;
    };

/** What the document says about the API itself, and where it is served. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly serverUrl?: string;
}

/** The security scheme each kind of caller proves itself with (docs/api.md, "Credentials"). */
export const securitySchemeOf: Readonly<Record<Exclude<RouteAuth, 'none'>, string>> = {
  operator: 'operatorToken',
  app: 'appSecret',
  recipient: 'session',
  auditor: 'auditToken',
};

const securitySchemes: Readonly<Record<string, OpenApiSecurityScheme>> = {
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The operator (admin) token: TIDINGS_ADMIN_TOKEN or the generated admin-token file',
  },
  appSecret: {
    type: 'http',
    scheme: 'bearer',
    description: 'The app secret, returned once when the app is created or its secret rotated',
  },
  auditToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The audit token (TIDINGS_AUDIT_TOKEN): read-only routes under /v1/audit',
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'tidings_session',
    description: 'The session cookie set by /v1/auth/register or /v1/auth/login',
  },
};

const problemCodes = Object.keys(problemCatalogue) as ProblemCode[];

const componentSchemas: Readonly<Record<string, JsonSchema>> = {
  Problem: {
    type: 'object',
    description: 'An RFC 9457 problem document; `code` is stable, match on it',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      code: { type: 'string', enum: problemCodes },
      errors: {
        type: 'array',
        description: 'The field problems of a validation failure',
        items: { $ref: '#/components/schemas/FieldProblem' },
      },
    },
  },
  FieldProblem: {
    type: 'object',
    required: ['path', 'message'],
    properties: {
      path: { type: 'string', description: 'JSON pointer to the field, e.g. /messages/3/title' },
      message: { type: 'string' },
    },
    additionalProperties: false,
  },
};

const problemSchemaRef: JsonSchema = { $ref: '#/components/schemas/Problem' };

/** Express `:param` segments become OpenAPI `{param}` templates. */
const paramPattern = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/** The names of the path parameters of an express-style path, in order. */
export const pathParameterNames = (path: string): string[] =>
  [...path.matchAll(paramPattern)].map((match) => match[1] ?? '');

/** `/v1/me/apps/:bindingId` → `/v1/me/apps/{bindingId}`. */
export const openApiPath = (path: string): string => path.replace(paramPattern, '{$1}');

/** A stable operation id from method and path: `post /v1/me/authorizations` → `post_v1_me_authorizations`. */
export const operationIdOf = (method: HttpMethod, path: string): string => {
  const words = path
    .replace(/:/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0);
  return [method, ...(words.length === 0 ? ['root'] : words)].join('_');
};

/**
 * The problems any request can be answered with before it reaches a route: Node's HTTP parser
 * refuses a malformed request, one whose headers are too large or arrive too slowly; the body
 * limit and the JSON parser run before routing, on every route, so a route without a body
 * answers a broken, oversized or non-UTF-8 one too (rather than read and drop it unchecked).
 */
const edgeCodes: readonly ProblemCode[] = [
  'malformed_request',
  'request_timeout',
  'headers_too_large',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
];

/** The error codes a route can answer with: its own plus those every route of its kind can. */
export const problemCodesOf = (route: RouteSpec): ProblemCode[] => {
  const codes = new Set<ProblemCode>([...(route.errors ?? []), ...edgeCodes]);
  if (route.auth !== 'none') codes.add('unauthorized');
  // The CSRF guard (adapters/web/security.ts) checks every state-changing request.
  if (route.method !== 'get') codes.add('forbidden');
  if (
    route.body !== undefined ||
    route.query !== undefined ||
    route.params !== undefined ||
    pathParameterNames(route.path).length > 0
  ) {
    codes.add('validation_failed');
  }
  if (route.idempotent === true) {
    codes.add('idempotency_key_reused');
    codes.add('idempotency_in_flight');
  }
  codes.add('internal_error');
  // Catalogue order, so the document does not depend on the order a route lists them in.
  return problemCodes.filter((code) => codes.has(code));
};

/** The problems a route of a foreign protocol can answer: the parser's and the body limit's. */
const foreignEdgeCodes: readonly ProblemCode[] = [
  'malformed_request',
  'request_timeout',
  'payload_too_large',
  'headers_too_large',
];

const problemResponses = (
  route: RouteSpec,
  codesOf: readonly ProblemCode[] = problemCodesOf(route),
): Record<string, OpenApiResponse> => {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codesOf) {
    const status = problemCatalogue[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const list = codes.map((code) => `\`${code}\` (${problemCatalogue[code].title})`).join(', ');
    responses[String(status)] = {
      description: `${codes.length === 1 ? 'Problem' : 'Problems'}: ${list}`,
      ...(codes.includes('rate_limited')
        ? {
            headers: {
              'Retry-After': {
                description: 'Seconds to wait before trying again',
                schema: { type: 'integer', minimum: 0 },
              },
            },
          }
        : {}),
      content: {
        'application/problem+json': {
          schema: problemSchemaRef,
          examples: Object.fromEntries(
            codes.map((code) => [
              code,
              {
                summary: problemCatalogue[code].title,
                value: problem(code, problemCatalogue[code].title),
              },
            ]),
          ),
        },
      },
    };
  }
  return responses;
};

const parametersOf = (route: RouteSpec): OpenApiParameter[] => {
  const parameters: OpenApiParameter[] = [];
  const describeSchema = (schema: JsonSchema): { description?: string } =>
    schema.description === undefined ? {} : { description: schema.description };

  const paramFields = route.params === undefined ? undefined : objectFields(route.params);
  for (const name of pathParameterNames(route.path)) {
    const field = paramFields?.find((candidate) => candidate.name === name);
    const schema: JsonSchema = field === undefined ? { type: 'string' } : toJsonSchema(field.codec);
    parameters.push({ name, in: 'path', required: true, ...describeSchema(schema), schema });
  }

  const queryFields = route.query === undefined ? undefined : objectFields(route.query);
  for (const field of queryFields ?? []) {
    const schema = toJsonSchema(field.codec);
    parameters.push({
      name: field.name,
      in: 'query',
      required: field.required,
      ...describeSchema(schema),
      schema,
    });
  }

  if (route.idempotent === true) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        '1 to 128 visible ASCII characters. Repeating a request with the same key and body within 24 h returns the first answer and writes nothing new; the same key with another body is 422 idempotency_key_reused',
      schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[!-~]+$' },
    });
  }
  return parameters;
};

const operationOf = (route: RouteSpec, operationId: string): OpenApiOperation => {
  const parameters: OpenApiParameter[] = parametersOf(route);
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    responses[status] = {
      description: answer.description,
      ...(answer.body !== undefined
        ? { content: { 'application/json': { schema: toJsonSchema(answer.body) } } }
        : answer.mediaType !== undefined
          ? { content: { [answer.mediaType]: { schema: { type: 'string' } } } }
          : {}),
    };
  }
  const { protocol } = route;
  if (protocol === undefined) {
    for (const [status, answer] of Object.entries(problemResponses(route))) {
      // A declared answer of the same status (unusual) is the route's own word on it.
      responses[status] ??= answer;
    }
  } else {
    for (const status of protocol.errors.statuses) {
      responses[String(status)] ??= {
        description: `Refused, answered as ${protocol.name} answers`,
        content: { 'application/json': { schema: toJsonSchema(protocol.errors.body) } },
      };
    }
    // What the HTTP parser and the body limit refuse before any route is a problem here too.
    const before = problemResponses({ ...route, errors: [] }, foreignEdgeCodes);
    for (const [status, answer] of Object.entries(before)) {
      const own = responses[status];
      responses[status] =
        own === undefined ? answer : { ...own, content: { ...own.content, ...answer.content } };
    }
    for (const [name, description] of Object.entries(protocol.headers ?? {})) {
      parameters.push({
        name,
        in: 'header',
        required: false,
        description,
        schema: { type: 'string' },
      });
    }
  }
  const requestBody =
    protocol?.requestBodies !== undefined
      ? {
          requestBody: {
            required: true as const,
            content: Object.fromEntries(
              Object.entries(protocol.requestBodies).map(([type, schema]) => [type, { schema }]),
            ),
          },
        }
      : route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true as const,
              content: { 'application/json': { schema: toJsonSchema(route.body) } },
            },
          };
  return {
    operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    security: route.auth === 'none' ? [] : [{ [securitySchemeOf[route.auth]]: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...requestBody,
    responses,
    ...(protocol === undefined ? {} : { 'x-tidings-protocol': protocol.name }),
  };
};

/**
 * The OpenAPI 3.1.0 document of `routes`: paths with their parameters, request bodies, success
 * answers and the problem answers each route can give, security per route from its `auth`, and
 * the shared `Problem` schema. Throws if two routes share a method and path (a declaration bug).
 */
export const buildOpenApiDocument = (
  routes: readonly RouteSpec[],
  info: OpenApiInfo,
): OpenApiDocument => {
  const paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>> = {};
  const usedIds = new Set<string>();
  const tags: string[] = [];
  for (const route of routes) {
    const path = openApiPath(route.path);
    const item = (paths[path] ??= {});
    if (item[route.method] !== undefined) {
      throw new Error(`two routes declare ${route.method.toUpperCase()} ${route.path}`);
    }
    const base = operationIdOf(route.method, route.path);
    let operationId = base;
    for (let n = 2; usedIds.has(operationId); n += 1) operationId = `${base}_${n}`;
    usedIds.add(operationId);
    if (!tags.includes(route.tag)) tags.push(route.tag);
    item[route.method] = operationOf(route, operationId);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description === undefined ? {} : { description: info.description }),
    },
    ...(info.serverUrl === undefined ? {} : { servers: [{ url: info.serverUrl }] }),
    tags: tags.map((name) => ({ name })),
    paths,
    components: { schemas: componentSchemas, securitySchemes },
  };
};

/**
 * What the fuzzer reads from a served OpenAPI 3.1 document: its operations (every path and
 * method), the schemas of their parameters and bodies, the statuses and problem codes each one
 * documents, and the security schemes. It is read from `/openapi.json` at run time, never
 * hand-listed, so a new route is fuzzed the moment it is documented.
 */

/** A JSON Schema as the document writes it (the subset the fuzzer understands is read loosely). */
export type Schema = Readonly<Record<string, unknown>>;

/** One parameter of an operation. */
export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly schema: Schema;
}

/** How a caller proves itself, as `components.securitySchemes` says. */
export type SecurityScheme =
  | { readonly type: 'http'; readonly scheme: string }
  | { readonly type: 'apiKey'; readonly in: 'header' | 'cookie'; readonly name: string };

/** One documented answer: a status, whether it has a JSON body, and the problem codes under it. */
export interface DocumentedAnswer {
  readonly status: number;
  /** The schema of the `application/json` body, when the answer has one. */
  readonly json?: Schema;
  /** Whether any body is documented at all (of any media type). */
  readonly hasContent: boolean;
  /** The `code`s of the `application/problem+json` examples under this status. */
  readonly problemCodes: ReadonlySet<string>;
  /** Header names the answer documents (lower case), e.g. `retry-after`. */
  readonly headers: ReadonlySet<string>;
}

/** One method on one path. */
export interface Operation {
  /** Lower case, as in the document: `get`, `post`… */
  readonly method: string;
  /** The OpenAPI path template, e.g. `/v1/me/apps/{bindingId}`. */
  readonly path: string;
  readonly operationId: string;
  /** The security scheme names any of which the operation accepts; empty: no credential. */
  readonly security: readonly string[];
  readonly parameters: readonly Parameter[];
  /** The `application/json` request body schema, when the operation takes a body. */
  readonly body?: Schema;
  readonly answers: ReadonlyMap<number, DocumentedAnswer>;
}

/** The parts of the document the fuzzer uses. */
export interface ApiDescription {
  /** The whole document, for `$ref` resolution. */
  readonly root: unknown;
  readonly operations: readonly Operation[];
  /** Every path template with the methods documented on it. */
  readonly methodsByPath: ReadonlyMap<string, readonly string[]>;
  readonly securitySchemes: ReadonlyMap<string, SecurityScheme>;
  /** The catalogue of problem codes (the `Problem` schema's `code` enum). */
  readonly problemCodes: ReadonlySet<string>;
  /** The status each problem code is documented with anywhere in the document. */
  readonly statusOfCode: ReadonlyMap<string, number>;
}

/** The HTTP methods an OpenAPI path item may hold. */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const recordAt = (value: unknown, key: string): Record<string, unknown> => {
  const inner = isRecord(value) ? value[key] : undefined;
  return isRecord(inner) ? inner : {};
};

/** Resolves a local `#/a/b` reference in the document. */
export const resolveRef = (root: unknown, ref: string): unknown => {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isRecord(node) || !Object.hasOwn(node, key)) throw new Error(`unresolvable ${ref}`);
    node = node[key];
  }
  return node;
};

/** A schema with `$ref`s at its top resolved (nested ones are resolved as they are reached). */
export const deref = (root: unknown, schema: unknown): Schema => {
  let node = schema;
  for (let hops = 0; isRecord(node) && typeof node['$ref'] === 'string'; hops += 1) {
    if (hops > 20) throw new Error('a $ref cycle');
    node = resolveRef(root, node['$ref']);
  }
  return isRecord(node) ? node : {};
};

const answerOf = (root: unknown, status: number, raw: unknown): DocumentedAnswer => {
  const answer = deref(root, raw);
  const content = recordAt(answer, 'content');
  const json = content['application/json'];
  const problem = recordAt(content, 'application/problem+json');
  const examples = recordAt(problem, 'examples');
  const codes = new Set<string>();
  for (const example of Object.values(examples)) {
    const value = recordAt(example, 'value');
    if (typeof value['code'] === 'string') codes.add(value['code']);
  }
  return {
    status,
    ...(isRecord(json) ? { json: deref(root, json['schema']) } : {}),
    hasContent: Object.keys(content).length > 0,
    problemCodes: codes,
    headers: new Set(Object.keys(recordAt(answer, 'headers')).map((name) => name.toLowerCase())),
  };
};

const parameterOf = (root: unknown, raw: unknown): Parameter => {
  const parameter = deref(root, raw);
  const where = parameter['in'];
  if (where !== 'path' && where !== 'query' && where !== 'header' && where !== 'cookie') {
    throw new Error(`a parameter in "${String(where)}"`);
  }
  return {
    name: String(parameter['name']),
    in: where,
    required: parameter['required'] === true,
    schema: deref(root, parameter['schema']),
  };
};

const securityOf = (operation: Record<string, unknown>, root: unknown): readonly string[] => {
  const requirements = operation['security'] ?? (isRecord(root) ? root['security'] : undefined);
  if (!Array.isArray(requirements)) return [];
  // An empty requirement ({}) means "no credential needed", so the operation is open.
  if (
    requirements.some(
      (requirement) => isRecord(requirement) && Object.keys(requirement).length === 0,
    )
  ) {
    return [];
  }
  return requirements.flatMap((requirement) =>
    isRecord(requirement) ? Object.keys(requirement) : [],
  );
};

const schemeOf = (name: string, raw: unknown): SecurityScheme => {
  const scheme = isRecord(raw) ? raw : {};
  if (scheme['type'] === 'http' && typeof scheme['scheme'] === 'string') {
    return { type: 'http', scheme: scheme['scheme'] };
  }
  const where = scheme['in'];
  if (
    scheme['type'] === 'apiKey' &&
    typeof scheme['name'] === 'string' &&
    (where === 'header' || where === 'cookie')
  ) {
    return { type: 'apiKey', in: where, name: scheme['name'] };
  }
  throw new Error(`security scheme ${name} is of a kind the fuzzer cannot present`);
};

/**
 * Reads a served OpenAPI 3.1 document. Throws when it holds something the fuzzer cannot fuzz
 * faithfully (a remote `$ref`, a security scheme it cannot present), so such a gap is loud.
 */
export const describeApi = (document: unknown): ApiDescription => {
  const operations: Operation[] = [];
  const methodsByPath = new Map<string, string[]>();
  for (const [path, rawItem] of Object.entries(recordAt(document, 'paths'))) {
    const item = deref(document, rawItem);
    const shared: unknown[] = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isRecord(operation)) continue;
      // An operation of another server's protocol (Tidings's compatible ingress speaks Bark's and
      // ntfy's) answers its errors in that protocol's shape, not as problems: not fuzzed here.
      if ('x-tidings-protocol' in operation) continue;
      methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
      const own: unknown[] = Array.isArray(operation['parameters']) ? operation['parameters'] : [];
      const parameters = [...shared, ...own].map((raw) => parameterOf(document, raw));
      const requestBody = deref(document, operation['requestBody']);
      const body = recordAt(recordAt(requestBody, 'content'), 'application/json');
      const answers = new Map<number, DocumentedAnswer>();
      for (const [status, raw] of Object.entries(recordAt(operation, 'responses'))) {
        if (!/^\d{3}$/.test(status)) throw new Error(`${method} ${path}: answer "${status}"`);
        answers.set(Number(status), answerOf(document, Number(status), raw));
      }
      operations.push({
        method,
        path,
        operationId:
          typeof operation['operationId'] === 'string'
            ? operation['operationId']
            : `${method} ${path}`,
        security: securityOf(operation, document),
        parameters,
        ...('schema' in body ? { body: deref(document, body['schema']) } : {}),
        answers,
      });
    }
  }
  const components = recordAt(document, 'components');
  const securitySchemes = new Map<string, SecurityScheme>(
    Object.entries(recordAt(components, 'securitySchemes')).map(([name, raw]) => [
      name,
      schemeOf(name, raw),
    ]),
  );
  const problemSchema = recordAt(recordAt(components, 'schemas'), 'Problem');
  const codeEnum = recordAt(recordAt(problemSchema, 'properties'), 'code')['enum'];
  if (!Array.isArray(codeEnum))
    throw new Error('the document has no Problem schema with a code enum');
  const statusOfCode = new Map<string, number>();
  for (const operation of operations) {
    for (const answer of operation.answers.values()) {
      for (const code of answer.problemCodes) statusOfCode.set(code, answer.status);
    }
  }
  return {
    root: document,
    operations,
    methodsByPath,
    securitySchemes,
    problemCodes: new Set(codeEnum.map(String)),
    statusOfCode,
  };
};

/** `get /v1/me`: how reports name an operation. */
export const operationName = (operation: Pick<Operation, 'method' | 'path'>): string =>
  `${operation.method.toUpperCase()} ${operation.path}`;

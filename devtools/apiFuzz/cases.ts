import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  JsonObject,
  Known,
  RawJson,
  withSummary,
  type Body,
  type Credential,
  type Family,
  type FuzzCase,
  type JsonTree,
  type KnownScope,
  type ParamValue,
  type PathPart,
} from './fuzzCase.js';
import type { ApiDescription, Operation, Parameter } from './openApiDocument.js';
import {
  badValues,
  deepJson,
  fromJson,
  member,
  propertiesOf,
  validQueryText,
  validValue,
  type ValueContext,
} from './schemaValues.js';
import type { Framing } from './wire.js';

/**
 * The five families of generated requests, each built for every operation of the document:
 *
 * - `credentials`: a valid request with every kind of credential (none, a wrong one, a huge one,
 *   and each scheme's real one) on every route;
 * - `target`: malformed percent-encoding, raw bytes, huge and empty values in every path and
 *   query parameter, and garbage query strings;
 * - `body`: garbage, invalid JSON, deep nesting, huge bodies, empty bodies, wrong content types
 *   and encodings, chunked and malformed framing — on every route, body-less ones too;
 * - `mutation`: a valid request with exactly one thing wrong (a field of the wrong type, too
 *   long, a lone surrogate, NUL, invalid UTF-8, an extra or missing member, a bad header), so
 *   the code behind the validator is reached as well;
 * - `method`: every path with each method it does not document.
 */

/** What the families are built from. */
export interface CaseContext extends ValueContext {
  readonly api: ApiDescription;
  /** Fixture values that replace a name's own on some routes. */
  readonly scopes?: readonly KnownScope[];
}

/** The context for one operation: the fixture values its fields take, scopes applied. */
const scopedTo = (context: CaseContext, operation: Operation): CaseContext => {
  const scopes = (context.scopes ?? []).filter(
    (scope) => operation.path.startsWith(scope.pathPrefix) && context.known.has(scope.from),
  );
  if (scopes.length === 0) return context;
  return {
    ...context,
    known: new Map([...context.known, ...scopes.map((scope) => [scope.name, scope.from] as const)]),
  };
};

const literalParts = (template: string): ({ literal: string } | { param: string })[] =>
  template
    .split(/(\{[^}]+\})/)
    .filter((piece) => piece !== '')
    .map((piece) => (piece.startsWith('{') ? { param: piece.slice(1, -1) } : { literal: piece }));

const paramsIn = (operation: Operation, where: Parameter['in']): readonly Parameter[] =>
  operation.parameters.filter((parameter) => parameter.in === where);

/** The credential the fixture holds for the operation's first scheme, or none for open ones. */
const ownCredential = (operation: Operation): Credential =>
  operation.security[0] === undefined
    ? { kind: 'none' }
    : { kind: 'scheme', scheme: operation.security[0] };

const pathValue = (context: CaseContext, parameter: Parameter): fc.Arbitrary<ParamValue> =>
  validValue(context, parameter.schema, parameter.name).map((tree): ParamValue =>
    tree instanceof Known ? tree : { text: typeof tree === 'string' ? tree : String(tree) },
  );

const queryValue = (context: CaseContext, parameter: Parameter): fc.Arbitrary<ParamValue> =>
  validQueryText(context, parameter.schema, parameter.name).map((tree): ParamValue =>
    tree instanceof Known ? tree : { text: String(tree) },
  );

/** Visible ASCII, the one safe alphabet for a header value on the wire. */
const headerText = (max: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
    minLength: 1,
    maxLength: max,
  });

/**
 * A request the document says is valid: fixture values where the parameter or field is named
 * after one, schema-valid values elsewhere, the operation's own credential.
 */
export const validRequest = (
  caseContext: CaseContext,
  operation: Operation,
  family: Family,
): fc.Arbitrary<FuzzCase> => {
  const context = scopedTo(caseContext, operation);
  const parts = literalParts(operation.path);
  const pathParams = new Map(
    paramsIn(operation, 'path').map((parameter) => [parameter.name, parameter]),
  );
  const path = fc.tuple(
    ...parts.map((part): fc.Arbitrary<PathPart> => {
      if ('literal' in part) return fc.constant(part);
      const parameter = pathParams.get(part.param) ?? {
        name: part.param,
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1 },
      };
      return pathValue(context, parameter).map((value) => ({ param: part.param, value }));
    }),
  );
  const query = fc.tuple(
    ...paramsIn(operation, 'query').map((parameter) =>
      member(queryValue(context, parameter), parameter.required).map((values) =>
        values.map((value) => [parameter.name, value] as const),
      ),
    ),
  );
  const headers = fc.tuple(
    ...paramsIn(operation, 'header').map((parameter) =>
      member(headerText(64), parameter.required).map((values) =>
        values.map((value) => [parameter.name, value] as const),
      ),
    ),
  );
  const body: fc.Arbitrary<Body> =
    operation.body === undefined
      ? fc.constant({ kind: 'none' })
      : validValue(context, operation.body).map((tree) => ({ kind: 'json', tree }));
  return fc
    .record({ path, query, headers, body })
    .map(({ path: chosenPath, query: chosenQuery, headers: chosenHeaders, body: chosenBody }) =>
      withSummary({
        family,
        operation: { method: operation.method, path: operation.path },
        method: operation.method,
        path: chosenPath,
        query: chosenQuery.flat(),
        credential: ownCredential(operation),
        headers: chosenHeaders.flat(),
        body: chosenBody,
        framing: { kind: 'length' },
        mutation: 'valid',
      }),
    );
};

/** A copy of a case with some fields replaced (and its summary for reports). */
const revise = (base: FuzzCase, changes: Partial<FuzzCase>): FuzzCase =>
  withSummary({ ...base, ...changes });

// ── credentials ───────────────────────────────────────────────────────────────────────────────

const garbageToken = fc.oneof(
  fc.constantFrom(
    '',
    'x',
    'null',
    'undefined',
    'Bearer',
    `tds_${'A'.repeat(43)}`,
    `tss_${'A'.repeat(43)}`,
    '%00',
    '..',
    'test-admin-token',
  ),
  headerText(80),
);

/** Every kind of credential: none, each scheme's real one, a wrong one in each scheme's place, a huge one. */
export const credentials = (context: CaseContext): fc.Arbitrary<Credential> => {
  const schemes = [...context.api.securitySchemes.keys()];
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Credential>({ kind: 'none' }) },
    {
      weight: 2 * schemes.length,
      arbitrary: fc
        .constantFrom(...schemes)
        .map((scheme): Credential => ({ kind: 'scheme', scheme })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...schemes), garbageToken)
        .map(([scheme, value]): Credential => ({ kind: 'wrong', scheme, value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 17_000, max: 70_000 })
        .map((bytes): Credential => ({ kind: 'huge', bytes })),
    },
  );
};

const credentialCases = (context: CaseContext): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    ...context.api.operations.map((operation) =>
      fc
        .tuple(validRequest(context, operation, 'credentials'), credentials(context))
        .map(([base, credential]) =>
          revise(base, {
            credential,
            mutation: `credential: ${credential.kind === 'scheme' ? credential.scheme : credential.kind}`,
          }),
        ),
    ),
  );

// ── target: path and query ────────────────────────────────────────────────────────────────────

/** Path or query values that are malformed as percent-encoding or as text. */
export const badParamValue: fc.Arbitrary<{ label: string; value: ParamValue }> = fc.oneof(
  fc.constantFrom(
    ...[
      '%',
      '%zz',
      '%ff',
      '%ED%A0%80',
      '%C0%AF',
      '%00',
      '%2F',
      '%2e%2e',
      '%%',
      '%5',
      '%u0041',
      '%E4%B8',
      '%F0%9F%98',
      '%EF%BF%BD',
      '%0D%0A',
      '%20',
      '..',
      '.',
      '',
    ].map((raw) => ({ label: `the raw segment ${JSON.stringify(raw)}`, value: { raw } })),
  ),
  fc
    .array(
      fc.constantFrom('%', '%zz', '%ff', 'a', '%41', '%ED%A0%80', '%C0%AF', '%e4%b8%ad', '-'),
      { minLength: 1, maxLength: 8 },
    )
    .map((pieces) => ({ label: 'mixed percent-encoding', value: { raw: pieces.join('') } })),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => ({
    label: 'random text (percent-encoded, lone surrogates as their bytes)',
    value: { text },
  })),
  fc
    .integer({ min: 200, max: 20_000 })
    .map((count) => ({ label: `${count} characters`, value: { raw: 'a'.repeat(count) } })),
  fc.constantFrom(
    { label: 'a raw latin1 byte', value: { raw: 'caf\u00e9' } },
    { label: 'raw UTF-8 bytes', value: { raw: Buffer.from('中文', 'utf8').toString('latin1') } },
    { label: 'a raw NUL byte', value: { raw: 'a\u0000b' } },
    { label: 'a raw tab', value: { raw: 'a\tb' } },
  ),
);

const garbageQueries: readonly {
  label: string;
  query: readonly (readonly [string, ParamValue])[];
}[] = [
  { label: 'a bare %', query: [['%', { raw: '' }]] },
  { label: 'a bad escape in a name', query: [['%zz', { raw: '1' }]] },
  { label: 'a bad escape in a value', query: [['a', { raw: '%ff' }]] },
  { label: 'an encoded lone surrogate', query: [['a', { raw: '%ED%A0%80' }]] },
  { label: 'an empty name', query: [['', { raw: 'x' }]] },
  { label: 'a bracket name', query: [['a[b][c]', { raw: '1' }]] },
  { label: 'a __proto__ name', query: [['__proto__[x]', { raw: '1' }]] },
  { label: 'an unknown parameter', query: [['fuzz', { raw: '1' }]] },
  { label: 'a huge query', query: [['q', { raw: 'a'.repeat(20_000) }]] },
  {
    label: 'many parameters',
    query: Array.from({ length: 2000 }, (_, index) => [`p${index}`, { raw: '1' }] as const),
  },
];

const targetCases = (context: CaseContext): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    ...context.api.operations.map((operation) => {
      const pathNames = paramsIn(operation, 'path').map((parameter) => parameter.name);
      const queryParams = paramsIn(operation, 'query');
      const options: fc.Arbitrary<FuzzCase>[] = [
        fc
          .tuple(validRequest(context, operation, 'target'), fc.constantFrom(...garbageQueries))
          .map(([base, garbage]) =>
            revise(base, {
              query: [...base.query, ...garbage.query],
              mutation: `query: ${garbage.label}`,
            }),
          ),
      ];
      if (pathNames.length > 0) {
        options.push(
          fc
            .tuple(
              validRequest(context, operation, 'target'),
              fc.constantFrom(...pathNames),
              badParamValue,
            )
            .map(([base, name, bad]) =>
              revise(base, {
                path: base.path.map((part) =>
                  'param' in part && part.param === name ? { param: name, value: bad.value } : part,
                ),
                mutation: `path parameter ${name}: ${bad.label}`,
              }),
            ),
        );
      }
      if (queryParams.length > 0) {
        const names = queryParams.map((parameter) => parameter.name);
        options.push(
          fc
            .tuple(
              validRequest(context, operation, 'target'),
              fc.constantFrom(...names),
              badParamValue,
            )
            .map(([base, name, bad]) =>
              revise(base, {
                query: [...base.query.filter(([other]) => other !== name), [name, bad.value]],
                mutation: `query parameter ${name}: ${bad.label}`,
              }),
            ),
          fc
            .tuple(
              validRequest(context, operation, 'target'),
              fc.constantFrom(...names),
              fc.constantFrom(
                'abc',
                '-1',
                '0',
                '1.5',
                '1e3',
                '0x10',
                ' 1',
                'TRUE',
                'yes',
                '99999999999999999999',
              ),
            )
            .map(([base, name, text]) =>
              revise(base, {
                query: [...base.query.filter(([other]) => other !== name), [name, { text }]],
                mutation: `query parameter ${name}: the text ${JSON.stringify(text)}`,
              }),
            ),
          fc
            .tuple(validRequest(context, operation, 'target'), fc.constantFrom(...names))
            .map(([base, name]) =>
              revise(base, {
                query: [...base.query, [name, { text: 'a' }], [name, { text: 'b' }]],
                mutation: `query parameter ${name} given twice`,
              }),
            ),
        );
      }
      return fc.oneof(...options);
    }),
  );

// ── body ──────────────────────────────────────────────────────────────────────────────────────

interface BodyVariant {
  readonly label: string;
  readonly body: Body;
  readonly contentType?: string | null;
  readonly headers?: readonly (readonly [string, string])[];
  readonly framing?: Framing;
}

const bytesBody = (label: string, text: string | Buffer): Body => ({
  kind: 'bytes',
  label,
  bytes: typeof text === 'string' ? Buffer.from(text) : text,
});

const invalidJsonTexts = [
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  '[1,]',
  "{'a':1}",
  'nul',
  'tru',
  '{"a":1}{"b":2}',
  '// comment\n{}',
  '{"a":"\u0000"}',
  '"unterminated',
  '{"a":1e}',
  '\ufeff{}',
  ' ',
  '\n',
  '{"a":"\\ud800"}',
  '{"a":"\\u00"}',
];

const wrongContentTypes: readonly (string | null)[] = [
  null,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=UTF-8',
  'application/json; charset="utf-8"',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/problem+json',
  'json',
  ';;',
  'application/json, text/plain',
  '*/*',
];

/** Bodies that are not what any route takes, framed in every way, valid and not. */
const bodyVariants = (
  caseContext: CaseContext,
  operation: Operation,
): fc.Arbitrary<BodyVariant> => {
  const context = scopedTo(caseContext, operation);
  const validTree: fc.Arbitrary<JsonTree> =
    operation.body === undefined
      ? fc.constant(new JsonObject([['fuzz', 1]]))
      : validValue(context, operation.body);
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((bytes) => ({
      label: 'random bytes',
      body: bytesBody('random bytes', Buffer.from(bytes)),
    })),
    fc.constantFrom(...invalidJsonTexts).map((text) => ({
      label: `not JSON: ${JSON.stringify(text)}`,
      body: bytesBody('not JSON', text),
    })),
    fc
      .constantFrom('[]', '"x"', '1', 'null', 'true', '[{}]', '{}')
      .map((text) => ({ label: `JSON of another shape: ${text}`, body: bytesBody(text, text) })),
    fc
      .tuple(
        fc.integer({ min: 100, max: 40_000 }),
        fc.constantFrom<'array' | 'object'>('array', 'object'),
      )
      .map(([depth, kind]): BodyVariant => ({
        label: `${depth} levels of nested ${kind}s`,
        body: { kind: 'json', tree: deepJson(depth, kind) },
      })),
    fc.tuple(fc.integer({ min: 70_000, max: 1_200_000 }), fc.boolean()).map(([size, chunked]) => ({
      label: `a ${size}-byte body${chunked ? ', chunked' : ''}`,
      body: bytesBody('huge', `{"x":"${'a'.repeat(size)}"}`),
      framing: chunked
        ? ({ kind: 'chunked', chunkSize: 64 * 1024 } as const)
        : ({ kind: 'length' } as const),
    })),
    fc.constant({ label: 'an empty body (Content-Length: 0)', body: bytesBody('empty', '') }),
    fc
      .tuple(validTree, fc.constantFrom(...wrongContentTypes))
      .map(([tree, contentType]): BodyVariant => ({
        label: `Content-Type ${JSON.stringify(contentType)}`,
        body: { kind: 'json', tree },
        contentType,
      })),
    fc.tuple(validTree, fc.integer({ min: 1, max: 64 })).map(([tree, chunkSize]): BodyVariant => ({
      label: `chunked in ${chunkSize}-byte chunks`,
      body: { kind: 'json', tree },
      framing: { kind: 'chunked', chunkSize },
    })),
    fc.constantFrom<BodyVariant>(
      {
        label: 'UTF-16 JSON',
        body: bytesBody('utf-16', Buffer.from('{"a":"b"}', 'utf16le')),
        contentType: 'application/json; charset=utf-16',
      },
      {
        label: 'Content-Encoding gzip, not gzipped',
        body: bytesBody('not gzip', '{}'),
        headers: [['Content-Encoding', 'gzip']],
      },
      {
        label: 'a gzip bomb (2 MB inflated)',
        body: bytesBody('gzip bomb', gzipSync(`{"x":"${' '.repeat(2_000_000)}"}`)),
        headers: [['Content-Encoding', 'gzip']],
      },
      {
        label: 'Content-Encoding deflate, garbage',
        body: bytesBody('garbage', 'xyz'),
        headers: [['Content-Encoding', 'deflate']],
      },
      {
        label: 'Content-Encoding br',
        body: bytesBody('not br', '{}'),
        headers: [['Content-Encoding', 'br']],
      },
      {
        label: 'Content-Encoding x-unknown',
        body: bytesBody('x', '{}'),
        headers: [['Content-Encoding', 'x-unknown']],
      },
      {
        label: 'Transfer-Encoding and Content-Length together',
        body: bytesBody('te+cl', '2\r\n{}\r\n0\r\n\r\n'),
        headers: [
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', '2'],
        ],
        framing: { kind: 'raw' },
      },
      {
        label: 'a malformed chunk size',
        body: bytesBody('bad chunk', 'zz\r\n{}\r\n0\r\n\r\n'),
        headers: [['Transfer-Encoding', 'chunked']],
        framing: { kind: 'raw' },
      },
      {
        label: 'Transfer-Encoding identity',
        body: bytesBody('identity', '{}'),
        headers: [['Transfer-Encoding', 'identity']],
        framing: { kind: 'raw' },
      },
      {
        label: 'Transfer-Encoding gzip, chunked',
        body: bytesBody('gzip chunked', '2\r\n{}\r\n0\r\n\r\n'),
        headers: [['Transfer-Encoding', 'gzip, chunked']],
        framing: { kind: 'raw' },
      },
      {
        label: 'two different Content-Lengths',
        body: bytesBody('two lengths', '{}'),
        headers: [
          ['Content-Length', '2'],
          ['Content-Length', '3'],
        ],
        framing: { kind: 'raw' },
      },
      {
        label: 'a negative Content-Length',
        body: bytesBody('negative', ''),
        headers: [['Content-Length', '-1']],
        framing: { kind: 'raw' },
      },
      {
        label: 'a Content-Length that is not a number',
        body: bytesBody('nan', ''),
        headers: [['Content-Length', 'abc']],
        framing: { kind: 'raw' },
      },
    ),
  );
};

const bodyCases = (context: CaseContext): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    ...context.api.operations.map((operation) =>
      fc
        .tuple(validRequest(context, operation, 'body'), bodyVariants(context, operation))
        .map(([base, variant]) =>
          revise(base, {
            body: variant.body,
            headers: [...base.headers, ...(variant.headers ?? [])],
            framing: variant.framing ?? { kind: 'length' },
            ...(variant.contentType === undefined ? {} : { contentType: variant.contentType }),
            mutation: `body: ${variant.label}`,
          }),
        ),
    ),
  );

// ── mutation: a valid request with one thing wrong ────────────────────────────────────────────

const membersOf = (tree: JsonTree): readonly (readonly [string, JsonTree])[] =>
  tree instanceof JsonObject ? tree.members : [];

const memberNames = (tree: JsonTree): readonly string[] => membersOf(tree).map(([name]) => name);

const withMember = (tree: JsonTree, name: string, value: JsonTree): JsonTree =>
  tree instanceof JsonObject
    ? new JsonObject(
        memberNames(tree).includes(name)
          ? tree.members.map(([member, old]) => [member, member === name ? value : old])
          : [...tree.members, [name, value]],
      )
    : tree;

const withoutMember = (tree: JsonTree, name: string): JsonTree =>
  tree instanceof JsonObject
    ? new JsonObject(tree.members.filter(([member]) => member !== name))
    : tree;

const memberOf = (tree: JsonTree, name: string): JsonTree | undefined =>
  tree instanceof JsonObject ? tree.members.find(([member]) => member === name)?.[1] : undefined;

const extraNames = [
  'extra',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'a'.repeat(1000),
  '\u0000',
  '\udfff',
];

/**
 * What a browser adds to a request, from another site or from this one (docs/api.md
 * "Credentials": cross-site request forgery).
 */
const browserHeaders: readonly {
  label: string;
  headers: readonly (readonly [string, string])[];
}[] = [
  { label: 'from another site (Origin)', headers: [['Origin', 'https://evil.example']] },
  { label: 'from another site (Sec-Fetch-Site)', headers: [['Sec-Fetch-Site', 'cross-site']] },
  { label: 'from an opaque origin', headers: [['Origin', 'null']] },
  { label: 'same-site, without the CSRF token', headers: [['Sec-Fetch-Site', 'same-origin']] },
  {
    label: 'same-site, with a wrong CSRF token',
    headers: [
      ['Sec-Fetch-Site', 'same-origin'],
      ['Cookie', 'tidings_csrf=a'],
      ['X-CSRF-Token', 'b'],
    ],
  },
];

/** A wrong JSON value as a query value: text as it is, raw JSON bytes percent-encoded one by one. */
const queryTextOf = (tree: JsonTree): ParamValue => {
  if (typeof tree === 'string') return { text: tree };
  if (tree instanceof RawJson) {
    return {
      raw: [...tree.bytes]
        .map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`)
        .join(''),
    };
  }
  if (tree instanceof JsonObject || Array.isArray(tree))
    return { text: JSON.stringify(tree instanceof JsonObject ? {} : []) };
  return { text: String(tree) };
};

/** Every way to make one part of a valid request wrong. */
const mutations = (caseContext: CaseContext, operation: Operation): fc.Arbitrary<FuzzCase>[] => {
  const context = scopedTo(caseContext, operation);
  const base = (): fc.Arbitrary<FuzzCase> => validRequest(context, operation, 'mutation');
  const options: fc.Arbitrary<FuzzCase>[] = [base()];
  if (operation.body !== undefined) {
    const properties = propertiesOf(context, operation.body);
    const bodyTree = (fuzzCase: FuzzCase): JsonTree =>
      fuzzCase.body.kind === 'json' ? fuzzCase.body.tree : new JsonObject([]);
    for (const property of properties) {
      options.push(
        fc.tuple(base(), badValues(context, property.schema)).map(([valid, bad]) =>
          revise(valid, {
            body: { kind: 'json', tree: withMember(bodyTree(valid), property.name, bad.tree) },
            mutation: `/${property.name}: ${bad.label}`,
          }),
        ),
        fc
          .tuple(
            base(),
            validValue(context, property.schema, property.name),
            badValues(context, property.schema),
          )
          .map(([valid, first, bad]) =>
            revise(valid, {
              body: {
                kind: 'json',
                tree: new JsonObject([
                  ...membersOf(withoutMember(bodyTree(valid), property.name)),
                  [property.name, first],
                  [property.name, bad.tree],
                ]),
              },
              mutation: `/${property.name} twice, the second ${bad.label}`,
            }),
          ),
      );
      if (property.required) {
        options.push(
          base().map((valid) =>
            revise(valid, {
              body: { kind: 'json', tree: withoutMember(bodyTree(valid), property.name) },
              mutation: `/${property.name} left out`,
            }),
          ),
        );
      }
      const items = property.schema['items'];
      if (items !== undefined) {
        options.push(
          fc.tuple(base(), badValues(context, items)).map(([valid, bad]) => {
            const list = memberOf(bodyTree(valid), property.name);
            const rest = Array.isArray(list) ? (list as readonly JsonTree[]).slice(1) : [];
            return revise(valid, {
              body: {
                kind: 'json',
                tree: withMember(bodyTree(valid), property.name, [bad.tree, ...rest]),
              },
              mutation: `/${property.name}/0: ${bad.label}`,
            });
          }),
        );
      }
      for (const nested of propertiesOf(context, property.schema)) {
        options.push(
          fc
            .tuple(base(), validValue(context, property.schema), badValues(context, nested.schema))
            .map(([valid, inner, bad]) =>
              revise(valid, {
                body: {
                  kind: 'json',
                  tree: withMember(
                    bodyTree(valid),
                    property.name,
                    withMember(inner, nested.name, bad.tree),
                  ),
                },
                mutation: `/${property.name}/${nested.name}: ${bad.label}`,
              }),
            ),
        );
      }
    }
    options.push(
      fc
        .tuple(base(), fc.constantFrom(...extraNames), fc.jsonValue({ maxDepth: 1 }))
        .map(([valid, name, value]) =>
          revise(valid, {
            body: {
              kind: 'json',
              tree: new JsonObject([...membersOf(bodyTree(valid)), [name, fromJson(value)]]),
            },
            mutation: `an extra member ${JSON.stringify(name.slice(0, 20))}`,
          }),
        ),
      fc.tuple(base(), badValues(context, operation.body)).map(([valid, bad]) =>
        revise(valid, {
          body: { kind: 'json', tree: bad.tree },
          mutation: `the whole body: ${bad.label}`,
        }),
      ),
    );
  }
  options.push(
    fc.tuple(base(), fc.constantFrom(...browserHeaders)).map(([valid, browser]) =>
      revise(valid, {
        headers: [...valid.headers, ...browser.headers],
        mutation: `as a browser: ${browser.label}`,
      }),
    ),
  );
  for (const parameter of paramsIn(operation, 'query')) {
    options.push(
      fc.tuple(base(), badValues(context, parameter.schema)).map(([valid, bad]) =>
        revise(valid, {
          query: [
            ...valid.query.filter(([name]) => name !== parameter.name),
            [parameter.name, queryTextOf(bad.tree)],
          ],
          mutation: `query ${parameter.name}: ${bad.label}`,
        }),
      ),
    );
  }
  for (const parameter of paramsIn(operation, 'header')) {
    options.push(
      fc
        .tuple(
          base(),
          fc.constantFrom(
            { label: 'empty', value: '' },
            { label: 'a space inside', value: 'a b' },
            { label: 'a raw latin1 byte', value: 'caf\u00e9' },
            { label: 'raw UTF-8 bytes', value: Buffer.from('键', 'utf8').toString('latin1') },
            { label: '129 characters', value: 'k'.repeat(129) },
            { label: '10,000 characters', value: 'k'.repeat(10_000) },
          ),
        )
        .map(([valid, bad]) =>
          revise(valid, {
            headers: [
              ...valid.headers.filter(([name]) => name !== parameter.name),
              [parameter.name, bad.value],
            ],
            mutation: `header ${parameter.name}: ${bad.label}`,
          }),
        ),
      fc.tuple(base(), headerText(20), headerText(20)).map(([valid, first, second]) =>
        revise(valid, {
          headers: [
            ...valid.headers.filter(([name]) => name !== parameter.name),
            [parameter.name, first],
            [parameter.name, second],
          ],
          mutation: `header ${parameter.name} given twice`,
        }),
      ),
    );
  }
  return options;
};

const mutationCases = (context: CaseContext): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    ...context.api.operations.map((operation) => fc.oneof(...mutations(context, operation))),
  );

// ── method ────────────────────────────────────────────────────────────────────────────────────

/**
 * The methods a path is probed with where it does not document them. OPTIONS is one of them: no
 * operation documents it, so it is 405 with `Allow` like any other. HEAD is not: a GET route
 * answers it, as express does, and its answer has no body to judge.
 */
const PROBED_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'];

const methodCases = (context: CaseContext): fc.Arbitrary<FuzzCase> | undefined => {
  const options: fc.Arbitrary<FuzzCase>[] = [];
  for (const [path, documented] of context.api.methodsByPath) {
    const operation = context.api.operations.find((candidate) => candidate.path === path);
    const wrong = PROBED_METHODS.filter((method) => !documented.includes(method));
    if (operation === undefined || wrong.length === 0) continue;
    options.push(
      fc
        .tuple(validRequest(context, operation, 'method'), fc.constantFrom(...wrong))
        .map(([base, method]) =>
          revise(base, {
            method,
            operation: { method, path },
            mutation: `method ${method.toUpperCase()} (documented: ${documented.map((m) => m.toUpperCase()).join(', ')})`,
          }),
        ),
    );
  }
  return options.length === 0 ? undefined : fc.oneof(...options);
};

/** The arbitraries of every family, from the document. */
export const caseFamilies = (context: CaseContext): ReadonlyMap<Family, fc.Arbitrary<FuzzCase>> => {
  const families = new Map<Family, fc.Arbitrary<FuzzCase>>([
    ['credentials', credentialCases(context)],
    ['target', targetCases(context)],
    ['body', bodyCases(context)],
    ['mutation', mutationCases(context)],
  ]);
  const methods = methodCases(context);
  if (methods !== undefined) families.set('method', methods);
  return families;
};

import fc from 'fast-check';
import { JsonObject, Known, RawJson, type JsonTree } from './fuzzCase.js';
import { deref, type Schema } from './openApiDocument.js';

/**
 * Values from JSON Schemas: valid ones (so a request gets past the validator and reaches the
 * code behind it) and, for one field at a time, wrong ones — the wrong type, empty and huge
 * strings, lone surrogates, NUL, invalid UTF-8, deep nesting, values just past a bound.
 */

/** What value generation needs besides the schema. */
export interface ValueContext {
  /** The whole document, for `$ref`s. */
  readonly root: unknown;
  /**
   * Fields and parameters the fixture holds values for (`appId`, `messageId`, `key`…), each with
   * the name of the fixture's values it takes (mostly its own; `messageId` takes the held message
   * on the moderation routes): such a field is given the fixture's value most of the time, so
   * requests name things that exist.
   */
  readonly known: ReadonlyMap<string, string>;
  /** The time generated `date-time` values lie around (ms since the epoch). */
  readonly now: number;
}

/** A wrong value and what makes it wrong, for the report. */
export interface BadValue {
  readonly label: string;
  readonly tree: JsonTree;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const numberAt = (schema: Schema, key: string): number | undefined =>
  typeof schema[key] === 'number' ? schema[key] : undefined;

/**
 * The key under which `flatten` keeps the patterns of `allOf` members beyond the first (a value
 * must match all of them; JSON Schema has one `pattern` per schema).
 */
const MORE_PATTERNS = 'x-more-patterns';

/** The patterns a flattened schema's string must match. */
const patternsOf = (schema: Schema): readonly string[] => {
  const more = schema[MORE_PATTERNS];
  return [
    ...(typeof schema['pattern'] === 'string' ? [schema['pattern']] : []),
    ...(Array.isArray(more) ? more.filter((p): p is string => typeof p === 'string') : []),
  ];
};

/**
 * The schema's `allOf` members folded into one schema (the tightest bounds win; every member's
 * pattern is kept, the first in `pattern`, the others under MORE_PATTERNS).
 */
export const flatten = (context: ValueContext, raw: unknown): Schema => {
  const schema = deref(context.root, raw);
  const members = Array.isArray(schema['allOf']) ? schema['allOf'] : [];
  if (members.length === 0) return schema;
  let merged: Record<string, unknown> = { ...schema };
  delete merged['allOf'];
  for (const member of members) {
    const part = flatten(context, member);
    const next: Record<string, unknown> = { ...merged, ...part };
    const patterns = [...patternsOf(merged), ...patternsOf(part)];
    if (patterns.length > 0) next['pattern'] = patterns[0];
    next[MORE_PATTERNS] = patterns.slice(1);
    for (const key of ['minLength', 'minimum', 'minItems']) {
      const values = [numberAt(merged, key), numberAt(part, key)].filter((v) => v !== undefined);
      if (values.length > 0) next[key] = Math.max(...values);
    }
    for (const key of ['maxLength', 'maximum', 'maxItems']) {
      const values = [numberAt(merged, key), numberAt(part, key)].filter((v) => v !== undefined);
      if (values.length > 0) next[key] = Math.min(...values);
    }
    merged = next;
  }
  return merged;
};

/** The JSON types a schema admits (all of them when it does not say). */
export const typesOf = (context: ValueContext, raw: unknown): readonly string[] => {
  const schema = flatten(context, raw);
  const alternatives = [schema['anyOf'], schema['oneOf']].find(Array.isArray);
  if (alternatives !== undefined) {
    return [...new Set(alternatives.flatMap((member: unknown) => typesOf(context, member)))];
  }
  if (Array.isArray(schema['enum'])) {
    return [...new Set(schema['enum'].map((value) => (value === null ? 'null' : typeof value)))];
  }
  if (schema['const'] !== undefined) return [typeof schema['const']];
  const type = schema['type'];
  if (typeof type === 'string') return type === 'integer' ? ['integer', 'number'] : [type];
  if (Array.isArray(type)) return type.map(String);
  return ['string', 'number', 'integer', 'boolean', 'null', 'array', 'object'];
};

/** Code points, as JSON Schema counts a string's length. */
export const codePoints = (text: string): number => Array.from(text).length;

/** Plain JSON as a tree (objects keep their member order). */
export const fromJson = (value: unknown): JsonTree => {
  if (Array.isArray(value)) return value.map(fromJson);
  if (isRecord(value))
    return new JsonObject(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  return null;
};

const knownOr = (
  context: ValueContext,
  name: string | undefined,
  otherwise: fc.Arbitrary<JsonTree>,
): fc.Arbitrary<JsonTree> => {
  const values = name === undefined ? undefined : context.known.get(name);
  if (values === undefined) return otherwise;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.nat({ max: 3 }).map((index): JsonTree => new Known(values, index)),
    },
    { weight: 1, arbitrary: otherwise },
  );
};

/**
 * fast-check takes long to build some arbitraries (half a second for a URL or a Unicode-class
 * pattern), and every operation's cases need them again: build each one once.
 */
const built = new Map<string, fc.Arbitrary<string>>();
const once = (key: string, make: () => fc.Arbitrary<string>): fc.Arbitrary<string> => {
  let arbitrary = built.get(key);
  if (arbitrary === undefined) {
    arbitrary = make();
    built.set(key, arbitrary);
  }
  return arbitrary;
};

const validString = (context: ValueContext, schema: Schema): fc.Arbitrary<string> => {
  const min = numberAt(schema, 'minLength') ?? 0;
  const max = numberAt(schema, 'maxLength') ?? 10_000;
  const fits = (text: string): boolean => codePoints(text) >= min && codePoints(text) <= max;
  const format = schema['format'];
  if (format === 'uri') {
    return once('uri', () =>
      fc.webUrl({
        validSchemes: ['https', 'http'],
        withQueryParameters: true,
        withFragments: true,
      }),
    ).filter(fits);
  }
  if (format === 'email') return once('email', () => fc.emailAddress()).filter(fits);
  if (format === 'date-time') {
    const day = 24 * 60 * 60;
    return fc
      .integer({ min: -2 * day, max: 3 * day })
      .map((seconds) => new Date(context.now + seconds * 1000).toISOString().replace('.000Z', 'Z'))
      .filter(fits);
  }
  const [pattern, ...others] = patternsOf(schema);
  if (pattern !== undefined) {
    const alsoMatch = others.map((other) => new RegExp(other, 'u'));
    return once(`pattern ${pattern}`, () => fc.stringMatching(new RegExp(pattern, 'u'))).filter(
      (text) => fits(text) && alsoMatch.every((other) => other.test(text)),
    );
  }
  const cap = Math.max(min, Math.min(max, 40));
  return fc.oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: cap }),
    fc.string({ unit: 'grapheme-composite', minLength: min, maxLength: cap }),
  );
};

/**
 * Values that satisfy `schema`, as far as a schema can say (a registered redirect URI, say, is
 * the fixture's to know: fields named after a fixture value get it). `name` is the field's name.
 */
export const validValue = (
  context: ValueContext,
  raw: unknown,
  name?: string,
  depth = 0,
): fc.Arbitrary<JsonTree> => {
  const schema = flatten(context, raw);
  const alternatives = [schema['anyOf'], schema['oneOf']].find(Array.isArray);
  if (alternatives !== undefined) {
    return knownOr(
      context,
      name,
      fc.oneof(...alternatives.map((member: unknown) => validValue(context, member, name, depth))),
    );
  }
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...schema['enum'].map(fromJson));
  if (schema['const'] !== undefined) return fc.constant(fromJson(schema['const']));
  const type = Array.isArray(schema['type']) ? String(schema['type'][0]) : schema['type'];
  switch (type) {
    case 'string':
      return knownOr(context, name, validString(context, schema));
    case 'integer':
      return fc.integer({
        min: numberAt(schema, 'minimum') ?? -1_000_000,
        max: numberAt(schema, 'maximum') ?? 1_000_000,
      });
    case 'number':
      return fc.double({
        min: numberAt(schema, 'minimum') ?? -1e9,
        max: numberAt(schema, 'maximum') ?? 1e9,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = numberAt(schema, 'minItems') ?? 0;
      const max = Math.max(min, Math.min(numberAt(schema, 'maxItems') ?? 3, 3));
      return fc.array(validValue(context, schema['items'] ?? {}, name, depth + 1), {
        minLength: min,
        maxLength: max,
      });
    }
    case 'object':
      return validObject(context, schema, depth);
    default:
      // `{}`: anything goes.
      return fc.jsonValue({ maxDepth: depth > 2 ? 0 : 2 }).map(fromJson);
  }
};

/** A property of an object schema, with whether it is required. */
export interface Property {
  readonly name: string;
  readonly schema: Schema;
  readonly required: boolean;
}

/**
 * One schema for the values a property takes in the alternatives that have it: their constants
 * as an enum (a `kind` that tells the alternatives apart), else each schema once, as `anyOf`.
 */
const eitherOf = (schemas: readonly Schema[]): Schema => {
  const distinct = [...new Map(schemas.map((schema) => [JSON.stringify(schema), schema])).values()];
  const [only] = distinct;
  if (only !== undefined && distinct.length === 1) return only;
  if (distinct.every((schema) => schema['const'] !== undefined)) {
    return { enum: distinct.map((schema) => schema['const']) };
  }
  return { anyOf: distinct };
};

/**
 * The properties of an object schema, with whether each is required. Those of an `anyOf` or
 * `oneOf` of objects (a body with one alternative per device kind) are every property some
 * alternative has, taking what it takes in any of them, required when every alternative requires
 * it: a wrong value for one of them is wrong in every alternative.
 */
export const propertiesOf = (context: ValueContext, raw: unknown): readonly Property[] => {
  const schema = flatten(context, raw);
  const required = new Set(Array.isArray(schema['required']) ? schema['required'].map(String) : []);
  const properties = isRecord(schema['properties']) ? schema['properties'] : {};
  const own = Object.entries(properties).map(([name, member]) => ({
    name,
    schema: flatten(context, member),
    required: required.has(name),
  }));
  const alternatives = [schema['anyOf'], schema['oneOf']].find(Array.isArray);
  if (alternatives === undefined) return own;
  const each = alternatives.map((alternative: unknown) => propertiesOf(context, alternative));
  const names = [...new Set(each.flatMap((list) => list.map((property) => property.name)))];
  const merged = names
    .filter((name) => !own.some((property) => property.name === name))
    .map((name): Property => {
      const found = each.map((list) => list.find((property) => property.name === name));
      return {
        name,
        schema: eitherOf(
          found.flatMap((property) => (property === undefined ? [] : [property.schema])),
        ),
        required: found.every((property) => property?.required === true),
      };
    });
  return [...own, ...merged];
};

/**
 * A required value, or an optional one present half the time (`freq: 2`; fast-check's default
 * of five in six would send both of two exclusive fields, `key` and `openid`, nearly always).
 */
export const member = <T>(
  arbitrary: fc.Arbitrary<T>,
  required: boolean,
): fc.Arbitrary<readonly T[]> =>
  required
    ? arbitrary.map((value) => [value])
    : fc
        .option(arbitrary, { nil: undefined, freq: 2 })
        .map((value) => (value === undefined ? [] : [value]));

const validObject = (
  context: ValueContext,
  schema: Schema,
  depth: number,
): fc.Arbitrary<JsonTree> => {
  const members = propertiesOf(context, schema).map(({ name, schema: inner, required }) =>
    member(validValue(context, inner, name, depth + 1), required).map((values) =>
      values.map((value) => [name, value] as const),
    ),
  );
  return fc.tuple(...members).map((chosen) => new JsonObject(chosen.flat()));
};

const raw = (label: string, text: string | Buffer): BadValue => ({
  label,
  tree: new RawJson(typeof text === 'string' ? Buffer.from(text) : text, label),
});

/** A JSON string whose bytes are not UTF-8 (a lone byte, an overlong form, a CESU surrogate). */
const invalidUtf8 = (bytes: readonly number[], label: string): BadValue =>
  raw(label, Buffer.concat([Buffer.from('"abc'), Buffer.from(bytes), Buffer.from('def"')]));

/** Deeply nested arrays or objects, `depth` levels. */
export const deepJson = (depth: number, kind: 'array' | 'object'): RawJson =>
  kind === 'array'
    ? new RawJson(Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`), `${depth} nested arrays`)
    : new RawJson(
        Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
        `${depth} nested objects`,
      );

/** A string of `count` copies of one character, built at once (fast-check would go char by char). */
const repeated = (
  chars: readonly string[],
  min: number,
  max: number,
  label: string,
): fc.Arbitrary<BadValue> =>
  fc.tuple(fc.constantFrom(...chars), fc.integer({ min, max })).map(([char, count]) => ({
    label: `${label} (${count} × U+${(char.codePointAt(0) ?? 0).toString(16)})`,
    tree: char.repeat(count),
  }));

const wrongTypes: readonly (BadValue & { type: string })[] = [
  { type: 'integer', label: 'the number 0', tree: 0 },
  { type: 'integer', label: 'the number -1', tree: -1 },
  { type: 'number', label: 'the number 1.5', tree: 1.5 },
  { type: 'number', label: 'the number 1e308', tree: 1e308 },
  { type: 'boolean', label: 'true', tree: true },
  { type: 'boolean', label: 'false', tree: false },
  { type: 'null', label: 'null', tree: null },
  { type: 'array', label: 'an empty array', tree: [] },
  { type: 'array', label: 'an array of a string', tree: ['x'] },
  { type: 'object', label: 'an empty object', tree: new JsonObject([]) },
  { type: 'object', label: 'an object', tree: new JsonObject([['a', 'b']]) },
  { type: 'string', label: 'the string "1"', tree: '1' },
  { type: 'string', label: 'the string "true"', tree: 'true' },
  { type: 'string', label: 'the string "null"', tree: 'null' },
];

const weirdUris = [
  'javascript:alert(1)',
  'file:///etc/passwd',
  'ftp://example.com/',
  'data:text/html,<b>x</b>',
  'http://',
  'https://',
  '//example.com/x',
  'example.com',
  'https://user:secret@example.com/',
  'http://127.0.0.1/',
  'http://[::1]:8080/',
  'http://169.254.169.254/latest/meta-data/',
  'http://0x7f000001/',
  'http://2130706433/',
  'https://example.com:99999/',
  'https://exa mple.com/',
  'https://例え.テスト/パス',
  'https://example.com/%zz',
  `https://example.com/${'a'.repeat(5000)}`,
  'https://example.com/\u0000',
];

const weirdTimes = [
  '2025-13-01T00:00:00Z',
  '2025-02-30T00:00:00Z',
  '2025-01-01',
  '2025-01-01T00:00:00',
  '2025-01-01T00:00:00+08:00',
  '2025-01-01T24:00:00Z',
  '2025-01-01T23:59:60Z',
  '2025-01-01T00:00:00.123456789Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  'now',
  '0',
  '',
];

/**
 * Wrong values for a field of this schema, each with what makes it wrong. Some are merely odd
 * (injection-looking text, a string exactly at its bound in astral characters): the server may
 * take them, but must not fall over.
 */
export const badValues = (context: ValueContext, rawSchema: unknown): fc.Arbitrary<BadValue> => {
  const schema = flatten(context, rawSchema);
  const types = new Set(typesOf(context, schema));
  const options: fc.Arbitrary<BadValue>[] = [];
  const others = wrongTypes.filter((wrong) => !types.has(wrong.type));
  if (others.length > 0)
    options.push(
      fc.constantFrom(
        ...others.map(({ label, tree }) => ({ label: `wrong type: ${label}`, tree })),
      ),
    );
  options.push(
    fc
      .integer({ min: 100, max: 40_000 })
      .chain((depth) =>
        fc.constantFrom<BadValue>(
          { label: `${depth} nested arrays`, tree: deepJson(depth, 'array') },
          { label: `${depth} nested objects`, tree: deepJson(depth, 'object') },
        ),
      ),
  );
  if (types.has('string')) {
    const min = numberAt(schema, 'minLength') ?? 0;
    const max = numberAt(schema, 'maxLength');
    const valid = validString(context, schema);
    const around = (label: string, insert: string): fc.Arbitrary<BadValue> =>
      valid.map((text) => {
        const chars = Array.from(text);
        const at = Math.floor(chars.length / 2);
        return { label, tree: [...chars.slice(0, at), insert, ...chars.slice(at)].join('') };
      });
    options.push(
      fc.constant({ label: 'an empty string', tree: '' }),
      fc.constant({ label: 'spaces only', tree: '   ' }),
      repeated(['a', 'é', '中', '😀', ' '], 100_000, 300_000, 'a huge string'),
      repeated(['a', '中'], 20_000, 21_000, 'a long string under the body limit'),
      around('a lone low surrogate', '\udfff'),
      around('a lone high surrogate', '\ud800'),
      fc.constant({ label: 'a reversed surrogate pair', tree: 'ab\udc00\ud800cd' }),
      around('a NUL character', '\u0000'),
      around('control characters', '\u0001\u001b[31m\u007f'),
      around('a right-to-left override', '\u202e'),
      around('a byte order mark and noncharacters', '\ufeff\ufffe\uffff'),
      around('the replacement character', '\ufffd'),
      fc.constantFrom(
        invalidUtf8([0xff], 'a raw 0xff byte'),
        invalidUtf8([0xc0, 0xaf], 'an overlong UTF-8 "/" (C0 AF)'),
        invalidUtf8([0xed, 0xa0, 0x80], 'a UTF-8-encoded lone surrogate (ED A0 80)'),
        invalidUtf8([0xe4, 0xb8], 'a truncated UTF-8 sequence'),
        invalidUtf8([0x80], 'a lone continuation byte'),
        raw('a bad escape', '"\\x41"'),
        raw('a truncated unicode escape', '"\\u12"'),
      ),
      fc.constantFrom(
        { label: 'odd but valid: markup', tree: '<script>alert(1)</script>' },
        { label: 'odd but valid: SQL', tree: "' OR 1=1 --" },
        { label: 'odd but valid: a path', tree: '../../../../etc/passwd' },
        { label: 'odd but valid: format directives', tree: '%s%n%x${jndi:ldap://x}' },
        { label: 'odd but valid: __proto__', tree: '__proto__' },
      ),
    );
    if (max !== undefined) {
      options.push(
        fc.constant({ label: `one over maxLength ${max}`, tree: 'x'.repeat(max + 1) }),
        fc.constant({
          label: `maxLength ${max} in astral characters (twice as many UTF-16 units)`,
          tree: '😀'.repeat(max),
        }),
        fc.constant({
          label: `one over maxLength ${max} in astral characters`,
          tree: '😀'.repeat(max + 1),
        }),
      );
    }
    if (min > 1)
      options.push(fc.constant({ label: `one under minLength ${min}`, tree: 'x'.repeat(min - 1) }));
    if (Array.isArray(schema['enum'])) {
      const first = String(schema['enum'][0]);
      options.push(
        fc.constantFrom(
          { label: 'an enum value in upper case', tree: first.toUpperCase() },
          { label: 'an enum value with a space', tree: `${first} ` },
          { label: 'not one of the enum', tree: `${first}x` },
        ),
      );
    }
    if (schema['format'] === 'uri')
      options.push(
        fc.constantFrom(
          ...weirdUris.map((tree) => ({ label: `URL ${JSON.stringify(tree.slice(0, 60))}`, tree })),
        ),
      );
    if (schema['format'] === 'date-time')
      options.push(
        fc.constantFrom(
          ...weirdTimes.map((tree) => ({ label: `time ${JSON.stringify(tree)}`, tree })),
        ),
      );
    if (typeof schema['pattern'] === 'string') {
      options.push(
        fc.constantFrom(
          { label: 'outside the pattern', tree: 'a b/c' },
          { label: 'outside the pattern (NUL)', tree: 'abc\u0000' },
        ),
      );
    }
  }
  if (types.has('integer') || types.has('number')) {
    const min = numberAt(schema, 'minimum');
    const max = numberAt(schema, 'maximum');
    options.push(
      fc.constantFrom<BadValue>(
        ...(min === undefined ? [] : [{ label: `one under minimum ${min}`, tree: min - 1 }]),
        ...(max === undefined ? [] : [{ label: `one over maximum ${max}`, tree: max + 1 }]),
        { label: 'a fraction', tree: 1.5 },
        { label: 'negative zero', tree: -0 },
        { label: 'beyond the safe integers', tree: 2 ** 53 + 2 },
        raw('1e999 (Infinity)', '1e999'),
        raw('-1e999 (-Infinity)', '-1e999'),
        raw('NaN (not JSON)', 'NaN'),
        raw('a 5000-digit number', '9'.repeat(5000)),
        raw('a number with a leading zero', '01'),
        raw('a hexadecimal number', '0x10'),
      ),
    );
  }
  if (types.has('object')) {
    options.push(
      fc.constantFrom<BadValue>(
        {
          label: 'an object with __proto__',
          tree: new JsonObject([['__proto__', new JsonObject([['polluted', true]])]]),
        },
        {
          label: 'an object with constructor',
          tree: new JsonObject([['constructor', new JsonObject([['prototype', 1]])]]),
        },
      ),
    );
  }
  if (types.has('array')) {
    options.push(
      fc.integer({ min: 1000, max: 20_000 }).map((count) => ({
        label: `an array of ${count} items`,
        tree: Array.from({ length: count }, () => 'x'),
      })),
      fc.constant({ label: 'an array of nested arrays', tree: [[['x']]] }),
    );
  }
  return fc.oneof(...options);
};

/** Text values for a query parameter of this schema (the wire carries text only). */
export const validQueryText = (
  context: ValueContext,
  raw: unknown,
  name: string,
): fc.Arbitrary<JsonTree> =>
  validValue(context, raw, name).map((tree) =>
    tree instanceof Known || typeof tree === 'string'
      ? tree
      : typeof tree === 'number' || typeof tree === 'boolean'
        ? String(tree)
        : 'x',
  );

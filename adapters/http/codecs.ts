import * as t from 'io-ts';
import { HttpUrl, Int, IsoTime, NonNegativeInt, PositiveInt } from '../../domain/shared/codecs.js';

/**
 * Codecs for the HTTP edge: request bodies, query strings and path parameters. Their failures
 * carry messages meant for API clients (`fieldProblems` in `problem.ts` turns them into
 * `{ path, message }`), and each can carry the JSON Schema that documents it in the OpenAPI
 * document, so what is validated and what is published come from the same declaration.
 */

// ---------------------------------------------------------------------------------------------
// JSON Schema annotations

/** The JSON types of JSON Schema's `type` keyword. */
export type JsonSchemaType =
  'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

/**
 * A JSON Schema (2020-12, the dialect of OpenAPI 3.1), with the keywords the generator writes
 * typed and `x-` extensions allowed.
 */
export interface JsonSchema {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonSchemaType | readonly JsonSchemaType[];
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly items?: JsonSchema | false;
  readonly prefixItems?: readonly JsonSchema[];
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly not?: JsonSchema;
  readonly [extension: `x-${string}`]: unknown;
}

const schemas = new WeakMap<t.Any, JsonSchema>();

/**
 * Attaches the JSON Schema that documents `codec` (the OpenAPI generator prefers it to its own
 * reading of the codec). Returns the same codec, so it can wrap a declaration.
 */
export const withSchema = <C extends t.Any>(codec: C, schema: JsonSchema): C => {
  schemas.set(codec, schema);
  return codec;
};

/** The JSON Schema attached to `codec` with {@link withSchema}, if any. */
export const schemaOf = (codec: t.Any): JsonSchema | undefined => schemas.get(codec);

// The domain's shared value codecs, as the edge publishes them.
withSchema(IsoTime, {
  type: 'string',
  format: 'date-time',
  description: 'ISO 8601 time in UTC, e.g. 2025-01-31T12:00:00Z',
});
withSchema(HttpUrl, { type: 'string', format: 'uri', description: 'absolute http(s) URL' });
withSchema(PositiveInt, { type: 'integer', minimum: 1 });
withSchema(NonNegativeInt, { type: 'integer', minimum: 0 });
withSchema(Int, { type: 'integer' });
withSchema(t.Int, { type: 'integer' });

// ---------------------------------------------------------------------------------------------
// Strict objects

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** The decoded type of a strict object: required fields, plus optional ones that may be absent. */
export type StrictObjectOf<R extends t.Props, O extends t.Props> = {
  [K in keyof R]: t.TypeOf<R[K]>;
} & { [K in keyof O]?: t.TypeOf<O[K]> };

/** The encoded (JSON) type of a strict object. */
export type StrictObjectOutputOf<R extends t.Props, O extends t.Props> = {
  [K in keyof R]: t.OutputOf<R[K]>;
} & { [K in keyof O]?: t.OutputOf<O[K]> };

/**
 * A JSON object with known fields only: see {@link strictObject}. `required` and `optional` are
 * the field codecs, for the schema generator.
 */
export class StrictObjectType<R extends t.Props, O extends t.Props> extends t.Type<
  StrictObjectOf<R, O>,
  StrictObjectOutputOf<R, O>
> {
  readonly _tag = 'StrictObjectType' as const;
  constructor(
    name: string,
    readonly required: R,
    readonly optional: O,
  ) {
    const requiredKeys = Object.keys(required);
    const optionalKeys = Object.keys(optional);
    const known = new Set([...requiredKeys, ...optionalKeys]);
    const overlap = requiredKeys.filter((key) => Object.hasOwn(optional, key));
    if (overlap.length > 0) {
      throw new Error(`strictObject ${name}: ${overlap.join(', ')} both required and optional`);
    }
    const field = (key: string): t.Mixed => {
      const codec = Object.hasOwn(required, key) ? required[key] : optional[key];
      if (codec === undefined) throw new Error(`strictObject ${name}: no codec for ${key}`);
      return codec;
    };

    const is = (u: unknown): u is StrictObjectOf<R, O> =>
      isPlainObject(u) &&
      Object.keys(u).every((key) => known.has(key)) &&
      requiredKeys.every((key) => field(key).is(Object.hasOwn(u, key) ? u[key] : undefined)) &&
      optionalKeys.every((key) => !Object.hasOwn(u, key) || field(key).is(u[key]));

    super(
      name,
      is,
      (u, c) => {
        if (!isPlainObject(u)) {
          return t.failure(
            u,
            c,
            Array.isArray(u) ? 'must be an object, not an array' : 'must be an object',
          );
        }
        const errors: t.ValidationError[] = [];
        const decoded: [string, unknown][] = [];
        // Fields in the declared order, then unknown fields in the order they came.
        for (const key of [...requiredKeys, ...optionalKeys]) {
          const codec = field(key);
          const present = Object.hasOwn(u, key);
          if (!present && !Object.hasOwn(required, key)) continue;
          const value = present ? u[key] : undefined;
          const context = t.appendContext(c, key, codec, value);
          const result = codec.validate(value, context);
          if (result._tag === 'Right') {
            if (present) decoded.push([key, result.right]);
          } else if (!present) {
            errors.push({ value: undefined, context, message: 'is required' });
          } else if (value === undefined) {
            // Only reachable from code, not JSON: an optional field is left out, not undefined.
            errors.push({ value, context, message: 'must not be undefined; leave the field out' });
          } else {
            errors.push(...result.left);
          }
        }
        for (const key of Object.keys(u)) {
          if (known.has(key)) continue;
          const value = u[key];
          errors.push({
            value,
            context: t.appendContext(c, key, t.never, value),
            message: 'is not a known field',
          });
        }
        return errors.length > 0
          ? t.failures(errors)
          : t.success(Object.fromEntries(decoded) as StrictObjectOf<R, O>);
      },
      (a) => {
        const source = a as Readonly<Record<string, unknown>>;
        const encoded: [string, unknown][] = [];
        for (const key of [...requiredKeys, ...optionalKeys]) {
          if (!Object.hasOwn(source, key)) continue;
          encoded.push([key, field(key).encode(source[key])]);
        }
        return Object.fromEntries(encoded) as StrictObjectOutputOf<R, O>;
      },
    );
  }
}

/**
 * A JSON object (not an array, not `null`) whose `required` fields must all be present and valid,
 * whose `optional` fields may be left out (but, when present, must be valid: `null` only where
 * the field's codec allows it), and which has no other field: every unknown field is an error
 * `is not a known field` at its own path (docs/api.md: a typo must not pass silently). All problems
 * are reported at once, each with its path (`/title`, `/messages/2/url`).
 *
 * The static type is `{ required } & { optional? }`: under `exactOptionalPropertyTypes` the
 * optional fields may be absent but never `undefined`, which is also what decoding yields.
 */
/** The props of a strict object without optional fields. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no props: what `t.type({})` has
export type NoProps = {};

export const strictObject = <R extends t.Props, O extends t.Props = NoProps>(
  name: string,
  required: R,
  optional?: O,
): StrictObjectType<R, O> => new StrictObjectType(name, required, optional ?? ({} as O));

// ---------------------------------------------------------------------------------------------
// Strings

export interface BoundedStringOptions {
  /** Least length in characters (Unicode code points). */
  readonly minLength?: number;
  /** Greatest length in characters (Unicode code points: `猫` and `🐈` count one each). */
  readonly maxLength?: number;
  /** A pattern the whole value must match (anchor it); flags other than `u`/`i`/`s`/`m` are dropped. */
  readonly pattern?: RegExp;
  /** JSON Schema `format`, documentation only (e.g. `email`). */
  readonly format?: string;
  /** Documentation, also used in the message when the pattern does not match. */
  readonly description?: string;
}

/** Length in Unicode code points, as JSON Schema's `minLength`/`maxLength` count. */
export const codePointLength = (value: string): number => {
  let length = 0;
  for (const _ of value) length += 1;
  return length;
};

const characters = (n: number): string => (n === 1 ? '1 character' : `${n} characters`);

/**
 * A string with optional length bounds (counted in characters, i.e. code points) and pattern,
 * failing with messages such as `must be at most 256 characters`. Its JSON Schema carries the
 * same bounds.
 */
export const boundedString = (name: string, options: BoundedStringOptions = {}): t.Type<string> => {
  const { minLength, maxLength, format, description } = options;
  // `g` and `y` make `test` stateful; a fresh expression without them keeps checks independent.
  const pattern =
    options.pattern === undefined
      ? undefined
      : new RegExp(options.pattern.source, options.pattern.flags.replace(/[gy]/g, ''));
  const problem = (value: string): string | undefined => {
    const length = codePointLength(value);
    if (minLength !== undefined && length < minLength) {
      return minLength === 1 ? 'must not be empty' : `must be at least ${characters(minLength)}`;
    }
    if (maxLength !== undefined && length > maxLength) {
      return `must be at most ${characters(maxLength)}`;
    }
    if (pattern !== undefined && !pattern.test(value)) {
      return description === undefined
        ? `must match ${pattern.source}`
        : `must match ${pattern.source} (${description})`;
    }
    return undefined;
  };
  const codec = new t.Type<string>(
    name,
    (u): u is string => typeof u === 'string' && problem(u) === undefined,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, 'must be a string');
      const message = problem(u);
      return message === undefined ? t.success(u) : t.failure(u, c, message);
    },
    t.identity,
  );
  return withSchema(codec, {
    type: 'string',
    ...(minLength === undefined ? {} : { minLength }),
    ...(maxLength === undefined ? {} : { maxLength }),
    ...(pattern === undefined ? {} : { pattern: pattern.source }),
    ...(format === undefined ? {} : { format }),
    ...(description === undefined ? {} : { description }),
  });
};

// ---------------------------------------------------------------------------------------------
// Query string values

/** A query value as parsed: repeated parameters arrive as an array. */
const singleQueryValue = (
  u: unknown,
  c: t.Context,
):
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errors: t.Errors } =>
  Array.isArray(u)
    ? { ok: false, errors: [{ value: u, context: c, message: 'must be given once' }] }
    : { ok: true, value: u };

export interface QueryIntOptions {
  readonly min: number;
  readonly max: number;
}

/**
 * A whole number in a query string (`?limit=10`), from `min` to `max` inclusive. The text must be
 * plain decimal digits with an optional minus sign; a number already decoded is accepted too.
 * Encodes back to text.
 */
export const queryInt = (name: string, { min, max }: QueryIntOptions): t.Type<number, string> => {
  const inRange = (n: number): boolean => Number.isSafeInteger(n) && n >= min && n <= max;
  const codec = new t.Type<number, string>(
    name,
    (u): u is number => typeof u === 'number' && inRange(u),
    (u, c) => {
      const single = singleQueryValue(u, c);
      if (!single.ok) return t.failures(single.errors);
      const value = single.value;
      let n: number;
      if (typeof value === 'number') {
        n = value;
      } else if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) {
        n = Number(value);
      } else {
        return t.failure(value, c, 'must be a whole number');
      }
      return wholeNumberIn(n, value, c, { min, max });
    },
    (n) => String(n),
  );
  return withSchema(codec, { type: 'integer', minimum: min, maximum: max });
};

/** `n` (read from `value`) if it is a whole number from `min` to `max`, else why not. */
const wholeNumberIn = (
  n: number,
  value: unknown,
  c: t.Context,
  { min, max }: QueryIntOptions,
): t.Validation<number> => {
  if (!Number.isSafeInteger(n)) return t.failure(value, c, 'must be a whole number');
  if (n < min) return t.failure(value, c, `must be at least ${min}`);
  if (n > max) return t.failure(value, c, `must be at most ${max}`);
  return t.success(n);
};

/**
 * A whole number in a JSON body, from `min` to `max` inclusive, failing with messages such as
 * `must be at most 2592000`; its JSON Schema carries the bounds.
 */
export const boundedInt = (name: string, range: QueryIntOptions): t.Type<number> => {
  const codec = new t.Type<number>(
    name,
    (u): u is number =>
      typeof u === 'number' && Number.isSafeInteger(u) && u >= range.min && u <= range.max,
    (u, c) =>
      typeof u === 'number' ? wholeNumberIn(u, u, c, range) : t.failure(u, c, 'must be a number'),
    t.identity,
  );
  return withSchema(codec, { type: 'integer', minimum: range.min, maximum: range.max });
};

/**
 * A boolean in a query string: exactly `true` or `false` (a boolean already decoded is accepted
 * too). Encodes back to text.
 */
export const queryBoolean = (name: string): t.Type<boolean, string> => {
  const codec = new t.Type<boolean, string>(
    name,
    (u): u is boolean => typeof u === 'boolean',
    (u, c) => {
      const single = singleQueryValue(u, c);
      if (!single.ok) return t.failures(single.errors);
      const value = single.value;
      if (value === true || value === 'true') return t.success(true);
      if (value === false || value === 'false') return t.success(false);
      return t.failure(value, c, 'must be true or false');
    },
    (b) => (b ? 'true' : 'false'),
  );
  return withSchema(codec, { type: 'boolean' });
};

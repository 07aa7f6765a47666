import * as t from 'io-ts';
import { schemaOf, StrictObjectType, type JsonSchema, type JsonSchemaType } from './codecs.js';

/**
 * io-ts codecs → JSON Schema (2020-12, the dialect of OpenAPI 3.1), for the OpenAPI document
 * (openapi.ts): the codecs that validate requests are read here, so what is documented is what
 * is accepted (docs/api.md).
 */

const isObjectSchema = (schema: JsonSchema): boolean =>
  schema.type === 'object' && schema.properties !== undefined;

/** Keywords an object schema may have and still be merged into another by an intersection. */
const mergeableKeys = new Set(['type', 'properties', 'required']);

const literalType = (value: unknown): JsonSchemaType | undefined => {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
};

/** The properties of an object-like codec with whether each is required, if it is one. */
export interface ObjectField {
  readonly name: string;
  readonly codec: t.Mixed;
  readonly required: boolean;
}

/**
 * The fields of `codec` when it decodes an object with declared fields: a strict object, `t.type`,
 * `t.partial`, `t.exact`/`t.strict`, `t.readonly` of one of those, or an intersection of them.
 * `undefined` for anything else.
 */
export const objectFields = (codec: t.Any): readonly ObjectField[] | undefined => {
  if (codec instanceof StrictObjectType) {
    const required = codec.required as t.Props;
    const optional = codec.optional as t.Props;
    return [
      ...Object.entries(required).map(([name, c]) => ({ name, codec: c, required: true })),
      ...Object.entries(optional).map(([name, c]) => ({ name, codec: c, required: false })),
    ];
  }
  if (codec instanceof t.InterfaceType) {
    return Object.entries(codec.props as t.Props).map(([name, c]) => ({
      name,
      codec: c,
      required: !c.is(undefined),
    }));
  }
  if (codec instanceof t.PartialType) {
    return Object.entries(codec.props as t.Props).map(([name, c]) => ({
      name,
      codec: c,
      required: false,
    }));
  }
  if (codec instanceof t.ExactType || codec instanceof t.ReadonlyType) {
    return objectFields(codec.type as t.Any);
  }
  if (codec instanceof t.IntersectionType) {
    const parts = (codec.types as t.Any[]).map(objectFields);
    if (parts.some((part) => part === undefined)) return undefined;
    const byName = new Map<string, ObjectField>();
    for (const part of parts) {
      for (const field of part ?? []) {
        const earlier = byName.get(field.name);
        byName.set(field.name, {
          name: field.name,
          codec: earlier?.codec ?? field.codec,
          required: field.required || (earlier?.required ?? false),
        });
      }
    }
    return [...byName.values()];
  }
  return undefined;
};

const objectSchema = (
  fields: readonly ObjectField[],
  convert: (codec: t.Any) => JsonSchema,
  additionalProperties?: false,
): JsonSchema => {
  const required = fields.filter((field) => field.required).map((field) => field.name);
  return {
    type: 'object',
    properties: Object.fromEntries(fields.map((field) => [field.name, convert(field.codec)])),
    ...(required.length > 0 ? { required } : {}),
    ...(additionalProperties === undefined ? {} : { additionalProperties }),
  };
};

/** Removes members that cannot appear in JSON (`undefined`, `void`) from a union. */
const jsonMembers = (types: readonly t.Any[]): t.Any[] =>
  types.filter((member) => !(member instanceof t.UndefinedType || member instanceof t.VoidType));

/** The values a schema stands for, when it is a constant, `null` or an enum; else `undefined`. */
const constantsOf = (schema: JsonSchema): readonly unknown[] | undefined => {
  if (Object.hasOwn(schema, 'const')) return [schema.const];
  if (schema.type === 'null' && Object.keys(schema).length === 1) return [null];
  return schema.enum;
};

const unionSchema = (
  members: readonly t.Any[],
  convert: (codec: t.Any) => JsonSchema,
): JsonSchema => {
  const schemas = jsonMembers(members).map(convert);
  const [only] = schemas;
  if (only === undefined) return { not: {} };
  if (schemas.length === 1) return only;
  // Literals (and `null`) only: an enum reads better than a list of constants.
  const constants = schemas.map(constantsOf);
  if (constants.every((values) => values !== undefined)) {
    const values = [...new Set(constants.flat())];
    const types = [...new Set(values.map(literalType))];
    const [type] = types;
    return { ...(types.length === 1 && type !== undefined ? { type } : {}), enum: values };
  }
  return { anyOf: schemas };
};

const intersectionSchema = (
  members: readonly t.Any[],
  convert: (codec: t.Any) => JsonSchema,
): JsonSchema => {
  const schemas = members.map(convert);
  const mergeable = schemas.every(
    (schema) =>
      isObjectSchema(schema) && Object.keys(schema).every((key) => mergeableKeys.has(key)),
  );
  if (!mergeable) return { allOf: schemas };
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  for (const schema of schemas) {
    Object.assign(properties, schema.properties);
    for (const name of schema.required ?? []) required.add(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.size > 0 ? { required: [...required] } : {}),
  };
};

const annotate = (schema: JsonSchema, name: string): JsonSchema => ({
  ...schema,
  description: schema.description === undefined ? name : `${schema.description} (${name})`,
});

/**
 * The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of what `codec` accepts. A schema attached with
 * `withSchema` wins; otherwise the codec's structure is read. Codecs it cannot read (custom
 * `t.Type`s without an attached schema, recursive codecs) become `{ description: <name> }`: the
 * generator never throws.
 */
export const toJsonSchema = (codec: t.Any): JsonSchema => convertWith(new Set())(codec);

const convertWith =
  (visiting: Set<t.Any>) =>
  (codec: t.Any): JsonSchema => {
    const attached = schemaOf(codec);
    if (attached !== undefined) return attached;
    if (visiting.has(codec)) return { description: codec.name };
    visiting.add(codec);
    try {
      return convertCodec(codec, convertWith(visiting));
    } finally {
      visiting.delete(codec);
    }
  };

const convertCodec = (codec: t.Any, convert: (codec: t.Any) => JsonSchema): JsonSchema =>
  leafSchema(codec) ?? composedSchema(codec, convert);

/** The schema of a codec that holds no other codec; `undefined` for any other codec. */
const leafSchema = (codec: t.Any): JsonSchema | undefined => {
  if (codec instanceof t.StringType) return { type: 'string' };
  if (codec instanceof t.NumberType) return { type: 'number' };
  if (codec instanceof t.BooleanType) return { type: 'boolean' };
  if (codec instanceof t.NullType) return { type: 'null' };
  if (codec instanceof t.UnknownType || codec instanceof t.AnyType) return {};
  if (codec instanceof t.NeverType) return { not: {} };
  if (codec instanceof t.AnyDictionaryType) {
    return { type: 'object' };
  }
  if (codec instanceof t.AnyArrayType) return { type: 'array' };
  if (codec instanceof t.LiteralType) {
    const value: unknown = codec.value;
    const type = literalType(value);
    return { ...(type === undefined ? {} : { type }), const: value };
  }
  if (codec instanceof t.KeyofType) {
    return { type: 'string', enum: Object.keys(codec.keys as Record<string, unknown>) };
  }
  return undefined;
};

/** The schema of a codec built from others (each converted with `convert`), or of an unknown one. */
const composedSchema = (codec: t.Any, convert: (codec: t.Any) => JsonSchema): JsonSchema => {
  if (codec instanceof t.UnionType) return unionSchema(codec.types as t.Any[], convert);
  if (codec instanceof StrictObjectType) {
    return objectSchema(objectFields(codec) ?? [], convert, false);
  }
  if (codec instanceof t.InterfaceType || codec instanceof t.PartialType) {
    return objectSchema(objectFields(codec) ?? [], convert);
  }
  if (codec instanceof t.IntersectionType) {
    return intersectionSchema(codec.types as t.Any[], convert);
  }
  if (codec instanceof t.ExactType || codec instanceof t.ReadonlyType) {
    return convert(codec.type as t.Any);
  }
  if (codec instanceof t.ArrayType || codec instanceof t.ReadonlyArrayType) {
    return { type: 'array', items: convert(codec.type as t.Any) };
  }
  if (codec instanceof t.TupleType) {
    const items = (codec.types as t.Any[]).map(convert);
    return {
      type: 'array',
      prefixItems: items,
      minItems: items.length,
      maxItems: items.length,
      items: false,
    };
  }
  if (codec instanceof t.DictionaryType) {
    const domain = convert(codec.domain as t.Any);
    const keys = domain.type === 'string' && Object.keys(domain).length === 1 ? {} : domain;
    return {
      type: 'object',
      ...(Object.keys(keys).length === 0 ? {} : { propertyNames: keys }),
      additionalProperties: convert(codec.codomain as t.Any),
    };
  }
  if (codec instanceof t.RefinementType) {
    return annotate(convert(codec.type as t.Any), codec.name);
  }
  return { description: codec.name };
};

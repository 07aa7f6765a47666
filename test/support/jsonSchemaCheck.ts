import { codePointLength, type JsonSchema } from '../../adapters/http/codecs.js';

/**
 * A small JSON Schema checker, for the subset the OpenAPI generator writes
 * (adapters/http/jsonSchema.ts, adapters/http/openapi.ts), so the tests need no package: it
 * validates values against a schema and checks that a schema is well formed.
 */

type Json = unknown;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Resolves a local `#/a/b` reference in `root`. */
export const resolvePointer = (root: unknown, ref: string): unknown => {
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
export const validate = (
  root: unknown,
  schema: JsonSchema | boolean,
  value: Json,
  at = '',
): string[] => {
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
export const checkSchema = (schema: unknown, at: string): string[] => {
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
export const refsIn = (node: unknown, at = ''): { at: string; ref: string }[] => {
  if (Array.isArray(node)) return node.flatMap((item, index) => refsIn(item, `${at}/${index}`));
  if (!isRecord(node)) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [{ at, ref: value }]
      : refsIn(value, `${at}/${key}`),
  );
};

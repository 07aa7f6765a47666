import { expect } from 'chai';
import * as t from 'io-ts';
import { strictObject, withSchema } from '../../../adapters/http/codecs.js';
import { toJsonSchema } from '../../../adapters/http/jsonSchema.js';
import { HttpUrl, IsoTime, PositiveInt, withOptional } from '../../../domain/shared/codecs.js';
import { checkSchema } from '../../support/jsonSchemaCheck.js';
import { AuthorizeBody, Level, MessageBody } from '../../support/openApiSamples.js';

describe('jsonSchema: toJsonSchema', () => {
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

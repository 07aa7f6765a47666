import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  boundedString,
  codePointLength,
  queryBoolean,
  queryInt,
  schemaOf,
  strictObject,
  withSchema,
} from '../../../adapters/http/codecs.js';
import { fieldProblems, type FieldProblem } from '../../../adapters/http/problem.js';
import {
  HttpUrl,
  Int,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
} from '../../../domain/shared/codecs.js';

/** The field problems of a failed decode (fails the test if it decoded). */
const problemsOf = (codec: t.Mixed, value: unknown): FieldProblem[] => {
  const result = codec.decode(value);
  if (E.isRight(result)) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return fieldProblems(result.left);
};

const decoded = <A>(codec: t.Type<A, unknown>, value: unknown): A => {
  const result = codec.decode(value);
  if (E.isLeft(result)) {
    throw new Error(`expected to decode: ${JSON.stringify(fieldProblems(result.left))}`);
  }
  return result.right;
};

const Level = t.union([t.literal('active'), t.literal('timeSensitive'), t.literal('passive')]);

const Message = strictObject(
  'Message',
  { body: boundedString('Body', { minLength: 1, maxLength: 4000 }) },
  {
    title: boundedString('Title', { maxLength: 256 }),
    url: HttpUrl,
    level: Level,
    deliverAt: IsoTime,
    mutedUntil: t.union([IsoTime, t.null]),
  },
);

const Batch = strictObject('Batch', { messages: t.array(Message) });

describe('http edge codecs: strictObject', () => {
  it('decodes a valid object to exactly its fields', () => {
    const value = decoded(Message, {
      body: 'Pump 3 is down',
      title: 'Work order 17',
      url: 'https://example.com/wo/17',
      level: 'timeSensitive',
      mutedUntil: null,
    });
    expect(value).to.deep.equal({
      body: 'Pump 3 is down',
      title: 'Work order 17',
      url: 'https://example.com/wo/17',
      level: 'timeSensitive',
      mutedUntil: null,
    });
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(decoded(Message, { body: 'only the body' })).to.deep.equal({ body: 'only the body' });
    expect(Object.keys(decoded(Message, { body: 'x' }))).to.deep.equal(['body']);
    expect(Message.is({ body: 'x', level: 'passive' })).to.equal(true);
    expect(Message.is({ body: 'x', extra: 1 })).to.equal(false);
    expect(Message.is({ title: 'no body' })).to.equal(false);
  });

  it('has the static type { required } & { optional? } (exactOptionalPropertyTypes)', () => {
    type M = t.TypeOf<typeof Message>;
    const minimal: M = { body: 'x' };
    const full: M = { body: 'x', title: 't', level: 'passive', mutedUntil: null };
    // @ts-expect-error optional fields may be left out, not set to undefined
    const withUndefined: M = { body: 'x', title: undefined };
    // @ts-expect-error the required field is required
    const missing: M = { title: 't' };
    expect([minimal, full, withUndefined, missing]).to.have.length(4);
  });

  it('exposes its required and optional field codecs', () => {
    expect(Object.keys(Message.required)).to.deep.equal(['body']);
    expect(Object.keys(Message.optional)).to.deep.equal([
      'title',
      'url',
      'level',
      'deliverAt',
      'mutedUntil',
    ]);
    expect(Message.optional.url).to.equal(HttpUrl);
    expect(Message.name).to.equal('Message');
    expect(Object.keys(strictObject('Empty', {}).optional)).to.deep.equal([]);
  });

  it('refuses an unknown field at its own path', () => {
    expect(problemsOf(Message, { body: 'x', titel: 'typo' })).to.deep.equal([
      { path: '/titel', message: 'is not a known field' },
    ]);
  });

  it('refuses keys that would reach the prototype, as unknown fields', () => {
    const parsed: unknown = JSON.parse('{"body":"x","__proto__":{"admin":true}}');
    expect(problemsOf(Message, parsed)).to.deep.equal([
      { path: '/__proto__', message: 'is not a known field' },
    ]);
    // A required field is looked up on the object itself, never on its prototype.
    const Named = strictObject('Named', { toString: t.string });
    expect(problemsOf(Named, {})).to.deep.equal([{ path: '/toString', message: 'is required' }]);
    expect(Named.is({})).to.equal(false);
  });

  it('reports a missing required field at its path', () => {
    expect(problemsOf(Message, { title: 'no body' })).to.deep.equal([
      { path: '/body', message: 'is required' },
    ]);
  });

  it('refuses wrong types, with the field codec message', () => {
    expect(problemsOf(Message, { body: 42 })).to.deep.equal([
      { path: '/body', message: 'must be a string' },
    ]);
    expect(problemsOf(Message, { body: 'x', url: 'ftp://example.com/' })).to.deep.equal([
      { path: '/url', message: 'expected an absolute http(s) URL' },
    ]);
    const [level] = problemsOf(Message, { body: 'x', level: 'loud' });
    expect(level?.path).to.equal('/level');
  });

  it('allows null only where the field codec allows it', () => {
    expect(decoded(Message, { body: 'x', mutedUntil: null })).to.deep.equal({
      body: 'x',
      mutedUntil: null,
    });
    const problems = problemsOf(Message, { body: 'x', title: null });
    expect(problems).to.deep.equal([{ path: '/title', message: 'must be a string' }]);
    expect(problemsOf(Message, { body: null })).to.deep.equal([
      { path: '/body', message: 'must be a string' },
    ]);
  });

  it('refuses an optional field that is present but undefined (only possible from code)', () => {
    expect(problemsOf(Message, { body: 'x', title: undefined })).to.deep.equal([
      { path: '/title', message: 'must not be undefined; leave the field out' },
    ]);
  });

  it('refuses arrays, null and scalars as the object', () => {
    expect(problemsOf(Message, [])).to.deep.equal([
      { path: '/', message: 'must be an object, not an array' },
    ]);
    for (const value of [null, 'text', 7, true, undefined]) {
      expect(problemsOf(Message, value)).to.deep.equal([
        { path: '/', message: 'must be an object' },
      ]);
    }
  });

  it('reports every problem at once: bad, missing and unknown fields', () => {
    const problems = problemsOf(Message, {
      title: 'x'.repeat(257),
      url: 'not a url',
      colour: 'red',
      size: 3,
    });
    expect(problems).to.deep.equal([
      { path: '/body', message: 'is required' },
      { path: '/title', message: 'must be at most 256 characters' },
      { path: '/url', message: 'expected an absolute http(s) URL' },
      { path: '/colour', message: 'is not a known field' },
      { path: '/size', message: 'is not a known field' },
    ]);
  });

  it('gives /messages/2/url-style paths when nested in an array', () => {
    const problems = problemsOf(Batch, {
      messages: [
        { body: 'fine' },
        { body: 'fine too', url: 'https://example.com/' },
        { body: 'bad', url: 'javascript:alert(1)', prio: 1 },
        { title: 'no body' },
      ],
      extra: true,
    });
    expect(problems).to.deep.equal([
      { path: '/messages/2/url', message: 'expected an absolute http(s) URL' },
      { path: '/messages/2/prio', message: 'is not a known field' },
      { path: '/messages/3/body', message: 'is required' },
      { path: '/extra', message: 'is not a known field' },
    ]);
  });

  it('keeps paths right inside unions and intersections', () => {
    const ByKey = strictObject('ByKey', { key: t.string, body: t.string });
    const Wrapped = strictObject('Wrapped', {
      inner: t.intersection([t.type({ a: t.string }), t.partial({ b: t.number })]),
      either: t.union([t.string, ByKey]),
    });
    const problems = problemsOf(Wrapped, { inner: { a: 1 }, either: { key: 'k', bodi: 'x' } });
    expect(problems.map((p) => p.path)).to.include.members(['/inner/a', '/either/body']);
    expect(problems).to.deep.include({ path: '/either/bodi', message: 'is not a known field' });
  });

  it('encodes through the field codecs, leaving absent fields out', () => {
    const Page = strictObject(
      'Page',
      { limit: queryInt('Limit', { min: 1, max: 100 }) },
      {
        unread: queryBoolean('Unread'),
      },
    );
    expect(Page.encode({ limit: 10 })).to.deep.equal({ limit: '10' });
    expect(Page.encode({ limit: 10, unread: true })).to.deep.equal({ limit: '10', unread: 'true' });
  });

  it('refuses a field declared both required and optional', () => {
    expect(() => strictObject('Twice', { a: t.string }, { a: t.string })).to.throw(/a both/);
  });
});

describe('http edge codecs: boundedString', () => {
  const Title = boundedString('Title', { minLength: 2, maxLength: 5 });

  it('counts characters as code points: Chinese and emoji count one each', () => {
    expect(codePointLength('通知')).to.equal(2);
    expect(codePointLength('🐈🐈')).to.equal(2);
    expect('🐈🐈'.length).to.equal(4);
    expect(decoded(Title, '工单已完成')).to.equal('工单已完成');
    expect(decoded(Title, '🐈🐈🐈🐈🐈')).to.equal('🐈🐈🐈🐈🐈');
    // One emoji is two UTF-16 units but one character: under the minimum of 2.
    expect(problemsOf(Title, '🐈')).to.deep.equal([
      { path: '/', message: 'must be at least 2 characters' },
    ]);
  });

  it('fails with clear messages at the bounds', () => {
    expect(problemsOf(Title, '工单已经完成')).to.deep.equal([
      { path: '/', message: 'must be at most 5 characters' },
    ]);
    expect(problemsOf(Title, '🐈🐈🐈🐈🐈🐈')).to.deep.equal([
      { path: '/', message: 'must be at most 5 characters' },
    ]);
    expect(problemsOf(Title, 'x')).to.deep.equal([
      { path: '/', message: 'must be at least 2 characters' },
    ]);
    expect(problemsOf(boundedString('Name', { minLength: 1 }), '')).to.deep.equal([
      { path: '/', message: 'must not be empty' },
    ]);
    expect(problemsOf(boundedString('One', { maxLength: 1 }), 'ab')).to.deep.equal([
      { path: '/', message: 'must be at most 1 character' },
    ]);
    expect(problemsOf(Title, 12)).to.deep.equal([{ path: '/', message: 'must be a string' }]);
    expect(Title.is('ok')).to.equal(true);
    expect(Title.is('x')).to.equal(false);
  });

  it('checks the pattern, statelessly even for a global expression', () => {
    const Username = boundedString('Username', {
      maxLength: 32,
      pattern: /^[a-z][a-z0-9_]*$/g,
      description: 'lower-case letters, digits and _',
    });
    for (let i = 0; i < 3; i += 1) expect(decoded(Username, 'ada_99')).to.equal('ada_99');
    expect(problemsOf(Username, 'Ada')).to.deep.equal([
      { path: '/', message: 'must match ^[a-z][a-z0-9_]*$ (lower-case letters, digits and _)' },
    ]);
  });

  it('carries its JSON Schema', () => {
    const Username = boundedString('Username', {
      minLength: 3,
      maxLength: 32,
      pattern: /^[a-z]+$/,
      format: 'username',
      description: 'lower-case letters',
    });
    expect(schemaOf(Username)).to.deep.equal({
      type: 'string',
      minLength: 3,
      maxLength: 32,
      pattern: '^[a-z]+$',
      format: 'username',
      description: 'lower-case letters',
    });
    expect(schemaOf(boundedString('Any'))).to.deep.equal({ type: 'string' });
  });
});

describe('http edge codecs: query values', () => {
  const Limit = queryInt('Limit', { min: 1, max: 100 });
  const Unread = queryBoolean('Unread');

  it('queryInt decodes decimal text in range', () => {
    expect(decoded(Limit, '10')).to.equal(10);
    expect(decoded(Limit, '1')).to.equal(1);
    expect(decoded(Limit, '100')).to.equal(100);
    expect(decoded(Limit, 42)).to.equal(42);
    expect(decoded(queryInt('Offset', { min: -5, max: 5 }), '-5')).to.equal(-5);
    expect(Limit.encode(7)).to.equal('7');
  });

  it('queryInt refuses other text with clear messages', () => {
    expect(problemsOf(Limit, '0')).to.deep.equal([{ path: '/', message: 'must be at least 1' }]);
    expect(problemsOf(Limit, '101')).to.deep.equal([{ path: '/', message: 'must be at most 100' }]);
    for (const bad of ['', 'ten', '1.5', '1e2', ' 10', '+10', '0x10', '99999999999999999', 1.5]) {
      expect(problemsOf(Limit, bad), JSON.stringify(bad)).to.deep.equal([
        { path: '/', message: 'must be a whole number' },
      ]);
    }
    expect(problemsOf(Limit, ['1', '2'])).to.deep.equal([
      { path: '/', message: 'must be given once' },
    ]);
  });

  it('queryBoolean decodes exactly true and false', () => {
    expect(decoded(Unread, 'true')).to.equal(true);
    expect(decoded(Unread, 'false')).to.equal(false);
    expect(decoded(Unread, true)).to.equal(true);
    expect(Unread.encode(false)).to.equal('false');
    for (const bad of ['1', 'yes', 'TRUE', '', 0]) {
      expect(problemsOf(Unread, bad), JSON.stringify(bad)).to.deep.equal([
        { path: '/', message: 'must be true or false' },
      ]);
    }
  });

  it('reports paths inside a strict query object', () => {
    const Query = strictObject('InboxQuery', {}, { limit: Limit, unread: Unread });
    expect(decoded(Query, { limit: '20', unread: 'true' })).to.deep.equal({
      limit: 20,
      unread: true,
    });
    expect(problemsOf(Query, { limit: '0', unread: 'maybe', cursr: 'x' })).to.deep.equal([
      { path: '/limit', message: 'must be at least 1' },
      { path: '/unread', message: 'must be true or false' },
      { path: '/cursr', message: 'is not a known field' },
    ]);
  });
});

describe('http edge codecs: attached JSON Schemas', () => {
  it('registers the domain value codecs', () => {
    expect(schemaOf(IsoTime)).to.include({ type: 'string', format: 'date-time' });
    expect(schemaOf(HttpUrl)).to.include({ type: 'string', format: 'uri' });
    expect(schemaOf(PositiveInt)).to.deep.equal({ type: 'integer', minimum: 1 });
    expect(schemaOf(NonNegativeInt)).to.deep.equal({ type: 'integer', minimum: 0 });
    expect(schemaOf(Int)).to.deep.equal({ type: 'integer' });
  });

  it('withSchema returns the same codec and schemaOf finds the schema', () => {
    const Colour = t.string;
    const Custom = new t.Type<string>('Custom', t.string.is, t.string.validate, t.identity);
    expect(withSchema(Custom, { type: 'string', format: 'color' })).to.equal(Custom);
    expect(schemaOf(Custom)).to.deep.equal({ type: 'string', format: 'color' });
    expect(schemaOf(Colour)).to.equal(undefined);
  });
});

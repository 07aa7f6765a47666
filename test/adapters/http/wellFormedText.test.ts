import { expect } from 'chai';
import fc from 'fast-check';
import type { FieldProblem } from '../../../adapters/http/problem.js';
import { illFormedText } from '../../../adapters/http/wellFormedText.js';
import { countCalls } from '../../support/callCounter.js';

/**
 * The first implementation (a path built for every member up front, too slow before
 * authentication), kept as the reference the walk must agree with.
 */
const referenceIllFormedText = (value: unknown, base = ''): FieldProblem[] => {
  const message = illFormedText('\udfff')[0]?.message ?? '';
  const token = (key: string): string =>
    key
      .replace(/(?<![\uD800-\uDBFF])([\uDC80-\uDCFF])\1/g, '\uFFFD')
      .toWellFormed()
      .replaceAll('~', '~0')
      .replaceAll('/', '~1');
  type Pending =
    | { readonly kind: 'value'; readonly value: unknown; readonly path: string }
    | { readonly kind: 'key'; readonly path: string };
  const problems: FieldProblem[] = [];
  const pending: Pending[] = [{ kind: 'value', value, path: base }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (problems.length === 100) break;
    if (next.kind === 'key') {
      problems.push({ path: next.path, message: `this key ${message}` });
      continue;
    }
    const { value: current, path } = next;
    if (typeof current === 'string') {
      if (!current.isWellFormed()) problems.push({ path: path || '/', message });
    } else if (typeof current === 'object' && current !== null) {
      const entries = Array.isArray(current)
        ? current.map((member, index): [string, unknown] => [String(index), member])
        : Object.entries(current);
      for (const [key, member] of entries.reverse()) {
        const memberPath = `${path}/${token(key)}`;
        pending.push({ kind: 'value', value: member, path: memberPath });
        if (!key.isWellFormed()) pending.push({ kind: 'key', path: memberPath });
      }
    }
  }
  return problems;
};

/** Text with lone surrogates, fault markers, pairs and the characters a pointer escapes. */
const trickyText = fc.string({
  unit: fc.constantFrom(
    'a',
    '/',
    '~',
    '\ud800',
    '\udfff',
    '\udcff\udcff',
    '\ud83d\ude00',
    '\uFFFD',
  ),
  maxLength: 4,
});

/** JSON-like values, often with ill-formed strings and keys, sometimes more than 100 of them. */
const bodies = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    trickyText,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(trickyText, tie('value'), { maxKeys: 6 }),
    fc.array(trickyText, { minLength: 90, maxLength: 130 }),
  ),
})).value;

const paths = (value: unknown, base?: string): string[] =>
  illFormedText(value, base).map((problem) => problem.path);

describe('illFormedText', () => {
  it('names every string that is not well-formed Unicode by its path, in document order', () => {
    const body = JSON.parse(
      '{"title":"\\udfff","messages":[{"body":"ok"},{"body":"a\\ud800"},{"tags":["x","\\udc00y"]}]}',
    ) as unknown;
    expect(paths(body)).to.deep.equal(['/title', '/messages/1/body', '/messages/2/tags/1']);
  });

  it('accepts well-formed text: pairs, U+FFFD and everything else', () => {
    expect(
      illFormedText({ emoji: '\ud83d\ude00', replacement: '\uFFFD', n: 1, none: null, t: true }),
    ).to.deep.equal([]);
  });

  it('names a bad key by its object path plus the key, as a well-formed JSON pointer token', () => {
    const body = JSON.parse('{"app":{"\\udfffname":"x","a/b~\\ud800":"y"}}') as unknown;
    expect(paths(body)).to.deep.equal(['/app/\uFFFDname', '/app/a~1b~0\uFFFD']);
    for (const path of paths(body)) expect(path.isWellFormed()).to.equal(true);
  });

  it('puts the base before every path and names a bad top-level string as /', () => {
    expect(paths({ openid: ['ok', '\udfff'] }, '/query')).to.deep.equal(['/query/openid/1']);
    expect(paths('\udfff')).to.deep.equal(['/']);
  });

  it('walks a body nested far deeper than the call stack goes', () => {
    const depth = 100_000;
    const body = JSON.parse(`${'['.repeat(depth)}"\\udfff"${']'.repeat(depth)}`) as unknown;
    const [only] = illFormedText(body);
    expect(only?.path).to.equal('/0'.repeat(depth));
  });

  it('finds exactly what the first, path-per-member implementation found, in the same order', () => {
    fc.assert(
      fc.property(bodies, fc.constantFrom('', '/query'), (body, base) => {
        expect(illFormedText(body, base)).to.deep.equal(referenceIllFormedText(body, base));
      }),
      { numRuns: 3_000 },
    );
  });

  it('spells no path for a body without a problem (it runs before authentication)', () => {
    // Not a timing: counts the string rewrites a path costs while 10,000 members are walked.
    const body = {
      messages: Array.from({ length: 5_000 }, (_, index) => ({ n: index, text: 'ok' })),
    };
    let problems: FieldProblem[] = [];
    const rewrites = countCalls(String.prototype, ['replace', 'replaceAll', 'toWellFormed'], () => {
      problems = illFormedText(body);
    });
    expect(problems).to.deep.equal([]);
    expect(rewrites).to.equal(0);
  });

  it('stops at 100 problems, so the answer stays small', () => {
    expect(illFormedText(Array.from({ length: 1_000 }, () => '\udfff'))).to.have.length(100);
  });
});

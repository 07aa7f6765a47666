import { expect } from 'chai';
import { illFormedText } from '../../../adapters/http/wellFormedText.js';

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

  it('stops at 100 problems, so the answer stays small', () => {
    expect(illFormedText(Array.from({ length: 1_000 }, () => '\udfff'))).to.have.length(100);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { parse } from 'node:querystring';
import { parseQuery } from '../../../adapters/http/queryParser.js';

describe('parseQuery', () => {
  it('parses well-formed queries exactly as express’s default (node:querystring) does', () => {
    const entry = fc.tuple(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.boolean(), (entries, plus) => {
        const query = new URLSearchParams(entries).toString();
        const spelled = plus ? query : query.replaceAll('+', '%20');
        expect(parseQuery(spelled)).to.deep.equal(parse(spelled));
      }),
      { numRuns: 1000 },
    );
    expect(parseQuery('a+b=%C3%A9&z=%zz&r=%EF%BF%BD')).to.deep.equal(
      parse('a+b=%C3%A9&z=%zz&r=%EF%BF%BD'),
    );
  });

  it('keeps escapes that are not UTF-8 as faults instead of U+FFFD', () => {
    const query = parseQuery('openid=%ff&thread=%ED%A0%80&ok=%EF%BF%BD&%fe=1');
    expect(parse('openid=%ff')['openid'], 'what express would have made of it').to.equal('\uFFFD');
    expect((query['openid'] as string).isWellFormed()).to.equal(false);
    expect((query['thread'] as string).isWellFormed()).to.equal(false);
    expect(query['ok']).to.equal('\uFFFD');
    expect(Object.keys(query).filter((key) => !key.isWellFormed())).to.have.length(1);
  });

  it('answers no parameters for no query', () => {
    expect(parseQuery(undefined)).to.deep.equal({});
    expect(parseQuery(null)).to.deep.equal({});
  });
});

import { expect } from 'chai';
import {
  buildMatcher,
  normalizeText,
  parseTermList,
  type TermMatch,
} from '../../../domain/moderation/multiPatternMatcher.js';

/** A small seeded generator (mulberry32), so a failing random case can be replayed. */
const randomSource = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
};

/**
 * The obvious search, for already-normalized text and terms: every (start, end) pair no longer
 * than the longest term, by end, then by start. Offsets are UTF-16, like the matcher's.
 */
const naiveFindAll = (text: string, terms: readonly string[]): Omit<TermMatch, 'term'>[] => {
  const set = new Set(terms);
  const longest = Math.max(0, ...terms.map((term) => Array.from(term).length));
  const chars = Array.from(text);
  const offsets = [0];
  for (const char of chars) offsets.push((offsets.at(-1) ?? 0) + char.length);
  const found: Omit<TermMatch, 'term'>[] = [];
  for (let end = 1; end <= chars.length; end++) {
    for (let start = Math.max(0, end - longest); start < end; start++) {
      if (set.has(chars.slice(start, end).join(''))) {
        found.push({ index: offsets[start]!, end: offsets[end]! });
      }
    }
  }
  return found;
};

const spans = (matches: readonly TermMatch[]) => matches.map(({ index, end }) => ({ index, end }));

describe('multi-pattern matcher (Aho–Corasick)', () => {
  it('finds English terms anywhere, without word boundaries', () => {
    const matcher = buildMatcher(['free bitcoin', 'casino']);
    expect(matcher.findFirst('Get FREE BITCOIN now')).to.deep.equal({
      term: 'free bitcoin',
      index: 4,
      end: 16,
    });
    expect(matcher.findFirst('megacasinos')?.term).to.equal('casino');
    expect(matcher.findFirst('nothing to see here')).to.equal(undefined);
  });

  it('finds Chinese terms in text that has no spaces', () => {
    const matcher = buildMatcher(['刷单', '博彩', '代开发票']);
    expect(matcher.findFirst('高薪兼职在家刷单日结')).to.deep.equal({
      term: '刷单',
      index: 6,
      end: 8,
    });
    expect(matcher.findFirst('本公司可代开发票')?.term).to.equal('代开发票');
    expect(matcher.findFirst('您的工单已派发，师傅正在路上')).to.equal(undefined);
  });

  it('finds terms in mixed Chinese and English text', () => {
    const matcher = buildMatcher(['免费领取iPhone', 'vip博彩']);
    expect(matcher.findFirst('快来免费领取IPHONE 16!')?.term).to.equal('免费领取iPhone');
    expect(matcher.findAll('VIP博彩 and vip博彩').map((m) => m.index)).to.deep.equal([0, 10]);
  });

  it('reports overlapping terms (he, she, hers) by end, longer first', () => {
    const matcher = buildMatcher(['he', 'she', 'hers', 'his']);
    expect(matcher.findAll('ushers')).to.deep.equal([
      { term: 'she', index: 1, end: 4 },
      { term: 'he', index: 2, end: 4 },
      { term: 'hers', index: 2, end: 6 },
    ]);
    expect(matcher.findFirst('ushers')).to.deep.equal({ term: 'she', index: 1, end: 4 });
    expect(matcher.findAll('hishe').map((m) => m.term)).to.deep.equal(['his', 'she', 'he']);
  });

  it('ignores case and width, and reports the term as listed and the original span', () => {
    const matcher = buildMatcher(['Free Money', 'ＶＩＰ']);
    const text = 'ＦＲＥＥ　ＭＯＮＥＹ today';
    const found = matcher.findFirst(text);
    expect(found?.term).to.equal('Free Money');
    expect(text.slice(found!.index, found!.end)).to.equal('ＦＲＥＥ　ＭＯＮＥＹ');
    expect(matcher.findFirst('become a vip')?.term).to.equal('ＶＩＰ');
    expect(normalizeText('ＦＲＥＥ')).to.equal('free');
  });

  it('sees through white-space runs, line breaks and invisible characters', () => {
    const matcher = buildMatcher(['free bitcoin', '刷单']);
    expect(matcher.findFirst('free\n\t  bitcoin')?.term).to.equal('free bitcoin');
    expect(matcher.findFirst('刷\u200B单')?.term).to.equal('刷单');
    expect(matcher.findFirst('fre\u00ADe bitcoin')?.term).to.equal('free bitcoin');
  });

  it('treats composed and decomposed accents alike', () => {
    const matcher = buildMatcher(['café']);
    const text = 'CAFE\u0301 au lait';
    expect(matcher.findFirst(text)).to.deep.equal({ term: 'café', index: 0, end: 5 });
  });

  it('matches a term at the very start and the very end, and a text that is only the term', () => {
    const matcher = buildMatcher(['spam']);
    expect(matcher.findFirst('spam and eggs')?.index).to.equal(0);
    expect(matcher.findFirst('eggs and spam')).to.deep.equal({ term: 'spam', index: 9, end: 13 });
    expect(matcher.findFirst('SPAM')).to.deep.equal({ term: 'spam', index: 0, end: 4 });
  });

  it('counts offsets in UTF-16 units around characters outside the BMP', () => {
    const matcher = buildMatcher(['𠮷野家']);
    const text = '😀去𠮷野家';
    const found = matcher.findFirst(text);
    expect(text.slice(found!.index, found!.end)).to.equal('𠮷野家');
  });

  it('ignores empty and white-space terms and counts equivalent terms once', () => {
    const matcher = buildMatcher(['', '   ', '\t', 'Spam', 'spam', 'ＳＰＡＭ']);
    expect(matcher.size).to.equal(1);
    expect(matcher.findFirst('any text')).to.equal(undefined);
    expect(matcher.findFirst('spam')?.term).to.equal('Spam');
    expect(buildMatcher([]).findAll('anything')).to.deep.equal([]);
  });

  it('builds from 5,000 random terms and agrees with a naive search on random texts', () => {
    const random = randomSource(20240611);
    // A small alphabet (with Chinese and a character outside the BMP) so that terms overlap a lot.
    const alphabet = ['a', 'b', 'c', '刷', '单', '博', '彩', '𠮷'];
    const pick = () => alphabet[Math.floor(random() * alphabet.length)]!;
    const word = (min: number, max: number) =>
      Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, pick).join('');
    const terms = Array.from({ length: 5000 }, () => word(2, 9));
    const matcher = buildMatcher(terms);
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      const text = word(0, 60);
      const expected = naiveFindAll(text, terms);
      expect(spans(matcher.findAll(text)), text).to.deep.equal(expected);
      expect(matcher.findFirst(text)?.index, text).to.equal(expected[0]?.index);
      for (const match of matcher.findAll(text)) {
        expect(text.slice(match.index, match.end)).to.equal(match.term);
      }
      compared += expected.length;
    }
    expect(compared).to.be.greaterThan(1000);
  });

  it('handles a large realistic list (many distinct words) against the naive search', () => {
    const random = randomSource(7);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const word = (length: number) =>
      Array.from({ length }, () => letters[Math.floor(random() * letters.length)]!).join('');
    const terms = Array.from({ length: 5000 }, () => word(3 + Math.floor(random() * 4)));
    const matcher = buildMatcher(terms);
    for (let round = 0; round < 50; round++) {
      const text = word(2000);
      expect(spans(matcher.findAll(text))).to.deep.equal(naiveFindAll(text, terms));
    }
  });
});

describe('parseTermList', () => {
  it('reads one term a line, trimmed, skipping blanks, comments and repeats', () => {
    const text =
      '\uFEFF# a comment\r\n  free bitcoin  \n\n刷单\r\n   # indented comment\n刷单\n\t\ncasino';
    expect(parseTermList(text)).to.deep.equal(['free bitcoin', '刷单', 'casino']);
  });

  it('keeps a # that is not at the start of a line', () => {
    expect(parseTermList('c# jobs\n#skip')).to.deep.equal(['c# jobs']);
  });

  it('gives no terms for an empty or comment-only file', () => {
    expect(parseTermList('')).to.deep.equal([]);
    expect(parseTermList('# nothing here\n\n')).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { HttpUrl, IsoTime, NonNegativeInt, PositiveInt } from '../../../domain/shared/codecs.js';
import { addDays, isAfter, isBefore, isSameInstant } from '../../../domain/shared/time.js';

describe('shared domain codecs', () => {
  it('IsoTime takes UTC times with or without fractions, and refuses the rest', () => {
    for (const ok of ['2025-03-01T12:00:00Z', '2025-03-01T12:00:00.123Z']) {
      expect(E.isRight(IsoTime.decode(ok)), ok).to.equal(true);
    }
    for (const bad of [
      '2025-03-01T12:00:00+08:00',
      '2025-03-01',
      '2025-13-01T00:00:00Z',
      1700000000,
      '',
    ]) {
      expect(E.isLeft(IsoTime.decode(bad)), String(bad)).to.equal(true);
      expect(IsoTime.is(bad)).to.equal(false);
    }
  });

  it('HttpUrl takes absolute http(s) URLs only', () => {
    expect(E.isRight(HttpUrl.decode('https://api.day.app/'))).to.equal(true);
    expect(E.isRight(HttpUrl.decode('http://localhost:8080/cb'))).to.equal(true);
    for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', '/relative', 'not a url', 42]) {
      expect(E.isLeft(HttpUrl.decode(bad)), String(bad)).to.equal(true);
    }
  });

  it('PositiveInt and NonNegativeInt refuse fractions and out-of-range numbers', () => {
    expect(PositiveInt.is(1)).to.equal(true);
    expect(PositiveInt.is(0)).to.equal(false);
    expect(PositiveInt.is(1.5)).to.equal(false);
    expect(NonNegativeInt.is(0)).to.equal(true);
    expect(NonNegativeInt.is(-1)).to.equal(false);
    expect(NonNegativeInt.is('1')).to.equal(false);
  });
});

describe('domain time', () => {
  it('compares instants, not text', () => {
    expect(isSameInstant('2025-03-01T12:00:00Z', '2025-03-01T12:00:00.000Z')).to.equal(true);
    expect(isBefore('2025-03-01T11:59:59.999Z', '2025-03-01T12:00:00Z')).to.equal(true);
    expect(isBefore('2025-03-01T12:00:00Z', '2025-03-01T12:00:00.000Z')).to.equal(false);
    expect(isAfter('2025-03-01T12:00:00.001Z', '2025-03-01T12:00:00Z')).to.equal(true);
  });

  it('adds whole days', () => {
    expect(addDays('2025-03-01T12:00:00Z', 30)).to.equal('2025-03-31T12:00:00.000Z');
  });

  it('treats an unparsable time as a bug', () => {
    expect(() => isBefore('soon', '2025-03-01T12:00:00Z')).to.throw(TypeError);
  });
});

import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  commandCodec,
  CommandMetadataCodec,
  eventCodec,
  HttpUrl,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  typeNamesOf,
  withOptional,
} from '../../../domain/shared/codecs.js';
import { addDays, isAfter, isBefore, isSameInstant } from '../../../domain/shared/time.js';

describe('shared domain codecs', () => {
  it('IsoTime takes UTC times with or without fractions, and refuses the rest', () => {
    for (const ok of [
      '2025-03-01T12:00:00Z',
      '2025-03-01T12:00:00.123Z',
      '2024-02-29T23:59:59.999999Z',
    ]) {
      expect(E.isRight(IsoTime.decode(ok)), ok).to.equal(true);
    }
    for (const bad of [
      '2025-03-01T12:00:00+08:00',
      '2025-03-01',
      '2025-13-01T00:00:00Z',
      // Times that do not exist, which Date.parse would roll over into other days.
      '2025-02-30T09:00:00Z',
      '2025-02-29T09:00:00Z',
      '2025-04-31T09:00:00Z',
      '2025-03-01T24:00:00Z',
      '2025-03-01T12:00:60Z',
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

describe('codec factories', () => {
  const data = withOptional({ appId: t.string }, { note: t.string });

  it('build the codecs io-ts would build by hand, names included', () => {
    const byHand = t.intersection([t.type({ appId: t.string }), t.partial({ note: t.string })]);
    expect(data.name).to.equal(byHand.name);
    expect(eventCodec('AppBanned', data).name).to.equal(
      t.type({ type: t.literal('AppBanned'), data: byHand }).name,
    );
    expect(commandCodec('BanApp', data).name).to.equal(
      t.type({ type: t.literal('BanApp'), data: byHand, metadata: CommandMetadataCodec }).name,
    );
  });

  it('decode required and optional fields, and a command only with its metadata', () => {
    const BanApp = commandCodec('BanApp', data);
    const now = '2025-03-01T12:00:00Z';
    expect(E.isRight(data.decode({ appId: 'a' }))).to.equal(true);
    expect(E.isRight(data.decode({ appId: 'a', note: 'n' }))).to.equal(true);
    expect(E.isLeft(data.decode({ note: 'n' }))).to.equal(true);
    expect(E.isLeft(data.decode({ appId: 'a', note: 1 }))).to.equal(true);
    const command = { type: 'BanApp', data: { appId: 'a' }, metadata: { now } };
    expect(E.isRight(BanApp.decode(command))).to.equal(true);
    expect(E.isLeft(BanApp.decode({ type: 'BanApp', data: { appId: 'a' } }))).to.equal(true);
    expect(E.isLeft(BanApp.decode({ ...command, type: 'AppBanned' }))).to.equal(true);
  });

  it('typeNamesOf lists the literal type names in union order', () => {
    const union = t.union([eventCodec('B', data), eventCodec('A', t.type({}))]);
    const names: readonly ('A' | 'B')[] = typeNamesOf(union);
    expect(names).to.deep.equal(['B', 'A']);
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

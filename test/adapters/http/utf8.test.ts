import { expect } from 'chai';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { decodeUtf8KeepingFaults } from '../../../adapters/http/utf8.js';

/** Bytes that are UTF-8 more often than uniform random bytes would be. */
const mostlyText = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => new Uint8Array(Buffer.from(text))),
  fc
    .tuple(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.uint8Array({ maxLength: 3 }))
    .map(([text, noise]) => new Uint8Array(Buffer.concat([Buffer.from(text), noise]))),
);

describe('decodeUtf8KeepingFaults', () => {
  it('decodes UTF-8 exactly as Buffer does, U+FFFD included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        expect(decodeUtf8KeepingFaults(Buffer.from(text))).to.equal(text);
      }),
      { numRuns: 2000 },
    );
    expect(decodeUtf8KeepingFaults(Buffer.of(0xef, 0xbf, 0xbd))).to.equal('\uFFFD');
  });

  it('gives well-formed text exactly when the bytes are UTF-8', () => {
    fc.assert(
      fc.property(mostlyText, (bytes) => {
        const text = decodeUtf8KeepingFaults(bytes);
        expect(text.isWellFormed()).to.equal(isUtf8(bytes));
        if (isUtf8(bytes)) expect(text).to.equal(Buffer.from(bytes).toString('utf8'));
      }),
      { numRuns: 5000 },
    );
  });

  it('marks each byte of the classic ill-formed sequences', () => {
    const cases: [number[], string][] = [
      [[0xff], 'a byte that never occurs'],
      [[0xc0, 0xaf], 'an overlong "/"'],
      [[0xed, 0xa0, 0x80], 'an encoded surrogate'],
      [[0xf4, 0x90, 0x80, 0x80], 'past U+10FFFF'],
      [[0xe2, 0x82], 'a truncated sequence'],
      [[0x80], 'a lone continuation byte'],
    ];
    for (const [bytes, what] of cases) {
      const text = decodeUtf8KeepingFaults(Buffer.from([0x61, ...bytes, 0x62]));
      expect(text.isWellFormed(), what).to.equal(false);
      expect(text.startsWith('a') && text.endsWith('b'), what).to.equal(true);
    }
  });

  it('cannot be made well formed by a high surrogate escaped just before a fault', () => {
    // JSON "\ud800" followed by a raw 0x80: one marker would pair with it into U+10000-ish text.
    const json = Buffer.concat([Buffer.from('"\\ud800'), Buffer.of(0x80), Buffer.from('"')]);
    const value = JSON.parse(decodeUtf8KeepingFaults(json)) as string;
    expect(value.isWellFormed()).to.equal(false);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { decodeUtf8KeepingFaults } from '../../../adapters/http/utf8.js';
import { countCalls } from '../../support/callCounter.js';

/** Bytes that are UTF-8 more often than uniform random bytes would be. */
const mostlyText = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => new Uint8Array(Buffer.from(text))),
  fc
    .tuple(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.uint8Array({ maxLength: 3 }))
    .map(([text, noise]) => new Uint8Array(Buffer.concat([Buffer.from(text), noise]))),
);

/**
 * The first implementation (a concatenation per faulty byte, too slow before authentication),
 * kept as the reference the one-pass decoder must agree with byte for byte.
 */
const referenceDecode = (bytes: Uint8Array): string => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  const leads = [
    { from: 0xc2, to: 0xdf, follow: 1, low: 0x80, high: 0xbf },
    { from: 0xe0, to: 0xe0, follow: 2, low: 0xa0, high: 0xbf },
    { from: 0xe1, to: 0xec, follow: 2, low: 0x80, high: 0xbf },
    { from: 0xed, to: 0xed, follow: 2, low: 0x80, high: 0x9f },
    { from: 0xee, to: 0xef, follow: 2, low: 0x80, high: 0xbf },
    { from: 0xf0, to: 0xf0, follow: 3, low: 0x90, high: 0xbf },
    { from: 0xf1, to: 0xf3, follow: 3, low: 0x80, high: 0xbf },
    { from: 0xf4, to: 0xf4, follow: 3, low: 0x80, high: 0x8f },
  ];
  const sequenceLength = (at: number): number => {
    const lead = buffer[at] ?? 0;
    if (lead < 0x80) return 1;
    const rule = leads.find((entry) => lead >= entry.from && lead <= entry.to);
    if (rule === undefined || at + rule.follow >= buffer.length) return 0;
    const second = buffer[at + 1] ?? 0;
    if (second < rule.low || second > rule.high) return 0;
    for (let offset = 2; offset <= rule.follow; offset += 1) {
      const next = buffer[at + offset] ?? 0;
      if (next < 0x80 || next > 0xbf) return 0;
    }
    return rule.follow + 1;
  };
  let text = '';
  let runStart = 0;
  let index = 0;
  while (index < buffer.length) {
    const length = sequenceLength(index);
    if (length > 0) {
      index += length;
      continue;
    }
    const marker = String.fromCharCode(0xdc00 + (buffer[index] ?? 0));
    text += buffer.toString('utf8', runStart, index) + marker + marker;
    index += 1;
    runStart = index;
  }
  return text + buffer.toString('utf8', runStart);
};

/** Bytes around the edges of the UTF-8 table: leads, continuation bytes and their boundaries. */
const edgyByte = fc.constantFrom(
  0x00,
  0x41,
  0x7f,
  0x80,
  0x8f,
  0x90,
  0x9f,
  0xa0,
  0xbf,
  0xc0,
  0xc1,
  0xc2,
  0xdf,
  0xe0,
  0xe1,
  0xec,
  0xed,
  0xee,
  0xef,
  0xf0,
  0xf1,
  0xf3,
  0xf4,
  0xf5,
  0xff,
);

describe('decodeUtf8KeepingFaults', () => {
  it('decodes every input exactly as the first, per-fault implementation did', () => {
    const inputs = fc.oneof(
      mostlyText,
      fc.array(edgyByte, { maxLength: 40 }).map((list) => Uint8Array.from(list)),
      fc
        .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 4 }), edgyByte), { maxLength: 20 })
        .map(
          (parts) =>
            new Uint8Array(
              Buffer.concat(
                parts.map((part) =>
                  typeof part === 'string' ? Buffer.from(part) : Buffer.of(part),
                ),
              ),
            ),
        ),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        expect(decodeUtf8KeepingFaults(bytes)).to.equal(referenceDecode(bytes));
      }),
      { numRuns: 20_000 },
    );
  });

  it('decodes a slice of a larger buffer by its own bytes only', () => {
    const whole = Buffer.concat([Buffer.from('ab\u00e9\u{1F600}cd'), Buffer.of(0xff)]);
    // "b", then the lead byte of "é" whose continuation lies past the slice’s end; then "é" and an emoji cut short.
    const cut = whole.subarray(1, 3);
    expect(decodeUtf8KeepingFaults(cut)).to.equal('b\uDCC3\uDCC3');
    const inner = whole.subarray(2, 7);
    expect(decodeUtf8KeepingFaults(inner)).to.equal('\u00e9\uDCF0\uDCF0\uDC9F\uDC9F\uDC98\uDC98');
  });

  it('builds its text once, not a piece per fault (it runs before authentication)', () => {
    // Not a timing: counts the strings made from bytes while 10,000 faults are decoded.
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(10_000, 0xff)]);
    const made =
      countCalls(Buffer.prototype as object, ['toString'], () => {
        decodeUtf8KeepingFaults(bytes);
      }) +
      countCalls(String, ['fromCharCode', 'fromCodePoint'], () => {
        decodeUtf8KeepingFaults(bytes);
      });
    expect(made).to.be.at.most(1);
  });

  it('turns 1 MiB of 0xff into exactly its markers: two per byte, nothing else', () => {
    const text = decodeUtf8KeepingFaults(Buffer.alloc(1024 * 1024, 0xff));
    expect(text.length).to.equal(2 * 1024 * 1024);
    expect(/^\uDCFF+$/.test(text)).to.equal(true);
  });

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

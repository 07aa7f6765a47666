import { isUtf8 } from 'node:buffer';

/**
 * Decodes UTF-8 without hiding faults. Well-formed input decodes exactly as `Buffer#toString`
 * does. Each byte of an ill-formed sequence becomes two lone low surrogates (U+DC80 + the byte,
 * twice) where a decoder would put U+FFFD: valid UTF-8 never yields a lone surrogate, and no
 * high surrogate before the pair can turn both into a valid pair, so the text is well formed
 * (`String#isWellFormed`) exactly when the bytes were UTF-8. The caller can then find where the
 * fault sits (e.g. which JSON string holds it) and refuse the input, while a U+FFFD the sender
 * really sent stays an ordinary character.
 */
export const decodeUtf8KeepingFaults = (bytes: Uint8Array): string => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let text = '';
  let runStart = 0;
  let index = 0;
  while (index < buffer.length) {
    const length = sequenceLength(buffer, index);
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

/**
 * The well-formed byte sequences of Unicode 15, chapter 3, table 3-7, by lead byte: how many
 * bytes follow and the range the first of them must be in (the others are all 80..BF). The
 * narrowed ranges refuse overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF
 * (F4).
 */
const leads: readonly { from: number; to: number; follow: number; low: number; high: number }[] = [
  { from: 0xc2, to: 0xdf, follow: 1, low: 0x80, high: 0xbf },
  { from: 0xe0, to: 0xe0, follow: 2, low: 0xa0, high: 0xbf },
  { from: 0xe1, to: 0xec, follow: 2, low: 0x80, high: 0xbf },
  { from: 0xed, to: 0xed, follow: 2, low: 0x80, high: 0x9f },
  { from: 0xee, to: 0xef, follow: 2, low: 0x80, high: 0xbf },
  { from: 0xf0, to: 0xf0, follow: 3, low: 0x90, high: 0xbf },
  { from: 0xf1, to: 0xf3, follow: 3, low: 0x80, high: 0xbf },
  { from: 0xf4, to: 0xf4, follow: 3, low: 0x80, high: 0x8f },
];

/** The length of the well-formed sequence starting at `at`, or 0 when none starts there. */
const sequenceLength = (bytes: Buffer, at: number): number => {
  const lead = bytes[at] ?? 0;
  if (lead < 0x80) return 1;
  const rule = leads.find((entry) => lead >= entry.from && lead <= entry.to);
  if (rule === undefined || at + rule.follow >= bytes.length) return 0;
  const second = bytes[at + 1] ?? 0;
  if (second < rule.low || second > rule.high) return 0;
  for (let offset = 2; offset <= rule.follow; offset += 1) {
    const next = bytes[at + offset] ?? 0;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return rule.follow + 1;
};

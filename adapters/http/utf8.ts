import { isUtf8 } from 'node:buffer';

/**
 * Decodes UTF-8 without hiding faults. Well-formed input decodes exactly as `Buffer#toString`
 * does. Each byte of an ill-formed sequence becomes two lone low surrogates (U+DC80 + the byte,
 * twice) where a decoder would put U+FFFD: valid UTF-8 never yields a lone surrogate, and no
 * high surrogate before the pair can turn both into a valid pair, so the text is well formed
 * (`String#isWellFormed`) exactly when the bytes were UTF-8. The caller can then find where the
 * fault sits (e.g. which JSON string holds it) and refuse the input, while a U+FFFD the sender
 * really sent stays an ordinary character.
 *
 * It runs before authentication on every JSON body, so ill-formed input costs one pass with a
 * lookup table per byte and one string at the end, however many faults it holds: no string is
 * built per fault (1 MiB of 0xff decodes in milliseconds, not the second a concatenation per
 * byte took).
 */
export const decodeUtf8KeepingFaults = (bytes: Uint8Array): string => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  // UTF-16LE, written byte by byte so the result does not depend on the machine's byte order: at
  // most two code units per input byte (a faulty byte's marker pair; a 4-byte sequence's pair).
  const units = Buffer.allocUnsafe(buffer.length * 4);
  let out = 0;
  const put = (unit: number): void => {
    units[out] = unit & 0xff;
    units[out + 1] = unit >>> 8;
    out += 2;
  };
  let index = 0;
  while (index < buffer.length) {
    const lead = buffer[index] ?? 0;
    if (lead < 0x80) {
      put(lead);
      index += 1;
      continue;
    }
    const length = sequenceLength(buffer, index, lead);
    if (length === 0) {
      put(0xdc00 + lead);
      put(0xdc00 + lead);
      index += 1;
      continue;
    }
    const point = codePointOf(buffer, index, lead, length);
    if (point < 0x10000) {
      put(point);
    } else {
      put(0xd800 + ((point - 0x10000) >>> 10));
      put(0xdc00 + ((point - 0x10000) & 0x3ff));
    }
    index += length;
  }
  return units.toString('utf16le', 0, out);
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

/** {@link leads} by lead byte, so a byte costs an index rather than a search: 0 follow = no lead. */
const followOf = new Uint8Array(256);
const secondLowOf = new Uint8Array(256);
const secondHighOf = new Uint8Array(256);
for (const { from, to, follow, low, high } of leads) {
  followOf.fill(follow, from, to + 1);
  secondLowOf.fill(low, from, to + 1);
  secondHighOf.fill(high, from, to + 1);
}

/** The length of the well-formed sequence `lead` (≥ 0x80) starts at `at`, or 0 when none does. */
const sequenceLength = (bytes: Buffer, at: number, lead: number): number => {
  const follow = followOf[lead] ?? 0;
  if (follow === 0 || at + follow >= bytes.length) return 0;
  const second = bytes[at + 1] ?? 0;
  if (second < (secondLowOf[lead] ?? 0) || second > (secondHighOf[lead] ?? 0)) return 0;
  for (let offset = 2; offset <= follow; offset += 1) {
    const next = bytes[at + offset] ?? 0;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return follow + 1;
};

/** The code point of the well-formed sequence of `length` bytes at `at`. */
const codePointOf = (bytes: Buffer, at: number, lead: number, length: number): number => {
  // The lead keeps 7 - length bits (5, 4 or 3); each byte after it carries 6.
  let point = lead & (0x7f >>> length);
  for (let offset = 1; offset < length; offset += 1) {
    point = (point << 6) | ((bytes[at + offset] ?? 0) & 0x3f);
  }
  return point;
};

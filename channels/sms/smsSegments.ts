/**
 * How many SMS a text costs. A single SMS carries 140 bytes: 160 characters of the GSM 03.38
 * 7-bit alphabet, or 70 UTF-16 code units (UCS-2) as soon as one character is outside it. A
 * longer text is sent as concatenated parts, each losing room to the reassembly header: 153 GSM
 * characters or 67 UTF-16 units a part. Gateways and carriers bill per part, which is why the
 * channel caps a message by parts rather than by characters (docs/sms.md "The text").
 */

/** The two ways a text travels: 7-bit GSM 03.38, or UCS-2 (UTF-16 on the air). */
export type SmsEncoding = 'gsm7' | 'ucs2';

/** GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table, left out). */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The extension table: each of these is sent as the escape and a second septet, so it costs two. */
const GSM_EXTENSION = '\f^{}\\[~]|€';

const basic: ReadonlySet<string> = new Set(GSM_BASIC);
const extension: ReadonlySet<string> = new Set(GSM_EXTENSION);

/** Characters of one single SMS, and of each part of a concatenated one, per encoding. */
export const SEGMENT_UNITS: Readonly<
  Record<SmsEncoding, { readonly single: number; readonly part: number }>
> = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
};

/** `gsm7` when every character of `text` is in the GSM alphabet (or its extension), else `ucs2`. */
export const encodingOf = (text: string): SmsEncoding => {
  for (const char of text) if (!basic.has(char) && !extension.has(char)) return 'ucs2';
  return 'gsm7';
};

/**
 * What one code point costs in `encoding`: septets in GSM (two for the extension table), UTF-16
 * units in UCS-2 (two for a code point beyond U+FFFF, such as most emoji).
 */
const unitsOf = (char: string, encoding: SmsEncoding): number =>
  encoding === 'gsm7' ? (extension.has(char) ? 2 : 1) : char.length;

/**
 * The number of SMS `text` is sent as. One when it fits a single SMS; otherwise the parts it
 * takes when split as phones reassemble them: no part ends inside a character (a GSM escape
 * pair or a surrogate pair stays whole), so a part may hold one unit less than its room.
 */
export const segmentsOf = (text: string): number => {
  const encoding = encodingOf(text);
  const room = SEGMENT_UNITS[encoding];
  let total = 0;
  for (const char of text) total += unitsOf(char, encoding);
  if (total <= room.single) return 1;
  let parts = 1;
  let used = 0;
  for (const char of text) {
    const units = unitsOf(char, encoding);
    if (used + units > room.part) {
      parts += 1;
      used = 0;
    }
    used += units;
  }
  return parts;
};

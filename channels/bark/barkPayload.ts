/**
 * Keeping a Bark push within Apple's 4 KiB payload limit. bark-server passes our fields on to
 * APNs: title, subtitle and body inside `aps.alert`, `group` once more as `aps.thread-id`, and
 * every other field (`level`, `group`, `id`, `url`) as a custom key, all JSON-encoded by Go. A
 * push over the limit comes back as `500 push failed: PayloadTooLarge`, which looks transient
 * and would be retried in vain, so the channel makes it fit before sending.
 */

/** Apple's limit for a regular remote notification payload, in bytes. */
export const APNS_PAYLOAD_LIMIT = 4096;

/**
 * Room kept for what bark-server adds around our fields: the `aps` wrapper, `alert`, `sound`,
 * `category`, `mutable-content` and the `thread-id` key (about 120 bytes today), with a margin
 * for fields a later bark-server version may add.
 */
export const SERVER_OVERHEAD_BYTES = 256;

/** The fields of a push that end up in the APNs payload (`device_key` does not). */
export interface PayloadFields {
  readonly title?: string;
  readonly subtitle?: string;
  readonly body: string;
  readonly level: string;
  readonly group: string;
  readonly id: string;
  readonly url?: string;
}

const ELLIPSIS = '…';

/**
 * Bytes one code point takes inside a JSON string as Go's `encoding/json` writes it: UTF-8, with
 * `"` and `\` escaped, control characters escaped, and the HTML-safe escapes Go applies by
 * default (`<`, `>`, `&`, U+2028, U+2029 become six-byte `\u` sequences). A lone surrogate
 * becomes U+FFFD, three bytes.
 */
const codePointBytes = (char: string): number => {
  const code = char.codePointAt(0) ?? 0;
  if (char === '"' || char === '\\') return 2;
  if (code < 0x20) return char === '\n' || char === '\r' || char === '\t' ? 2 : 6;
  if (char === '<' || char === '>' || char === '&' || code === 0x2028 || code === 0x2029) return 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  return code < 0x10000 ? 3 : 4;
};

/** Bytes `text` takes inside a JSON string written by Go, quotes excluded. */
export const jsonStringBytes = (text: string): number => {
  let bytes = 0;
  for (const char of text) bytes += codePointBytes(char);
  return bytes;
};

/**
 * An upper estimate of the APNs payload bark-server builds from `fields`: our fields as one JSON
 * object, `group` counted twice (it is also `aps.thread-id`) and {@link SERVER_OVERHEAD_BYTES}.
 */
export const estimatePayloadBytes = (fields: PayloadFields): number => {
  let bytes = 2 + SERVER_OVERHEAD_BYTES + jsonStringBytes(fields.group);
  for (const [key, value] of Object.entries(fields)) {
    // `"key":"value",` — two pairs of quotes, a colon and a comma around the two strings.
    if (typeof value === 'string') bytes += jsonStringBytes(key) + jsonStringBytes(value) + 6;
  }
  return bytes;
};

/**
 * `text` cut at a code-point boundary (never inside a surrogate pair) and ended with `…`, so that
 * it takes at least `excess` bytes less than before; just `…` when nothing of it can stay.
 */
const shorten = (text: string, excess: number): string => {
  const keep = jsonStringBytes(text) - excess - jsonStringBytes(ELLIPSIS);
  let used = 0;
  let end = 0;
  for (const char of text) {
    const bytes = codePointBytes(char);
    if (used + bytes > keep) break;
    used += bytes;
    end += char.length;
  }
  return `${text.slice(0, end)}${ELLIPSIS}`;
};

type Step = (fields: PayloadFields, excess: number) => PayloadFields;

/** What gives way, in order, until the payload fits. */
const steps: readonly Step[] = [
  (fields, excess) => ({ ...fields, body: shorten(fields.body, excess) }),
  (fields, excess) =>
    fields.subtitle === undefined
      ? fields
      : { ...fields, subtitle: shorten(fields.subtitle, excess) },
  (fields, excess) =>
    fields.title === undefined ? fields : { ...fields, title: shorten(fields.title, excess) },
  // A cut URL would open the wrong page; better none.
  ({ url: _url, ...rest }) => rest,
  // The id is at most 64 bytes and just as stable, so the thread still groups together.
  (fields) => ({ ...fields, group: fields.id }),
];

/**
 * `fields` made to fit {@link APNS_PAYLOAD_LIMIT} by {@link estimatePayloadBytes}. Fields that
 * fit are returned unchanged. Otherwise, in order, until it fits: the body is cut (at a code-point
 * boundary, ending with `…`), then the subtitle, then the title; then the URL is dropped; last, an
 * oversized group is replaced by the (≤ 64-byte) id. After the last step only short fields are
 * left, so the result always fits.
 */
export const fitPayload = (fields: PayloadFields): PayloadFields => {
  let fitted = fields;
  for (const step of steps) {
    const excess = estimatePayloadBytes(fitted) - APNS_PAYLOAD_LIMIT;
    if (excess <= 0) break;
    fitted = step(fitted, excess);
  }
  return fitted;
};

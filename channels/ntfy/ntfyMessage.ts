/**
 * ntfy's `message-size-limit` (4,096 bytes by default, on ntfy.sh too): a longer message is not
 * shown but turned into a file attachment ("You received a file: attachment.txt"), or refused
 * where attachments are off. The channel cuts the text instead, so the person reads it.
 */
export const NTFY_MESSAGE_LIMIT_BYTES = 4096;

const ELLIPSIS = '…';

/**
 * `text` unchanged when its UTF-8 bytes fit {@link NTFY_MESSAGE_LIMIT_BYTES}; otherwise cut at a
 * code-point boundary (never inside a surrogate pair) and ended with `…`, within the limit.
 */
export const fitMessage = (text: string): string => {
  if (Buffer.byteLength(text, 'utf8') <= NTFY_MESSAGE_LIMIT_BYTES) return text;
  const budget = NTFY_MESSAGE_LIMIT_BYTES - Buffer.byteLength(ELLIPSIS, 'utf8');
  let used = 0;
  let end = 0;
  for (const char of text) {
    const bytes = Buffer.byteLength(char, 'utf8');
    if (used + bytes > budget) break;
    used += bytes;
    end += char.length;
  }
  return `${text.slice(0, end)}${ELLIPSIS}`;
};

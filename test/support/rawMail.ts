/**
 * Just enough MIME to read what a test SMTP server received: headers (unfolded, encoded words
 * decoded) and the leaf parts of a multipart body, decoded from quoted-printable or base64.
 */

/** One header field or part of a mail. */
export interface MimeEntity {
  /** Header values by lower-case name, in order; raw (still encoded) values. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
}

/** A parsed mail: its headers and its leaf parts (the mail itself when it is not multipart). */
export interface ParsedMail extends MimeEntity {
  readonly parts: readonly { readonly contentType: string; readonly text: string }[];
}

const splitEntity = (raw: string): MimeEntity => {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end + 4);
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { headers, body };
};

const quotedPrintable = (text: string): Buffer => {
  const joined = text.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i += 1) {
    const char = joined[i] ?? '';
    const hex = joined.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
};

/** The part's body decoded by its `Content-Transfer-Encoding`, as UTF-8 text with `\n` lines. */
const decodeBody = (entity: MimeEntity): string => {
  const encoding = (entity.headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(entity.body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? quotedPrintable(entity.body)
        : Buffer.from(entity.body, 'utf8');
  return bytes.toString('utf8').replace(/\r\n/g, '\n');
};

/** An RFC 2047 header value decoded: `=?UTF-8?Q?…?=` and `=?UTF-8?B?…?=` words. */
export const decodeHeader = (value: string): string =>
  value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(
      /=\?([^?]+)\?([QB])\?([^?]*)\?=/gi,
      (_all, _charset: string, kind: string, text: string) =>
        kind.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64').toString('utf8')
          : quotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );

const leaves = (entity: MimeEntity): { contentType: string; text: string }[] => {
  const contentType = entity.headers.get('content-type')?.[0] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\//i.test(contentType) || boundary === undefined) {
    return [{ contentType, text: decodeBody(entity) }];
  }
  const sections = entity.body.split(`--${boundary}`);
  // Between the first and the closing delimiter (`--boundary--`).
  return sections
    .slice(1, -1)
    .map((section) => splitEntity(section.replace(/^\r\n/, '').replace(/\r\n$/, '')))
    .flatMap(leaves);
};

/** Parses a raw mail as received in DATA. */
export const parseRawMail = (raw: string): ParsedMail => {
  const entity = splitEntity(raw);
  return { ...entity, parts: leaves(entity) };
};

/** The single value of a header, decoded; fails loudly when it is missing or repeated. */
export const header = (mail: MimeEntity, name: string): string => {
  const values = mail.headers.get(name.toLowerCase()) ?? [];
  if (values.length !== 1) throw new Error(`expected one ${name} header, got ${values.length}`);
  return decodeHeader(values[0] ?? '');
};

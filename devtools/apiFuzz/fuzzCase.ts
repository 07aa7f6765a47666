import fc from 'fast-check';
import type { SecurityScheme } from './openApiDocument.js';
import type { Endpoint, Framing, WireRequest } from './wire.js';

/**
 * One generated request, kept structured until it is sent: values that belong to the fixture
 * (an app's id, a binding key) are named, not copied, so a request replayed or shrunk later still
 * names the fixture's current values; the rest is concrete. {@link renderCase} turns it into
 * bytes.
 */

/** A value the fixture holds (an id, a key), looked up by name when the request is sent. */
export class Known {
  constructor(
    readonly name: string,
    readonly index: number,
  ) {}
  toString(): string {
    return `<${this.name}#${this.index}>`;
  }
}

/**
 * Values of one name that are right only on some routes: in the operations whose path starts with
 * `pathPrefix`, a field or parameter `name` takes the fixture's values named `from` (the moderation
 * routes' `messageId` is a held message, the test-push route's one of the person's test pushes).
 */
export interface KnownScope {
  readonly pathPrefix: string;
  readonly name: string;
  readonly from: string;
}

/** JSON text inserted into a body as it is: invalid UTF-8, deep nesting, duplicate keys. */
export class RawJson {
  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
  ) {}
  toString(): string {
    return `raw(${this.label}, ${this.bytes.length} bytes)`;
  }
}

/** A JSON object as an ordered list of members, so `__proto__` and duplicate names stay members. */
export class JsonObject {
  constructor(readonly members: readonly (readonly [string, JsonTree])[]) {}
  toString(): string {
    return `{${this.members.map(([name, value]) => `${JSON.stringify(name)}: ${treeSummary(value)}`).join(', ')}}`;
  }
}

/** A generated JSON value. */
export type JsonTree =
  null | boolean | number | string | readonly JsonTree[] | JsonObject | Known | RawJson;

/** A path or query value: a fixture value, text to percent-encode, or text sent exactly as given. */
export type ParamValue = Known | { readonly text: string } | { readonly raw: string };

/** One segment of the request path. */
export type PathPart =
  { readonly literal: string } | { readonly param: string; readonly value: ParamValue };

/** The credential a request presents. */
export type Credential =
  | { readonly kind: 'none' }
  /** The fixture's own credential for that security scheme. */
  | { readonly kind: 'scheme'; readonly scheme: string }
  /** Something in that scheme's place that is not a valid credential. */
  | { readonly kind: 'wrong'; readonly scheme: string; readonly value: string }
  /** A bearer token of this many bytes (past any header size limit). */
  | { readonly kind: 'huge'; readonly bytes: number };

/** The request body. */
export type Body =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly tree: JsonTree }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly label: string };

/** The families of cases, each a property of its own. */
export type Family = 'credentials' | 'target' | 'body' | 'mutation' | 'method';

/** A generated request. */
export interface FuzzCase {
  readonly family: Family;
  /** The documented operation the request aims at (method lower case, OpenAPI path template). */
  readonly operation: { readonly method: string; readonly path: string };
  /** The method sent (differs from the operation's for the `method` family). */
  readonly method: string;
  readonly path: readonly PathPart[];
  readonly query: readonly (readonly [string, ParamValue])[];
  readonly credential: Credential;
  /** Extra header lines, sent as given. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Body;
  /** `Content-Type` to send; `null` sends none; absent: `application/json` when there is a body. */
  readonly contentType?: string | null;
  readonly framing: Framing;
  /** What was made wrong, for the report ("valid" when nothing was). */
  readonly mutation: string;
}

/** What the fixture supplies to send a case: credentials by scheme name and known values. */
export interface RenderContext {
  readonly endpoint: Endpoint;
  readonly schemes: ReadonlyMap<string, SecurityScheme>;
  readonly credentials: ReadonlyMap<string, string>;
  readonly known: ReadonlyMap<string, readonly string[]>;
  /** Sent as `X-Request-Id`, so every event the request causes can be traced to it. */
  readonly requestId: string;
}

const clip = (text: string, max = 80): string =>
  text.length <= max ? text : `${text.slice(0, max / 2)}…(${text.length})…${text.slice(-max / 4)}`;

/** Control characters and lone surrogates as escapes; everything else as it is. */
const escapeText = (text: string): string =>
  text.replace(
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    /[\u0000-\u001f\u007f-\u00a0]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (char) => {
      const code = char.charCodeAt(0);
      return code < 0x100
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );

/** A short, printable summary of a generated value. */
export const treeSummary = (tree: JsonTree): string => {
  if (tree instanceof Known || tree instanceof RawJson || tree instanceof JsonObject) {
    return tree.toString();
  }
  if (Array.isArray(tree)) return `[${tree.map(treeSummary).join(', ')}]`;
  if (typeof tree === 'string') return JSON.stringify(clip(escapeText(tree)));
  return String(tree);
};

const paramSummary = (value: ParamValue): string =>
  value instanceof Known
    ? value.toString()
    : 'raw' in value
      ? clip(escapeText(value.raw), 60)
      : clip(percentEncode(value.text), 60);

/** One line naming everything a case does (what fast-check prints for a counterexample). */
export const caseSummary = (fuzzCase: FuzzCase): string => {
  const path = fuzzCase.path
    .map((part) => ('literal' in part ? part.literal : paramSummary(part.value)))
    .join('');
  const query = fuzzCase.query
    .map(([name, value]) => `${clip(name, 30)}=${paramSummary(value)}`)
    .join('&');
  const credential =
    fuzzCase.credential.kind === 'scheme'
      ? `as ${fuzzCase.credential.scheme}`
      : fuzzCase.credential.kind === 'wrong'
        ? `wrong ${fuzzCase.credential.scheme} ${JSON.stringify(clip(fuzzCase.credential.value, 40))}`
        : fuzzCase.credential.kind === 'huge'
          ? `a ${fuzzCase.credential.bytes}-byte bearer token`
          : 'no credential';
  const body =
    fuzzCase.body.kind === 'none'
      ? 'no body'
      : fuzzCase.body.kind === 'json'
        ? `json ${clip(treeSummary(fuzzCase.body.tree), 300)}`
        : `bytes(${fuzzCase.body.label}, ${fuzzCase.body.bytes.length})`;
  const extras = [
    ...(fuzzCase.contentType === undefined
      ? []
      : [`content-type ${JSON.stringify(fuzzCase.contentType)}`]),
    ...(fuzzCase.framing.kind === 'length' ? [] : [`framing ${fuzzCase.framing.kind}`]),
    ...fuzzCase.headers.map(([name, value]) => `${name}: ${clip(escapeText(value), 40)}`),
  ];
  return `[${fuzzCase.family}] ${fuzzCase.method.toUpperCase()} ${path}${query === '' ? '' : `?${query}`} · ${credential} · ${body}${extras.length === 0 ? '' : ` · ${extras.join(' · ')}`} · ${fuzzCase.mutation}`;
};

/** Makes a case print as its summary in fast-check's reports. */
export const withSummary = (fuzzCase: FuzzCase): FuzzCase =>
  Object.defineProperty(fuzzCase, fc.toStringMethod, {
    value: () => caseSummary(fuzzCase),
    enumerable: false,
  });

const knownValue = (context: RenderContext, known: Known): string => {
  const values = context.known.get(known.name);
  if (values === undefined || values.length === 0)
    throw new Error(`the fixture has no ${known.name}`);
  return values[known.index % values.length] ?? '';
};

/**
 * Percent-encodes text as encodeURIComponent does, except that a lone surrogate is encoded as the
 * three bytes it would take (`%ED%A0%80`…) instead of throwing: the fuzzer means to send those.
 */
export const percentEncode = (text: string): string => {
  let out = '';
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(index, index + 2));
      index += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16).toUpperCase()}%${(0x80 | ((code >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
    } else {
      out += encodeURIComponent(text[index] ?? '');
    }
  }
  return out;
};

const paramText = (context: RenderContext, value: ParamValue): string =>
  value instanceof Known
    ? percentEncode(knownValue(context, value))
    : 'raw' in value
      ? value.raw
      : percentEncode(value.text);

const jsonBytes = (context: RenderContext, tree: JsonTree, out: Buffer[]): void => {
  if (tree instanceof Known) {
    out.push(Buffer.from(JSON.stringify(knownValue(context, tree))));
  } else if (tree instanceof RawJson) {
    out.push(Buffer.from(tree.bytes));
  } else if (tree instanceof JsonObject) {
    out.push(Buffer.from('{'));
    tree.members.forEach(([name, value], index) => {
      out.push(Buffer.from(`${index === 0 ? '' : ','}${JSON.stringify(name)}:`));
      jsonBytes(context, value, out);
    });
    out.push(Buffer.from('}'));
  } else if (Array.isArray(tree)) {
    out.push(Buffer.from('['));
    tree.forEach((item: JsonTree, index) => {
      if (index > 0) out.push(Buffer.from(','));
      jsonBytes(context, item, out);
    });
    out.push(Buffer.from(']'));
  } else {
    // JSON.stringify writes a lone surrogate as its \uXXXX escape: valid UTF-8, invalid text.
    out.push(Buffer.from(JSON.stringify(tree)));
  }
};

/** The body's bytes, fixture values filled in. */
export const bodyBytes = (context: RenderContext, body: Body): Uint8Array | undefined => {
  if (body.kind === 'none') return undefined;
  if (body.kind === 'bytes') return body.bytes;
  const out: Buffer[] = [];
  jsonBytes(context, body.tree, out);
  return Buffer.concat(out);
};

const credentialHeaders = (context: RenderContext, credential: Credential): [string, string][] => {
  if (credential.kind === 'none') return [];
  if (credential.kind === 'huge')
    return [['Authorization', `Bearer ${'h'.repeat(credential.bytes)}`]];
  const scheme = context.schemes.get(credential.scheme);
  if (scheme === undefined) throw new Error(`no security scheme ${credential.scheme}`);
  const value =
    credential.kind === 'wrong' ? credential.value : context.credentials.get(credential.scheme);
  if (value === undefined)
    throw new Error(`the fixture has no credential for ${credential.scheme}`);
  if (scheme.type === 'http')
    return [['Authorization', `${scheme.scheme === 'bearer' ? 'Bearer' : scheme.scheme} ${value}`]];
  return scheme.in === 'cookie' ? [['Cookie', `${scheme.name}=${value}`]] : [[scheme.name, value]];
};

/** The bytes to send for a case. */
export const renderCase = (context: RenderContext, fuzzCase: FuzzCase): WireRequest => {
  const path = fuzzCase.path
    .map((part) => ('literal' in part ? part.literal : paramText(context, part.value)))
    .join('');
  const query = fuzzCase.query.map(([name, value]) => `${name}=${paramText(context, value)}`);
  const body = bodyBytes(context, fuzzCase.body);
  const contentType =
    fuzzCase.contentType === null
      ? []
      : fuzzCase.contentType !== undefined
        ? [['Content-Type', fuzzCase.contentType] as const]
        : body === undefined
          ? []
          : [['Content-Type', 'application/json'] as const];
  return {
    method: fuzzCase.method.toUpperCase(),
    target: `${path}${query.length === 0 ? '' : `?${query.join('&')}`}`,
    headers: [
      ['X-Request-Id', context.requestId],
      ...credentialHeaders(context, fuzzCase.credential),
      ...contentType,
      ...fuzzCase.headers,
    ],
    ...(body === undefined ? {} : { body }),
    framing: fuzzCase.framing,
  };
};

/** A request as a reader can replay it: request line, headers, and the body (escaped, clipped). */
export const describeWire = (request: WireRequest): string => {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  let utf8 = true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    utf8 = false;
  }
  const show = (bytes: Buffer): string =>
    utf8
      ? escapeText(bytes.toString('utf8'))
      : bytes
          .toString('latin1')
          .replace(
            /[^\x20-\x7e]/g,
            (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
          );
  const preview =
    body === undefined
      ? '(no body)'
      : body.length <= 2000
        ? show(body)
        : `${show(body.subarray(0, 1200))} …(${body.length} bytes in all)… ${show(body.subarray(-200))}`;
  return [
    `${request.method} ${clip(escapeText(request.target), 400)} HTTP/1.1`,
    ...request.headers.map(([name, value]) => `${name}: ${clip(escapeText(value), 200)}`),
    `(framing: ${request.framing.kind}${request.framing.kind === 'chunked' ? `, ${request.framing.chunkSize}-byte chunks` : ''}; body ${utf8 ? 'as UTF-8, controls and lone surrogates escaped' : 'is not UTF-8: bytes outside ASCII as \\xNN'})`,
    preview,
  ].join('\n');
};

import * as t from 'io-ts';

/**
 * Codecs for the few value formats every aggregate shares. They refine `string` and `number`
 * without branding them, so events and commands stay plain JSON types that tests and callers
 * can write as literals.
 */

const isoUtcPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;

/**
 * The pattern, and a time that exists: `Date.parse` rolls `2025-02-30` over to 2 March and
 * `24:00:00` to the next day, so the parsed time must read back with the same fields.
 */
const isIsoUtc = (value: string): boolean => {
  const fields = isoUtcPattern.exec(value);
  const time = Date.parse(value);
  if (fields === null || Number.isNaN(time)) return false;
  const parsed = new Date(time);
  const [, year, month, day, hours, minutes, seconds] = fields.map(Number);
  return (
    parsed.getUTCFullYear() === year &&
    parsed.getUTCMonth() + 1 === month &&
    parsed.getUTCDate() === day &&
    parsed.getUTCHours() === hours &&
    parsed.getUTCMinutes() === minutes &&
    parsed.getUTCSeconds() === seconds
  );
};

/**
 * An ISO 8601 time in UTC with a `Z` suffix, e.g. `2025-01-31T12:00:00.000Z`. Offsets are refused
 * so that every stored time reads the same way in the log; the edge normalises before deciding.
 */
export const IsoTime = new t.Type<string, string, unknown>(
  'IsoTime',
  (u): u is string => typeof u === 'string' && isIsoUtc(u),
  (u, c) =>
    typeof u === 'string' && isIsoUtc(u)
      ? t.success(u)
      : t.failure(u, c, 'expected an ISO 8601 UTC time such as 2025-01-31T12:00:00Z'),
  t.identity,
);

const isHttpUrl = (value: string): boolean => {
  // URL.canParse is not in Node 20.0; parsing and catching keeps the floor in package.json.
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * An absolute http(s) URL (API: redirect URIs, callback URLs and Bark servers are web addresses).
 * Refusing other schemes keeps `javascript:` and `file:` out of redirects and outbound calls;
 * the SSRF check on the host lives at the edge, where the allowlist setting is known.
 */
export const HttpUrl = new t.Type<string, string, unknown>(
  'HttpUrl',
  (u): u is string => typeof u === 'string' && isHttpUrl(u),
  (u, c) =>
    typeof u === 'string' && isHttpUrl(u)
      ? t.success(u)
      : t.failure(u, c, 'expected an absolute http(s) URL'),
  t.identity,
);

const integerAtLeast = (name: string, min: number): t.Type<number, number> => {
  const is = (u: unknown): u is number =>
    typeof u === 'number' && Number.isSafeInteger(u) && u >= min;
  return new t.Type<number, number, unknown>(
    name,
    is,
    (u, c) => (is(u) ? t.success(u) : t.failure(u, c, `expected an integer >= ${min}`)),
    t.identity,
  );
};

/** A whole number from 1 up (attempt numbers, penalty points). */
export const PositiveInt = integerAtLeast('PositiveInt', 1);

/** A whole number from 0 up (attempt counts). */
export const NonNegativeInt = integerAtLeast('NonNegativeInt', 0);

/** A whole number of any sign (reputation scores, which may fall below zero). */
export const Int = integerAtLeast('Int', Number.MIN_SAFE_INTEGER);

/**
 * Command metadata as it travels (see `CommandMetadata` in `shared/decider.ts`): `now` is the
 * only clock a decider reads.
 */
export const CommandMetadataCodec = t.type({ now: IsoTime });

/**
 * An object with required fields `required` and optional fields `optional`, i.e.
 * `t.intersection([t.type(required), t.partial(optional)])`. Its static type marks the optional
 * fields `?`, so under `exactOptionalPropertyTypes` code may leave them out but not set them to
 * `undefined` (decoding, like `t.partial`, lets an explicit `undefined` through).
 */
export const withOptional = <R extends t.Props, O extends t.Props>(
  required: R,
  optional: O,
): t.IntersectionC<[t.TypeC<R>, t.PartialC<O>]> =>
  t.intersection([t.type(required), t.partial(optional)]);

/**
 * The codec of one event as stored: `{ type, data }`, where `type` is the literal event name.
 * The codec's name is io-ts's default, e.g. `{ type: "AppBanned", data: { ... } }`.
 */
export const eventCodec = <T extends string, D extends t.Mixed>(
  type: T,
  data: D,
): t.TypeC<{ type: t.LiteralC<T>; data: D }> => t.type({ type: t.literal(type), data });

/**
 * The codec of one command: `{ type, data, metadata }`, where `type` is the literal command name
 * and `metadata` is {@link CommandMetadataCodec}.
 */
export const commandCodec = <T extends string, D extends t.Mixed>(
  type: T,
  data: D,
): t.TypeC<{ type: t.LiteralC<T>; data: D; metadata: typeof CommandMetadataCodec }> =>
  t.type({ type: t.literal(type), data, metadata: CommandMetadataCodec });

/** What {@link typeNamesOf} needs of each member of a union: a literal `type` field. */
interface TypeTagged {
  readonly props: { readonly type: { readonly value: string } };
}

/**
 * The literal `type` names of a union of {@link eventCodec} or {@link commandCodec} codecs, in
 * the union's order, read off the codecs so a list of names cannot drift from them. Typed as the
 * union of those literals, i.e. `readonly AppEvent['type'][]` for the union of App events.
 */
export const typeNamesOf = <CS extends readonly TypeTagged[]>(union: {
  readonly types: CS;
}): readonly CS[number]['props']['type']['value'][] =>
  union.types.map((codec) => codec.props.type.value);

import { parse, type ParsedUrlQuery } from 'node:querystring';
import { decodeUtf8KeepingFaults } from './utf8.js';

/**
 * The query parser of the app (express's `query parser` setting): `node:querystring` as express's
 * default `simple` parser, except that percent-escapes which are not UTF-8 (`%ff`, an encoded
 * surrogate `%ED%A0%80`) are kept as faults instead of being turned into U+FFFD, so the routes
 * and pages that read the query can refuse them (see `illFormedText`) rather than store altered
 * text. A `%` not followed by two hex digits stays as it is, as in a WHATWG URL.
 */
export const parseQuery = (query: string | null | undefined): ParsedUrlQuery =>
  typeof query === 'string' ? parse(query, '&', '=', { decodeURIComponent: percentDecode }) : {};

/** Percent-decodes one key or value (`+` is a space by then) into text, keeping faults. */
const percentDecode = (component: string): string =>
  decodeUtf8KeepingFaults(
    Buffer.concat(
      component
        .split(ESCAPE)
        .map((part) =>
          /^%[0-9a-fA-F]{2}$/.test(part)
            ? Buffer.of(Number.parseInt(part.slice(1), 16))
            : Buffer.from(part),
        ),
    ),
  );

/** A percent-escape; captured, so the split keeps each escape as a part of its own. */
const ESCAPE = /(%[0-9a-fA-F]{2})/;

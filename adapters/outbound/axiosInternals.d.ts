/**
 * Types for the few axios internals the guarded adapter reuses so that it builds URLs and header
 * values exactly as axios's own http adapter does. axios publishes them under `axios/unsafe/*`
 * (its package `exports`), without type declarations; these are the signatures of axios 1.x.
 */

declare module 'axios/unsafe/core/buildFullPath.js' {
  /** `baseURL` joined with `requestedURL` unless that is absolute (and absolute URLs are allowed). */
  export default function buildFullPath(
    baseURL: string | undefined,
    requestedURL: string | undefined,
    allowAbsoluteUrls: boolean | undefined,
    config?: unknown,
  ): string;
}

declare module 'axios/unsafe/helpers/buildURL.js' {
  /** `url` with the serialised `params` appended as its query. */
  export default function buildURL(url: string, params?: unknown, options?: unknown): string;
}

declare module 'axios/unsafe/helpers/sanitizeHeaderValue.js' {
  import type { AxiosHeaders } from 'axios';

  /** A header value (or each of a list) without the characters Node refuses, spaces trimmed. */
  export function sanitizeByteStringHeaderValue(value: unknown): string | string[];

  /** The headers as a null-prototype object of byte-string values, as axios hands them to Node. */
  export function toByteStringHeaderObject(
    headers: AxiosHeaders,
  ): Record<string, string | string[]>;
}

declare module 'axios/unsafe/core/settle.js' {
  import type { AxiosResponse } from 'axios';

  /** Resolves, or rejects with an `AxiosError`, as the response's `config.validateStatus` says. */
  export default function settle(
    resolve: (response: AxiosResponse) => void,
    reject: (reason: unknown) => void,
    response: AxiosResponse,
  ): void;
}

declare module 'axios/unsafe/helpers/ZlibHeaderTransformStream.js' {
  import type { Transform } from 'node:stream';

  /** Prefixes a raw deflate stream with a zlib header, so `zlib.createUnzip` can read it. */
  export default class ZlibHeaderTransformStream extends Transform {}
}

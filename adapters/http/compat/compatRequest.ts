import type { IncomingHttpHeaders } from 'node:http';
import * as E from 'fp-ts/lib/Either.js';
import type { MessageDraft } from '../../../application/messages/messageDraft.js';
import { MessageBody } from '../api/messageRoutes.js';
import { fieldProblems } from '../problem.js';
import { illFormedText } from '../wellFormedText.js';

/**
 * A binding key as consent hands it out (`tbk_` and 43 base64url characters, adapters/security/
 * secrets.ts). Only such a segment is matched at the root, so no page and no `/v1` route is ever
 * shadowed by the compatible ingress.
 */
export const BINDING_KEY = /^tbk_[A-Za-z0-9_-]{43}$/;

/** A message as a Bark or ntfy sender sent it, in Tidings's terms, for its binding key. */
export type KeyedDraft = MessageDraft & { readonly key: string };

/** Why a compatible request is refused, in the terms both dialects answer with. */
export interface CompatFailure {
  readonly status: number;
  readonly message: string;
  /** ntfy's own error code for this failure (`40007` for a bad priority), when it has one. */
  readonly ntfyCode?: number;
  /** ntfy's documentation link for it. */
  readonly link?: string;
  readonly retryAfterSeconds?: number;
}

/** A request read into a draft, with what its answer echoes (ntfy's `topic`, `priority`). */
export interface CompatMessage {
  readonly draft: KeyedDraft;
  /** The ntfy priority the sender gave (1–5), echoed in its answer. */
  readonly priority?: number;
}

export type Parsed = E.Either<CompatFailure, CompatMessage>;

/** A 400 of either dialect. */
export const badRequest = (message: string, ntfyCode?: number, link?: string): CompatFailure => ({
  status: 400,
  message,
  ...(ntfyCode === undefined ? {} : { ntfyCode }),
  ...(link === undefined ? {} : { link }),
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as UTF-8 text, or undefined when its bytes are not UTF-8. */
export const utf8Text = (bytes: Buffer): string | undefined => {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
};

/** The query string of a request target (`/a/b?x=1` → `x=1`), as senders' URL encoding reads it. */
export const queryOf = (url: string): URLSearchParams => {
  const index = url.indexOf('?');
  return new URLSearchParams(index < 0 ? '' : url.slice(index + 1));
};

/**
 * A path segment decoded as bark-server decodes it (Go's `url.QueryUnescape`): `+` is a space
 * and `%XX` a byte, the bytes UTF-8; undefined when it is not valid percent-encoding of UTF-8.
 */
export const unescapeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};

/** The media type of a request, lower case, without its parameters (`application/json`). */
export const mediaTypeOf = (headers: IncomingHttpHeaders): string =>
  (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

export const isJsonMedia = (mediaType: string): boolean =>
  mediaType === 'application/json' || /^application\/[^/]+\+json$/.test(mediaType);

export const FORM = 'application/x-www-form-urlencoded';

/**
 * A draft checked exactly as `POST /v1/messages` checks its body (the same codec: lengths, URL,
 * level), so nothing reaches the Message aggregate through the compatible ingress that the API
 * would refuse; the failure names each field in the sender's own terms (`names`).
 */
export const checkedDraft = (
  draft: Readonly<Record<string, unknown>>,
  names: Readonly<Record<string, string>>,
): E.Either<CompatFailure, KeyedDraft> => {
  const present = Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== undefined));
  const illFormed = illFormedText(present);
  if (illFormed.length > 0) {
    return E.left(
      badRequest(
        `${illFormed.map((p) => names[p.path.slice(1)] ?? p.path.slice(1)).join(', ')}: not well-formed Unicode text`,
        40011,
      ),
    );
  }
  const decoded = MessageBody.decode(present);
  if (E.isLeft(decoded)) {
    const described = fieldProblems(decoded.left)
      .map((p) => {
        const field = p.path.split('/')[1] ?? '';
        return `${names[field] ?? field} ${p.message}`;
      })
      .join('; ');
    return E.left(badRequest(`invalid request: ${described}`));
  }
  return E.right({ ...decoded.right, key: String(present['key']) });
};

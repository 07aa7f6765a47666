import type { IncomingHttpHeaders } from 'node:http';
import * as E from 'fp-ts/lib/Either.js';
import {
  badRequest,
  checkedDraft,
  FORM,
  isJsonMedia,
  mediaTypeOf,
  queryOf,
  unescapeSegment,
  utf8Text,
  type CompatFailure,
  type Parsed,
} from './compatRequest.js';

/** What a Bark request is read from. */
export interface BarkRequest {
  readonly headers: IncomingHttpHeaders;
  /** The request target, query included (`/tbk_…/title/body?group=g`). */
  readonly url: string;
  readonly body: Buffer;
  /** The key segment of the path forms; undefined for `POST /push`. */
  readonly pathKey?: string;
  /** The raw (still percent-encoded) segments after the key: `[body]`, `[title, body]`, `[title, subtitle, body]`. */
  readonly segments: readonly string[];
}

/** Bark's names of the fields a failure names. */
const barkNames: Readonly<Record<string, string>> = {
  key: 'device_key',
  body: 'body',
  title: 'title',
  subtitle: 'subtitle',
  url: 'url',
  thread: 'group',
  level: 'level',
};

/** Bark's levels, and what Tidings sends for each: never `critical` (docs/api.md). */
const levels: Readonly<Record<string, 'active' | 'timeSensitive' | 'passive'>> = {
  active: 'active',
  timesensitive: 'timeSensitive',
  passive: 'passive',
  critical: 'timeSensitive',
};

/**
 * Reads a Bark push as bark-server reads it (route_push.go): the query's fields, then a form's
 * or a JSON body's (for JSON the query's win, as there), names in any case, then the path's
 * segments (highest), each URL-decoded as Go's `QueryUnescape` does (`+` is a space).
 * `device_key` names the binding key, `group` becomes the thread (else `id`, Bark's collapse id,
 * does), `level` is Bark's with `critical` sent as `timeSensitive`. A missing body is a 400, as
 * docs/api.md says (bark-server would push "NoContent"); Bark's display options (sound, icon,
 * badge, copy, …) have no counterpart and are dropped.
 */
export const parseBark = (request: BarkRequest): Parsed => {
  const fields = barkFields(request);
  if (E.isLeft(fields)) return fields;
  const params = fields.right;
  if (params.has('device_keys')) {
    return E.left(
      badRequest('device_keys (a push to several keys) is not served; send one per key'),
    );
  }
  if (params.get('delete') === '1') {
    return E.left(badRequest('delete is not served here; recall with DELETE /v1/messages/{id}'));
  }
  const positional =
    request.segments.length === 1
      ? ['body']
      : request.segments.length === 2
        ? ['title', 'body']
        : ['title', 'subtitle', 'body'];
  for (const [index, segment] of request.segments.entries()) {
    const value = unescapeSegment(segment);
    if (value === undefined) {
      return E.left(
        badRequest(`the ${positional[index] ?? 'path'} segment is not valid URL encoding`),
      );
    }
    if (value !== '') params.set(positional[index] ?? 'body', value);
  }
  const key = request.pathKey ?? params.get('device_key') ?? '';
  if (key === '') return E.left(badRequest('device key is empty'));
  const body = params.get('body') ?? '';
  if (body === '') return E.left(badRequest('body is empty: send the text of the push as body'));
  const levelName = params.get('level');
  const level = levelName === undefined ? undefined : levels[levelName.toLowerCase()];
  if (levelName !== undefined && level === undefined) {
    return E.left(badRequest('level must be active, timeSensitive, passive or critical'));
  }
  const text = (name: 'title' | 'subtitle'): string | undefined => {
    const value = params.get(name);
    return value === undefined || value === '' ? undefined : value;
  };
  const thread = params.get('group') || params.get('id') || undefined;
  const url = params.get('url') || undefined;
  const draft = checkedDraft(
    { key, body, title: text('title'), subtitle: text('subtitle'), url, thread, level },
    barkNames,
  );
  return E.isLeft(draft) ? draft : E.right({ draft: draft.right });
};

/** The request's fields by lower-case name, in bark-server's order of precedence. */
const barkFields = (request: BarkRequest): E.Either<CompatFailure, Map<string, string>> => {
  const params = new Map<string, string>();
  const put = (name: string, value: unknown): void => {
    // Bark reads text; a number or a boolean is taken as its text, anything else is not a field.
    if (typeof value === 'string') params.set(name.toLowerCase(), value);
    else if (typeof value === 'number' || typeof value === 'boolean') {
      params.set(name.toLowerCase(), String(value));
    } else if (Array.isArray(value) && name.toLowerCase() === 'device_keys') {
      params.set('device_keys', '');
    }
  };
  const query = queryOf(request.url);
  const media = mediaTypeOf(request.headers);
  if (request.body.length > 0 && isJsonMedia(media)) {
    const text = utf8Text(request.body);
    let parsed: unknown;
    try {
      parsed =
        text === undefined ? undefined : (JSON.parse(text.replace(/^\uFEFF/, '')) as unknown);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return E.left(badRequest('request bind failed: the body is not a JSON object in UTF-8'));
    }
    for (const [name, value] of Object.entries(parsed)) put(name, value);
    for (const [name, value] of query) put(name, value);
    return E.right(params);
  }
  for (const [name, value] of query) put(name, value);
  if (request.body.length > 0 && media === FORM) {
    const text = utf8Text(request.body);
    if (text === undefined) return E.left(badRequest('request bind failed: the form is not UTF-8'));
    for (const [name, value] of new URLSearchParams(text)) put(name, value);
  } else if (request.body.length > 0 && media.startsWith('multipart/')) {
    return E.left(
      badRequest(
        'request bind failed: send the fields as JSON or application/x-www-form-urlencoded',
      ),
    );
  }
  return E.right(params);
};

/** Whether a body sent to `POST /:key` is a Bark push (JSON or a form with Bark's fields) rather than ntfy's text. */
export const looksLikeBark = (headers: IncomingHttpHeaders, body: Buffer): boolean => {
  const media = mediaTypeOf(headers);
  const text = utf8Text(body);
  if (text === undefined || text === '') return false;
  if (isJsonMedia(media)) {
    try {
      const parsed = JSON.parse(text) as unknown;
      return (
        parsed !== null &&
        typeof parsed === 'object' &&
        !Array.isArray(parsed) &&
        Object.keys(parsed).some((name) => ['body', 'title'].includes(name.toLowerCase()))
      );
    } catch {
      return false;
    }
  }
  if (media !== FORM || !text.includes('=')) return false;
  return [...new URLSearchParams(text).keys()].some((name) =>
    ['body', 'title'].includes(name.toLowerCase()),
  );
};

/** bark-server's envelope: `code` is the HTTP status; `timestamp` in Unix seconds. */
const envelope = (code: number, message: string, at: Date, data?: unknown) => ({
  code,
  message,
  ...(data === undefined ? {} : { data }),
  timestamp: Math.floor(at.getTime() / 1000),
});

/** bark-server's success, with Tidings's message id and status in `data`. */
export const barkAccepted = (
  message: { readonly messageId: string; readonly status: string },
  at: Date,
) => envelope(200, 'success', at, { messageId: message.messageId, status: message.status });

/** bark-server's error answer. */
export const barkRefused = (failure: CompatFailure, at: Date) =>
  envelope(failure.status, failure.message, at);

/**
 * The answer to a key that reaches nobody here — unknown, or of an app that did not turn
 * compatible ingress on — which is bark-server's answer to an unknown device key.
 */
export const barkUnknownKey = (): CompatFailure =>
  badRequest('failed to get device token: no device has this key');

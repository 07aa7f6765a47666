import { parseRetryAfter } from '../../domain/delivery/retryPolicy.js';
import type { SendOutcome } from '../channel.js';
import type { HttpAnswer, HttpResult } from '../httpClient.js';

/** What was asked of the server: a publish, or a recall (a delete). */
export type NtfyAction = 'publish' | 'delete';

/** ntfy's error answer (`errHTTP` in its errors.go): `{ code, http, error, link? }`. */
interface NtfyError {
  readonly code: number;
  readonly error: string;
}

const parse = (text: string): Record<string, unknown> | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
};

const errorOf = (json: Record<string, unknown> | undefined): NtfyError | undefined => {
  const code = json?.['code'];
  const error = json?.['error'];
  return typeof code === 'number' && typeof error === 'string' ? { code, error } : undefined;
};

/** ntfy's answer to a publish or delete: the message (or event) with its `id` and `event`. */
const isNtfyMessage = (json: Record<string, unknown> | undefined): boolean =>
  typeof json?.['id'] === 'string' && typeof json['event'] === 'string';

/** `40009 topic invalid`, `40010 topic name is not allowed`: the person's topic is wrong. */
const TOPIC_ERRORS: ReadonlySet<number> = new Set([40009, 40010]);

const SNIPPET_CHARS = 200;

/** A short, single-line excerpt of a body or header for a reason string. */
const snippet = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length <= SNIPPET_CHARS ? line : `${chars.slice(0, SNIPPET_CHARS).join('')}…`;
};

/** The token is masked wherever the server's (or a proxy's) words are quoted. */
const redact = (text: string, token: string): string =>
  token === '' ? text : text.split(token).join('<token>');

/**
 * Maps one answer to an outcome (the table in `docs/ntfy.md` "Answers"):
 *
 * - 200 with ntfy's message JSON (`id`, `event`) → delivered. Any other 2xx, or a 200 that is not
 *   that JSON (a captive portal, a misrouted proxy), → failed, saying so.
 * - 3xx → rejected (`misconfigured`): redirects are not followed, and would come back every time.
 * - 400 → rejected: `misconfigured` for a topic ntfy refuses (40009, 40010), `bad_request` else.
 * - 401, 403 (a token that is wrong, or lacks write access; a protected topic and no token), 404,
 *   405, 410 (not an ntfy server root; for a delete, a server older than 2.16) → rejected
 *   (`misconfigured`).
 * - 413 and every other 4xx except 408, 425 and 429 → rejected (`bad_request`).
 * - 408, 425, 429 (ntfy's visitor limits), 507 and every other 5xx → failed, with `retryAfterMs`
 *   when a `Retry-After` header says when.
 */
const outcomeOfAnswer = (
  answer: HttpAnswer,
  action: NtfyAction,
  token: string,
  now: number,
): SendOutcome => {
  const { status, body } = answer;
  const json = parse(body);
  const ntfyError = errorOf(json);
  const said = redact(snippet(ntfyError?.error ?? body), token);
  const answered = `the ntfy server answered ${status}${said === '' ? '' : `: ${said}`}`;

  if (status === 200 && isNtfyMessage(json)) return { kind: 'delivered' };
  if (status >= 200 && status < 300) {
    return {
      kind: 'failed',
      reason: `the ntfy server answered ${status} without a message ({"id":…,"event":…}): ${said === '' ? 'empty body' : said}`,
    };
  }
  if (status >= 300 && status < 400) {
    const location = answer.headers['location'];
    const target = location === undefined ? 'nowhere' : redact(snippet(location), token);
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: `the ntfy server answered ${status}, a redirect to ${target}; redirects are not followed, so the server URL must be the final one`,
    };
  }
  if (status === 400) {
    const topic = ntfyError !== undefined && TOPIC_ERRORS.has(ntfyError.code);
    return { kind: 'rejected', code: topic ? 'misconfigured' : 'bad_request', reason: answered };
  }
  if (status === 401 || status === 403) {
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: `${answered} (the topic needs a token with write access)`,
    };
  }
  if (status === 404 || status === 405 || status === 410) {
    const hint =
      action === 'delete'
        ? 'not an ntfy server root, or one older than 2.16, which cannot delete notifications'
        : 'not an ntfy server root';
    return { kind: 'rejected', code: 'misconfigured', reason: `${answered} (${hint})` };
  }
  if (status >= 400 && status < 500 && ![408, 425, 429].includes(status)) {
    return { kind: 'rejected', code: 'bad_request', reason: answered };
  }
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
  return retryAfterMs === undefined
    ? { kind: 'failed', reason: answered }
    : { kind: 'failed', reason: answered, retryAfterMs };
};

/**
 * Maps what became of one request to an outcome: an answer as {@link outcomeOfAnswer} says;
 * refused by the outbound guard → rejected (`forbidden_destination`), except a host name that did
 * not resolve (`unresolvable`, DNS can come back) → failed; a timeout or a network failure →
 * failed. `token` is masked in quoted text; `now` (ms) dates a `Retry-After`.
 */
export const outcomeOfNtfyResult = (
  result: HttpResult,
  action: NtfyAction,
  token: string,
  now: number,
): SendOutcome => {
  switch (result.kind) {
    case 'answered':
      return outcomeOfAnswer(result, action, token, now);
    case 'refused':
      return result.reason === 'unresolvable'
        ? { kind: 'failed', reason: result.detail }
        : {
            kind: 'rejected',
            code: 'forbidden_destination',
            reason: `the ntfy server address is not allowed: ${result.detail}`,
          };
    case 'timed_out':
      return {
        kind: 'failed',
        reason: `the ntfy server did not answer within ${result.timeoutMs} ms`,
      };
    case 'failed':
      return {
        kind: 'failed',
        reason: `could not reach the ntfy server (${result.code}): ${redact(result.message, token)}`,
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

import { parseRetryAfter } from '../../domain/delivery/retryPolicy.js';
import type { SendOutcome } from '../channel.js';
import type { HttpAnswer, HttpResult } from '../httpClient.js';

/** bark-server's answer envelope (`CommonResp` in its router.go); the HTTP status equals `code`. */
interface Envelope {
  readonly code: number;
  readonly message: string;
}

const envelopeOf = (text: string): Envelope | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { code, message } = parsed as Record<string, unknown>;
  return typeof code === 'number' && typeof message === 'string' ? { code, message } : undefined;
};

const SNIPPET_CHARS = 200;

/** A short, single-line excerpt of a body or header for a reason string. */
const snippet = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length <= SNIPPET_CHARS ? line : `${chars.slice(0, SNIPPET_CHARS).join('')}…`;
};

/**
 * bark-server echoes the device key back (`failed to get [KEY] device token from database`); the
 * key is a secret and reasons end up in events and logs, so it is masked.
 */
const redact = (text: string, deviceKey: string): string =>
  deviceKey === '' ? text : text.split(deviceKey).join('<device key>');

/**
 * Apple's reasons for a token that will never work again. Current bark-server answers them as
 * `500 push failed: <reason>` (not the 400 the older docs describe), so they are recognised here:
 * retrying a dead token six times would only delay telling the person their device is gone.
 */
const DEAD_TOKEN = /\b(Unregistered|BadDeviceToken|DeviceTokenNotForTopic|ExpiredToken)\b/;

/**
 * Maps one answer to an outcome, following bark-server's behaviour (see
 * `docs/bark.md`):
 *
 * - 200 with the success envelope (`code` 200) → delivered. Any other 2xx, or a 200 whose body is
 *   not that envelope, is not bark-server speaking (a captive portal, a misrouted proxy): failed,
 *   saying so.
 * - 3xx → rejected (`misconfigured`). Redirects are never followed (SSRF), and a server URL that
 *   redirects (http → https, a moved host) will redirect on every retry too; the reason names the
 *   target so the person can correct the URL.
 * - 400 → rejected with the server's message: `failed to get device token: …` (unknown key or a
 *   token Apple invalidated) is `device_unknown`; `device key is empty`, `request bind failed: …`
 *   and the rest are `bad_request`.
 * - 404, 410 (wrong server URL), 418 (the server wants Basic auth), 401, 403, 405 →
 *   rejected (`misconfigured`); any other 4xx except 408, 425 and 429 → rejected (`bad_request`).
 * - 500 `push failed: Unregistered` (or BadDeviceToken, DeviceTokenNotForTopic, ExpiredToken):
 *   Apple says the token is dead → rejected (`device_unknown`).
 * - 408, 425, 429 and every other 5xx (500 `push failed: …` when Apple refused or was unreachable,
 *   and 502/503/504 from proxies) → failed, with `retryAfterMs` when a `Retry-After` header says when.
 *
 * Reasons quote the server's message (or an excerpt of a non-envelope body) with the device key
 * masked.
 */
const outcomeOfAnswer = (answer: HttpAnswer, deviceKey: string, now: number): SendOutcome => {
  const { status, body: text } = answer;
  const location = answer.headers['location'];
  const envelope = envelopeOf(text);
  const said = redact(snippet(envelope?.message ?? text), deviceKey);
  const answered = `bark-server answered ${status}${said === '' ? '' : `: ${said}`}`;

  if (status === 200 && envelope?.code === 200) return { kind: 'delivered' };
  if (status >= 200 && status < 300) {
    return {
      kind: 'failed',
      reason: `bark-server answered ${status} without its success envelope ({"code":200,…}): ${said === '' ? 'empty body' : said}`,
    };
  }
  if (status >= 300 && status < 400) {
    const target = location === undefined ? 'nowhere' : redact(snippet(location), deviceKey);
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: `bark-server answered ${status}, a redirect to ${target}; redirects are not followed, so the server URL must be the final one`,
    };
  }
  if (status === 400) {
    const unknownDevice = envelope?.message.startsWith('failed to get device token') === true;
    return {
      kind: 'rejected',
      code: unknownDevice ? 'device_unknown' : 'bad_request',
      reason: answered,
    };
  }
  if ([401, 403, 404, 405, 410, 418].includes(status)) {
    return { kind: 'rejected', code: 'misconfigured', reason: answered };
  }
  if (status >= 400 && status < 500 && ![408, 425, 429].includes(status)) {
    return { kind: 'rejected', code: 'bad_request', reason: answered };
  }
  if (status === 500 && envelope !== undefined && DEAD_TOKEN.test(envelope.message)) {
    return { kind: 'rejected', code: 'device_unknown', reason: answered };
  }
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
  return retryAfterMs === undefined
    ? { kind: 'failed', reason: answered }
    : { kind: 'failed', reason: answered, retryAfterMs };
};

/**
 * Maps what became of one request to an outcome: an answer as {@link outcomeOfAnswer} says, and
 * a request that got none thus:
 *
 * - refused by the outbound guard → rejected (`forbidden_destination`): the address is not
 *   allowed, and retrying cannot change that. The one exception is a host name that did not
 *   resolve (`unresolvable`): DNS can come back, so that is failed.
 * - a timeout, a refused or reset connection, a DNS failure at connect time, an oversized answer
 *   → failed.
 *
 * `deviceKey` is masked wherever the server's words are quoted; `now` (ms) dates a `Retry-After`.
 */
export const outcomeOfResult = (
  result: HttpResult,
  deviceKey: string,
  now: number,
): SendOutcome => {
  switch (result.kind) {
    case 'answered':
      return outcomeOfAnswer(result, deviceKey, now);
    case 'refused':
      return result.reason === 'unresolvable'
        ? { kind: 'failed', reason: result.detail }
        : {
            kind: 'rejected',
            code: 'forbidden_destination',
            reason: `the bark-server address is not allowed: ${result.detail}`,
          };
    case 'timed_out':
      return { kind: 'failed', reason: `bark-server did not answer within ${result.timeoutMs} ms` };
    case 'failed':
      return {
        kind: 'failed',
        reason: `could not reach bark-server (${result.code}): ${result.message}`,
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

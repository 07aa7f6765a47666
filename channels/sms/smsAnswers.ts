import { parseRetryAfter } from '../../domain/delivery/retryPolicy.js';
import type { SendOutcome } from '../channel.js';
import type { HttpAnswer, HttpResult } from '../httpClient.js';

/**
 * The gateway's error codes that say the number will never receive an SMS as it is: it does not
 * exist or cannot take SMS (`unknown_number`), it is not a valid number (`invalid_number`), or its
 * owner opted out by answering STOP (`opted_out`). Each marks the device broken.
 */
export const SMS_DEAD_NUMBER_CODES: readonly string[] = [
  'unknown_number',
  'invalid_number',
  'opted_out',
];

/** The error body of docs/sms.md: `{ "code": "…", "message": "…" }`, both optional. */
interface GatewayError {
  readonly code?: string;
  readonly message?: string;
}

const errorOf = (text: string): GatewayError => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { code, message } = parsed as Record<string, unknown>;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
};

const SNIPPET_CHARS = 200;

/** A short, single-line excerpt of a body or header for a reason string. */
const snippet = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length <= SNIPPET_CHARS ? line : `${chars.slice(0, SNIPPET_CHARS).join('')}…`;
};

/**
 * Masks the phone number and the token wherever the gateway's words are quoted: reasons end up in
 * events, the API and logs, and a gateway may well echo the number it refused. The number is
 * also masked without its `+`, as many providers write it.
 */
const redact = (text: string, secrets: readonly string[]): string =>
  secrets
    .filter((secret) => secret.length >= 4)
    .reduce((masked, secret) => masked.split(secret).join('<redacted>'), text);

/** What the gateway needs masked in a reason: the number (with and without `+`) and the token. */
export interface Masked {
  readonly phone: string;
  readonly token: string;
}

const secretsOf = ({ phone, token }: Masked): readonly string[] => [
  token,
  phone,
  phone.replace(/^\+/, ''),
];

/**
 * Maps the gateway's answer to an outcome, as docs/sms.md "The answer" defines:
 *
 * - 2xx → delivered (the gateway took the SMS; a body, such as `{ "id": "…" }`, is not needed).
 * - 3xx → rejected (`misconfigured`): redirects are never followed, and the URL will redirect
 *   on every retry too.
 * - any 4xx whose body has `code` `unknown_number`, `invalid_number` or `opted_out` → rejected
 *   (`device_unknown`): the device is marked broken until the person saves a working number.
 * - 401, 403 (the token), 404, 405, 410 (the URL) → rejected (`misconfigured`): the operator must
 *   fix the settings.
 * - 408, 425, 429 → failed, after the `Retry-After` the gateway gave.
 * - any other 4xx (400, 413, 422…) → rejected (`bad_request`).
 * - 5xx → failed, after the `Retry-After` the gateway gave.
 */
const outcomeOfAnswer = (answer: HttpAnswer, masked: Masked, now: number): SendOutcome => {
  const { status } = answer;
  const error = errorOf(answer.body);
  const said = redact(
    snippet(
      error.code === undefined
        ? (error.message ?? answer.body)
        : `${error.code}${error.message === undefined ? '' : ` (${error.message})`}`,
    ),
    secretsOf(masked),
  );
  const answered = `the SMS gateway answered ${status}${said === '' ? '' : `: ${said}`}`;

  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status >= 300 && status < 400) {
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: `the SMS gateway answered ${status}, a redirect; redirects are not followed, so TIDINGS_SMS_GATEWAY_URL must be the final address`,
    };
  }
  if (
    status >= 400 &&
    status < 500 &&
    error.code !== undefined &&
    SMS_DEAD_NUMBER_CODES.includes(error.code)
  ) {
    return { kind: 'rejected', code: 'device_unknown', reason: answered };
  }
  if ([401, 403, 404, 405, 410].includes(status)) {
    return { kind: 'rejected', code: 'misconfigured', reason: answered };
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
 * Maps what became of one request to an outcome: an answer as above; a refusal of the outbound
 * guard → rejected (`forbidden_destination`; an operator on a private network lists the gateway's
 * host in `TIDINGS_OUTBOUND_ALLOWLIST`), except a name that did not resolve, which may come back
 * (failed); a timeout or a network failure → failed. `now` (ms) dates a `Retry-After`.
 */
export const outcomeOfSmsResult = (
  result: HttpResult,
  masked: Masked,
  now: number,
): SendOutcome => {
  switch (result.kind) {
    case 'answered':
      return outcomeOfAnswer(result, masked, now);
    case 'refused':
      return result.reason === 'unresolvable'
        ? { kind: 'failed', reason: result.detail }
        : {
            kind: 'rejected',
            code: 'forbidden_destination',
            reason: `the SMS gateway's address is not allowed: ${result.detail}`,
          };
    case 'timed_out':
      return {
        kind: 'failed',
        reason: `the SMS gateway did not answer within ${result.timeoutMs} ms`,
      };
    case 'failed':
      return {
        kind: 'failed',
        reason: `could not reach the SMS gateway (${result.code}): ${redact(result.message, secretsOf(masked))}`,
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

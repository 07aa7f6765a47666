import { isAxiosError } from 'axios';
import type { AxiosInstance, AxiosResponse, RawAxiosRequestHeaders } from 'axios';
import type {
  HttpClient,
  HttpRequest,
  HttpResult,
  RefusalReason,
} from '../../channels/httpClient.js';
import { createGuardedAxios, destinationProblemOf } from './destinationGuard.js';
import type { DestinationReason, GuardedAxiosOptions } from './destinationGuard.js';

/**
 * The guard's reasons are the port's: a reason added to the guard and not to the port fails to
 * compile here rather than reaching a channel as something it cannot name.
 */
const refusalReason = (reason: DestinationReason): RefusalReason => reason;

/**
 * The request's headers as axios gets them. axios would add `Content-Type:
 * application/x-www-form-urlencoded` to a POST, PUT or PATCH that names none; a `null` value
 * tells it not to, so the peer gets exactly the type the channel gave (or none).
 */
const headersOf = (request: HttpRequest): RawAxiosRequestHeaders => {
  const given = request.headers;
  if (given !== undefined && Object.keys(given).some((name) => /^content-type$/i.test(name))) {
    return given;
  }
  return { ...given, 'Content-Type': null };
};

/** A header value as the port has it: repeated headers joined (RFC 9110 §5.3), no non-values. */
const headerText = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  return undefined;
};

/** The answer's headers, names lower-case (own properties only: no prototype tricks). */
const answerHeaders = (response: AxiosResponse): Record<string, string> =>
  Object.fromEntries(
    Object.entries(response.headers as Record<string, unknown>).flatMap(([name, value]) => {
      const text = headerText(value);
      return text === undefined ? [] : [[name.toLowerCase(), text]];
    }),
  );

/**
 * What a request that got no answer amounts to. A guard refusal is recognised whether it is the
 * guard's own error (a URL refused before sending) or the axios error wrapping it (an address
 * refused at connect time). axios reports its timeout as `ECONNABORTED` "timeout of …ms
 * exceeded" (`ETIMEDOUT` with `clarifyTimeoutError`, and from the operating system's connect
 * timeout); every other code is passed on as it is.
 */
const resultOfError = (error: unknown, timeoutMs: number): HttpResult => {
  const problem = destinationProblemOf(error);
  if (problem !== undefined) {
    return { kind: 'refused', reason: refusalReason(problem.reason), detail: problem.detail };
  }
  if (isAxiosError(error)) {
    const code = error.code ?? 'ERR_UNKNOWN';
    if (code === 'ETIMEDOUT' || (code === 'ECONNABORTED' && /timeout/i.test(error.message))) {
      return { kind: 'timed_out', timeoutMs };
    }
    return { kind: 'failed', code, message: error.message };
  }
  // Node refusing a request outright (say, an invalid header name) rejects with its own error.
  const code = (error as { code?: unknown } | null)?.code;
  return {
    kind: 'failed',
    code: typeof code === 'string' ? code : 'ERR_UNKNOWN',
    message: error instanceof Error ? error.message : String(error),
  };
};

/**
 * The port over a guarded axios instance: one axios request per call, the body sent as text and
 * the answer read as text (no JSON guessing either way: `transformRequest` and
 * `transformResponse` are empty), every outcome resolved as an {@link HttpResult}.
 */
const clientOver = (instance: AxiosInstance): HttpClient => ({
  request: async (request) => {
    const timeoutMs = request.timeoutMs ?? instance.defaults.timeout ?? 0;
    try {
      const response = await instance.request<unknown>({
        method: request.method,
        url: request.url,
        data: request.body,
        timeout: timeoutMs,
        headers: headersOf(request),
        responseType: 'text',
        transformRequest: [],
        transformResponse: [],
      });
      return {
        kind: 'answered',
        status: response.status,
        headers: answerHeaders(response),
        body: typeof response.data === 'string' ? response.data : '',
      };
    } catch (error) {
      return resultOfError(error, timeoutMs);
    }
  },
});

/**
 * The HTTP client every channel sends with (docs/plugins.md): {@link createGuardedAxios} behind
 * the channels' port. It keeps all the guard promises — the destination checked before sending
 * and every address again at connect time (refused: `refused`, nothing sent), no redirect
 * followed (a 3xx is an answer), every status an answer, the whole exchange within `timeoutMs`
 * (default 5 s; a request may set its own), answers over `maxResponseBytes` (default 1 MiB)
 * refused as `failed` `ERR_BAD_RESPONSE` — and never rejects.
 */
export const createGuardedHttpClient = (options: GuardedAxiosOptions): HttpClient =>
  clientOver(createGuardedAxios(options));

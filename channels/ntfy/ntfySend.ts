import type { ChannelContext, SendOutcome } from '../channel.js';
import type { HttpRequest, HttpResult } from '../httpClient.js';
import { outcomeOfNtfyResult } from './ntfyAnswers.js';
import type { NtfyRequest } from './ntfyChannel.js';

/** `Authorization: Bearer <token>` when there is a token; nothing otherwise. */
const authorization = (token: string | undefined): Readonly<Record<string, string>> =>
  token === undefined ? {} : { Authorization: `Bearer ${token}` };

/**
 * One attempt with `context.http` (the guarded client: no redirects followed, every status an
 * answer, the address checked at connect time): a publish is `POST` of the JSON body, a recall a
 * `DELETE`; an `invalid` request is rejected (`misconfigured`) without sending. Never throws. An
 * outcome other than delivered is logged at debug level with the URL and the status, never the
 * headers, which hold the token.
 */
export const sendNtfy = async (
  request: NtfyRequest,
  context: ChannelContext,
  timeoutMs: number,
): Promise<SendOutcome> => {
  if (request.kind === 'invalid') {
    return { kind: 'rejected', code: 'misconfigured', reason: request.reason };
  }
  const http: HttpRequest =
    request.kind === 'publish'
      ? {
          method: 'POST',
          url: request.url,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            ...authorization(request.token),
          },
          body: JSON.stringify(request.body),
          timeoutMs,
        }
      : { method: 'DELETE', url: request.url, headers: authorization(request.token), timeoutMs };
  const result: HttpResult = await context.http.request(http);
  const outcome = outcomeOfNtfyResult(
    result,
    request.kind,
    request.token ?? '',
    context.now().getTime(),
  );
  if (outcome.kind !== 'delivered') {
    context.logger.debug('ntfy request not delivered', {
      url: request.url,
      recall: request.kind === 'delete',
      ...(result.kind === 'answered' ? { status: result.status } : { result: result.kind }),
      ...outcome,
    });
  }
  return outcome;
};

import type { ChannelContext, SendOutcome } from '../channel.js';
import { outcomeOfResult } from './barkAnswers.js';
import type { BarkRequest } from './barkChannel.js';

/**
 * One attempt: `POST` the request as JSON with `context.http` (the guarded client: no redirects
 * followed, every status an answer, the address checked at connect time) and map what became of
 * it with {@link outcomeOfResult}. Never throws; an outcome other than delivered is logged at
 * debug level, with the URL but never the body, which holds the device key.
 */
export const sendBark = async (
  request: BarkRequest,
  context: ChannelContext,
  timeoutMs: number,
): Promise<SendOutcome> => {
  const result = await context.http.request({
    method: 'POST',
    url: request.url,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(request.body),
    timeoutMs,
  });
  const outcome = outcomeOfResult(result, request.body.device_key, context.now().getTime());
  if (outcome.kind !== 'delivered') {
    context.logger.debug('bark push not delivered', {
      url: request.url,
      recall: 'delete' in request.body,
      ...outcome,
    });
  }
  return outcome;
};

import type { ChannelContext, SendOutcome } from '../channel.js';
import { outcomeOfWebhookResult } from './webhookAnswers.js';
import type { WebhookRequest } from './webhookChannel.js';
import { bodyOf } from './webhookEvent.js';
import { signatureOf } from './webhookSecret.js';

/**
 * The endpoint's origin (scheme, host, port) for logs: a hook URL's path is often its only
 * credential (`/hooks/catch/123/abc`), so it is left out.
 */
const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid URL>';
  }
};

/**
 * One attempt: the body written and signed now, at `context.now()` (whole seconds, which both
 * `webhook-timestamp` and the body's `timestamp` carry), so that each retry has a fresh timestamp
 * and signature under the same `webhook-id`; then `POST` through `context.http` (the guarded
 * client) and map what became of it with {@link outcomeOfWebhookResult}. A device whose secret
 * cannot sign is rejected (`misconfigured`) without sending anything unsigned. Never throws; an
 * outcome other than delivered is logged at debug level with the endpoint's origin and the event
 * id, never the URL's path, the body or the secret.
 */
export const sendWebhook = async (
  request: WebhookRequest,
  context: ChannelContext,
  timeoutMs: number,
): Promise<SendOutcome> => {
  let outcome: SendOutcome;
  if (request.key.kind === 'invalid') {
    outcome = { kind: 'rejected', code: 'misconfigured', reason: request.key.reason };
  } else {
    const seconds = Math.floor(context.now().getTime() / 1000);
    const body = bodyOf(request.event, new Date(seconds * 1000));
    const result = await context.http.request({
      method: 'POST',
      url: request.url,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'webhook-id': request.event.id,
        'webhook-timestamp': String(seconds),
        'webhook-signature': signatureOf(request.key.bytes, request.event.id, seconds, body),
      },
      body,
      timeoutMs,
    });
    outcome = outcomeOfWebhookResult(result, context.now().getTime());
  }
  if (outcome.kind !== 'delivered') {
    context.logger.debug('webhook not delivered', {
      endpoint: originOf(request.url),
      webhookId: request.event.id,
      type: request.event.type,
      ...outcome,
    });
  }
  return outcome;
};

import type { ChannelContext, SendOutcome } from '../channel.js';
import { outcomeOfSmsResult } from './smsAnswers.js';
import type { SmsRequest } from './smsChannel.js';

/** E.164 as the `phone` setting type defines it: `+`, then 8–15 digits, the first not 0. */
const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * The gateway's origin (scheme, host, port) for logs: its path or query may carry a credential of
 * the provider's (`?key=…`), so the rest is left out.
 */
export const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid URL>';
  }
};

/**
 * One attempt: `POST` the message as JSON to the gateway with `Authorization: Bearer <token>`
 * through `context.http` (the guarded client), and map what became of it with
 * {@link outcomeOfSmsResult}. A number that is not E.164 (the settings are checked when a device is
 * saved, so only an old or hand-made device has one) is refused without asking the gateway. Never
 * throws; an outcome other than delivered is logged at debug level with the gateway's origin and
 * the message's reference, never the number, the text or the token.
 */
export const sendSms = async (
  request: SmsRequest,
  context: ChannelContext,
  timeoutMs: number,
): Promise<SendOutcome> => {
  const outcome: SendOutcome = E164.test(request.message.to)
    ? outcomeOfSmsResult(
        await context.http.request({
          method: 'POST',
          url: request.url,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            Authorization: `Bearer ${request.token}`,
          },
          body: JSON.stringify(request.message),
          timeoutMs,
        }),
        { phone: request.message.to, token: request.token },
        context.now().getTime(),
      )
    : {
        kind: 'rejected',
        code: 'device_unknown',
        reason: 'the phone number is not in E.164 form (+, country code, number: 8 to 15 digits)',
      };
  if (outcome.kind !== 'delivered') {
    context.logger.debug('sms not delivered', {
      gateway: originOf(request.url),
      reference: request.message.reference,
      ...outcome,
    });
  }
  return outcome;
};

import type { Channel, OutgoingMessage } from '../channel.js';
import { sendSms } from './smsSend.js';
import { smsTextOf } from './smsText.js';

/** A person's SMS device: one phone number. */
export interface SmsSettings {
  /** E.164: `+`, the country code and the number, 8–15 digits in all (`+8613800138000`). */
  readonly phone: string;
}

/** The JSON body Tidings posts to the gateway (docs/sms.md "The request"). */
export interface SmsGatewayMessage {
  /** The recipient's number, E.164. */
  readonly to: string;
  /** The whole text, app name first, at most three SMS long. */
  readonly text: string;
  /** The message's id: the same on every retry, so the gateway can drop a repeat. */
  readonly reference: string;
}

/** One request to the gateway. Holds the operator's token and a phone number: never log either. */
export interface SmsRequest {
  readonly url: string;
  readonly token: string;
  readonly message: SmsGatewayMessage;
}

/** Options of {@link createSmsChannel}: where the operator's gateway is and how to sign in to it. */
export interface SmsChannelOptions {
  /** The gateway's endpoint (`TIDINGS_SMS_GATEWAY_URL`), posted to as is. */
  readonly gatewayUrl: string;
  /** Sent as `Authorization: Bearer <token>` (`TIDINGS_SMS_GATEWAY_TOKEN`). */
  readonly token: string;
  /** Time limit of one attempt, connection included; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * The request for a message: the gateway's URL and token from the operator, the person's number,
 * the text of {@link smsTextOf} and the message id as the reference. Pure.
 */
export const renderSms = (
  options: Pick<SmsChannelOptions, 'gatewayUrl' | 'token'>,
  message: OutgoingMessage,
  settings: SmsSettings,
): SmsRequest => ({
  url: options.gatewayUrl,
  token: options.token,
  message: { to: settings.phone, text: smsTextOf(message), reference: message.messageId },
});

/**
 * The `sms` channel, sending through the operator's HTTP SMS gateway (docs/sms.md). One setting,
 * `phone` (E.164, required). No recall: an SMS cannot be taken back once sent. The server builds
 * it only when both `TIDINGS_SMS_GATEWAY_URL` and `TIDINGS_SMS_GATEWAY_TOKEN` are set:
 * `createSmsChannel(settings.sms)`.
 */
export const createSmsChannel = (options: SmsChannelOptions): Channel<SmsSettings, SmsRequest> => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const gateway = { gatewayUrl: options.gatewayUrl, token: options.token };
  return {
    kind: 'sms',
    name: 'SMS',
    settings: [
      {
        name: 'phone',
        description: 'Mobile number with country code, e.g. +8613800138000',
        type: 'phone',
        secret: false,
        required: true,
      },
    ],
    render: (message, settings) => renderSms(gateway, message, settings),
    send: (request, context) => sendSms(request, context, timeoutMs),
  };
};

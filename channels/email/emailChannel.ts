import type { Channel } from '../channel.js';
import { sendEmail } from './emailSend.js';
import { renderEmail, type EmailSettings } from './emailRender.js';
import { isMailAddress } from './mailAddress.js';
import type { MailAddress, MailTransport, RenderedMail } from './mailTransport.js';

/** What the `email` channel is built from: the server's SMTP transport and its sender. */
export interface EmailChannelOptions {
  /** The SMTP transport (the server's: `adapters/outbound/smtpTransport.ts`). */
  readonly transport: MailTransport;
  /**
   * The sender of every mail (`TIDINGS_SMTP_FROM`); its domain is the right part of every
   * `Message-ID` and thread root id.
   */
  readonly from: MailAddress;
}

/**
 * The `email` channel: one mail per message, through the operator's SMTP server. One setting,
 * `address` (type `email`, required, not secret: the person sees it on the devices page, but it
 * is never logged). The channel has no `renderRecall`: a mail cannot be taken back.
 *
 * Unlike the HTTP channels it does not send through `context.http`: SMTP is not HTTP, and the
 * server it connects to is the operator's setting, not the person's (docs/email.md).
 *
 * Throws when `from` is not one plain address: that is a bug of the caller, whose settings
 * parsing checks it first.
 */
export const createEmailChannel = (
  options: EmailChannelOptions,
): Channel<EmailSettings, RenderedMail> => {
  const { transport, from } = options;
  if (!isMailAddress(from.address)) {
    throw new Error('the email channel needs a plain sender address (local@domain)');
  }
  return {
    kind: 'email',
    name: 'Email',
    settings: [
      {
        name: 'address',
        description: 'The email address messages are sent to',
        type: 'email',
        secret: false,
        required: true,
      },
    ],
    render: (message, settings) => renderEmail(message, settings, from),
    send: (mail, context) => sendEmail(transport, mail, context),
  };
};

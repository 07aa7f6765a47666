import type { ChannelContext, SendOutcome } from '../channel.js';
import { outcomeOfMail } from './emailAnswers.js';
import { isMailAddress } from './mailAddress.js';
import type { MailResult, MailTransport, RenderedMail } from './mailTransport.js';

/** A transport that broke its promise never to reject still gives a result. */
const sendSafely = async (transport: MailTransport, mail: RenderedMail): Promise<MailResult> => {
  try {
    return await transport.send(mail);
  } catch (error) {
    return {
      kind: 'failed',
      code: 'ERR_UNKNOWN',
      message: error instanceof Error ? error.name : 'the mail transport threw',
    };
  }
};

/**
 * One attempt: check that the address is one plain mailbox (a saved device is validated, but a
 * list or a header smuggled into it must never reach the SMTP library), send through the
 * transport and map the result with {@link outcomeOfMail}. Never throws.
 *
 * The log line of an attempt names the mail by its `Message-ID` and the outcome by its kind, code
 * and SMTP reply code; never the address, the subject or the content, which are personal data.
 */
export const sendEmail = async (
  transport: MailTransport,
  mail: RenderedMail,
  context: ChannelContext,
): Promise<SendOutcome> => {
  if (!isMailAddress(mail.to)) {
    context.logger.debug('email not sent: the address is not one plain mailbox', {
      messageId: mail.messageId,
    });
    return {
      kind: 'rejected',
      code: 'misconfigured',
      reason: 'the email address is not one plain address (local@domain)',
    };
  }
  const result = await sendSafely(transport, mail);
  const outcome = outcomeOfMail(result);
  const fields = {
    messageId: mail.messageId,
    outcome: outcome.kind,
    ...(outcome.kind === 'rejected' && outcome.code !== undefined ? { code: outcome.code } : {}),
    ...(result.kind === 'answered' ? { smtpCode: result.code, stage: result.stage } : {}),
    ...(result.kind === 'failed' ? { network: result.code } : {}),
  };
  context.logger.debug(
    outcome.kind === 'delivered' ? 'email delivered' : 'email not delivered',
    fields,
  );
  return outcome;
};

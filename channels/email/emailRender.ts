import type { OutgoingMessage } from '../channel.js';
import { htmlPart, textPart } from './emailBody.js';
import { messageIdFor, subjectOf, threadOf, threadRootFor } from './emailHeaders.js';
import { domainOf } from './mailAddress.js';
import type { MailAddress, RenderedMail } from './mailTransport.js';

/** A person's email device: the address mails go to. */
export interface EmailSettings {
  readonly address: string;
}

/**
 * The mail for a message, purely (no clock, no randomness: the same message gives the same mail,
 * so a retry sends what the first attempt sent):
 *
 * - `Subject`: `[App] title`, or `[App]` and the body's first line without a title, one line, cut
 *   (`subjectOf`).
 * - a `text/plain` and a `text/html` part, the HTML escaping every piece of content and linking
 *   the URL only when it is `http(s)`.
 * - `Message-ID` `<tidings-{messageId}@{domain of From}>`; in a thread, `In-Reply-To` and
 *   `References` name the thread's root id `<thread-{hash}@{domain}>`, the same for every step,
 *   so all steps form one conversation in the person's mail client (docs/email.md).
 * - `Auto-Submitted: auto-generated` (RFC 3834), so vacation responders do not answer.
 *
 * Header values never hold a CR or LF from the content. `to` is the setting as it is; `send`
 * checks it is one plain address before anything is sent.
 */
export const renderEmail = (
  message: OutgoingMessage,
  settings: EmailSettings,
  from: MailAddress,
): RenderedMail => {
  const domain = domainOf(from.address);
  const subject = subjectOf(message);
  const thread = threadOf(message);
  const root = thread === undefined ? undefined : threadRootFor(message.appId, thread, domain);
  return {
    to: settings.address.trim(),
    from,
    subject,
    text: textPart(message),
    html: htmlPart(message, subject),
    messageId: messageIdFor(message.messageId, domain),
    ...(root === undefined ? {} : { inReplyTo: root, references: [root] }),
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
};

import type { RejectionCode, SendOutcome } from '../channel.js';
import type { MailAnswered, MailResult, SmtpStage } from './mailTransport.js';

/** The SMTP command each stage names in reasons. */
const COMMAND: Readonly<Record<SmtpStage, string>> = {
  connect: 'the greeting',
  tls: 'STARTTLS',
  auth: 'AUTH',
  sender: 'MAIL FROM',
  recipient: 'RCPT TO',
  data: 'DATA',
};

/** RFC 3463's enhanced status code at the start of a reply's text, e.g. `5.1.1`. */
const enhancedOf = (text: string): string | undefined =>
  /^([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/.exec(text)?.[1];

const EXCERPT_CHARS = 200;

/**
 * What a reason may quote of the server. Replies from the greeting up to MAIL FROM are about our
 * client and the operator's sender, so their text is quoted (cut short). From RCPT TO on a reply
 * may name the person's address (`550 5.1.1 <bob@…>: User unknown`, or sendmail's `bob... User
 * unknown`), and reasons reach events, logs and the app's `lastError`; so only the codes are
 * quoted there.
 */
const quoted = (answer: MailAnswered): string => {
  const enhanced = enhancedOf(answer.text);
  const codes = enhanced === undefined ? `${answer.code}` : `${answer.code} ${enhanced}`;
  if (answer.stage === 'recipient' || answer.stage === 'data') return codes;
  const text = answer.text.replace(/\s+/g, ' ').trim();
  const excerpt =
    Array.from(text).length > EXCERPT_CHARS
      ? `${Array.from(text).slice(0, EXCERPT_CHARS).join('')}…`
      : text;
  return excerpt === '' ? `${answer.code}` : `${answer.code} ${excerpt}`;
};

/**
 * Which rejection a permanent (5xx) reply is:
 *
 * - enhanced `5.7.x` (security or policy: authentication required or refused, relaying denied,
 *   the sender's domain failing SPF/DMARC) → `misconfigured`: the operator's SMTP account or
 *   sender must change, whatever the recipient.
 * - any 5xx to the greeting, STARTTLS, AUTH or MAIL FROM → `misconfigured`: the server refuses
 *   our client or the operator's sender before the person's address was even named.
 * - at RCPT TO: enhanced `5.1.x` (bad mailbox, bad domain, no mail accepted), or without an
 *   enhanced code 550, 551 or 553 (mailbox unavailable, not local, name not allowed) →
 *   `device_unknown`, so the device is marked broken until the person corrects the address; a
 *   plain 550 that speaks of relaying is `misconfigured` (servers without enhanced codes say
 *   "relay denied" that way, and the person's address is not at fault).
 * - anything else (a full mailbox, a message too large, content refused, a syntax error) →
 *   `bad_request`: this message was refused as it was, and resending it cannot help; the device
 *   and the settings may well be fine for the next one.
 */
const rejectionCodeOf = (answer: MailAnswered): RejectionCode => {
  const enhanced = enhancedOf(answer.text);
  if (enhanced?.startsWith('5.7.') === true) return 'misconfigured';
  switch (answer.stage) {
    case 'connect':
    case 'tls':
    case 'auth':
    case 'sender':
      return 'misconfigured';
    case 'recipient':
      if (enhanced?.startsWith('5.1.') === true) return 'device_unknown';
      if (enhanced !== undefined) return 'bad_request';
      if (answer.code === 550 && /relay/i.test(answer.text)) return 'misconfigured';
      return [550, 551, 553].includes(answer.code) ? 'device_unknown' : 'bad_request';
    case 'data':
      return 'bad_request';
    default: {
      const _exhaustive: never = answer.stage;
      return _exhaustive;
    }
  }
};

/** A refusal: 4xx is transient (failed), 5xx permanent (rejected), anything else unexpected. */
const outcomeOfAnswer = (answer: MailAnswered): SendOutcome => {
  const said = `the SMTP server answered ${COMMAND[answer.stage]} with ${quoted(answer)}`;
  if (answer.code >= 400 && answer.code < 500) return { kind: 'failed', reason: said };
  if (answer.code >= 500 && answer.code < 600) {
    return { kind: 'rejected', code: rejectionCodeOf(answer), reason: said };
  }
  // A 2xx or 3xx where a refusal was expected: a confused server or a proxy; worth a retry.
  return { kind: 'failed', reason: `${said}, which is not an answer SMTP allows there` };
};

/**
 * Maps what became of one mail to an outcome: delivered; a reply as {@link rejectionCodeOf}
 * says (4xx failed, 5xx rejected); a network failure (refused or reset connection, DNS, TLS) or
 * a timeout → failed; a client that cannot go on as configured → rejected (`misconfigured`).
 * Reasons never hold the person's address.
 */
export const outcomeOfMail = (result: MailResult): SendOutcome => {
  switch (result.kind) {
    case 'delivered':
      return { kind: 'delivered' };
    case 'answered':
      return outcomeOfAnswer(result);
    case 'failed':
      return {
        kind: 'failed',
        reason: `could not reach the SMTP server (${result.code}): ${result.message}`,
      };
    case 'timed_out':
      return {
        kind: 'failed',
        reason: `the SMTP server did not answer within ${result.timeoutMs} ms`,
      };
    case 'unusable':
      return {
        kind: 'rejected',
        code: 'misconfigured',
        reason: `the SMTP settings do not work: ${result.detail}`,
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

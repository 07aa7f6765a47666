/**
 * The mail transport port: how the `email` channel hands a rendered mail to an SMTP server
 * without knowing the SMTP library. The server's implementation is
 * `adapters/outbound/smtpTransport.ts` (nodemailer); a test may hand the channel one aimed at a
 * local SMTP server. Like the HTTP port, `send` never rejects: every outcome is a
 * {@link MailResult}.
 */

/** A mailbox: an address and, optionally, the display name shown beside it. */
export interface MailAddress {
  readonly address: string;
  readonly name?: string;
}

/**
 * One mail, ready to send: every header value is a single line (no CR or LF can come from the
 * message's content), and every piece of content in `html` is HTML-escaped.
 */
export interface RenderedMail {
  /** The person's address, the only recipient (envelope and `To`). Personal data: never log it. */
  readonly to: string;
  /** The operator's sender (`TIDINGS_SMTP_FROM`). */
  readonly from: MailAddress;
  readonly subject: string;
  /** The `text/plain` part. */
  readonly text: string;
  /** The `text/html` part. */
  readonly html: string;
  /** The `Message-ID` header, angle brackets included: `<tidings-…@domain>`. */
  readonly messageId: string;
  /** The `In-Reply-To` header (the thread's root id) for a message in a thread. */
  readonly inReplyTo?: string;
  /** The `References` header's ids (the thread's root id) for a message in a thread. */
  readonly references?: readonly string[];
  /** Further headers, single-line values (`Auto-Submitted`). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The SMTP command an answer came back to: `connect` (the greeting, EHLO), `tls` (STARTTLS),
 * `auth` (AUTH), `sender` (MAIL FROM), `recipient` (RCPT TO), `data` (DATA and the end of the
 * message).
 */
export type SmtpStage = 'connect' | 'tls' | 'auth' | 'sender' | 'recipient' | 'data';

/** The server took the mail (a 250 to the end of DATA). */
export interface MailDelivered {
  readonly kind: 'delivered';
}

/** The server refused the mail with an SMTP reply. */
export interface MailAnswered {
  readonly kind: 'answered';
  readonly stage: SmtpStage;
  /** The three-digit reply code, e.g. 550. */
  readonly code: number;
  /** The reply's text without the code, the lines of a multi-line reply joined with spaces. */
  readonly text: string;
}

/**
 * No SMTP reply: the connection was refused or reset, DNS failed, TLS failed (handshake, an
 * untrusted certificate, STARTTLS required but refused). `code` is the network's or the
 * library's (`ECONNREFUSED`, `ETLS`…).
 */
export interface MailNetworkFailure {
  readonly kind: 'failed';
  readonly code: string;
  readonly message: string;
}

/** The server went silent for longer than the time limit (connecting, greeting or any reply). */
export interface MailTimeout {
  readonly kind: 'timed_out';
  readonly timeoutMs: number;
}

/**
 * The client refused to go on before the server could answer, because of how it is set up: the
 * server offers no AUTH mechanism the client can use, or credentials are missing. Retrying cannot
 * help until the operator changes the settings.
 */
export interface MailUnusable {
  readonly kind: 'unusable';
  readonly detail: string;
}

/** What became of one mail. */
export type MailResult =
  MailDelivered | MailAnswered | MailNetworkFailure | MailTimeout | MailUnusable;

/** Sends one mail per call; never rejects. */
export interface MailTransport {
  send(mail: RenderedMail): Promise<MailResult>;
}

import nodemailer from 'nodemailer';
import type {
  MailResult,
  MailTransport,
  RenderedMail,
  SmtpStage,
} from '../../channels/email/mailTransport.js';
import type { SmtpServer } from '../config/smtpSettings.js';

/** Options of {@link createSmtpTransport}; the server's defaults suit production. */
export interface SmtpTransportOptions {
  /**
   * How long the server may stay silent: to accept the connection, to greet, and at every step
   * after (nodemailer's connection, greeting and socket timeouts, and its DNS timeout). Default
   * 10 000 ms.
   */
  readonly timeoutMs?: number;
  /**
   * Certificate authorities to trust instead of Node's, PEM (tests hand their own CA). The
   * certificate is always verified; operators with a private CA set `NODE_EXTRA_CA_CERTS`.
   */
  readonly ca?: string;
}

/** The error fields nodemailer sets (`_formatError` in its SMTP connection). */
interface SmtpError {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly command?: unknown;
}

/** The SMTP command nodemailer names in `command`, as a stage. */
const stageOf = (command: unknown): SmtpStage => {
  if (typeof command !== 'string') return 'connect';
  if (command === 'STARTTLS') return 'tls';
  if (command.startsWith('AUTH')) return 'auth';
  if (command === 'MAIL FROM') return 'sender';
  if (command === 'RCPT TO') return 'recipient';
  if (command === 'DATA') return 'data';
  return 'connect';
};

/** A reply's text without its code: `550-a\r\n550 b` → `a b`. */
const replyText = (response: unknown): string =>
  typeof response !== 'string'
    ? ''
    : response
        .split(/\r?\n/)
        .map((line) => line.replace(/^\d{3}[ -]?/, '').trim())
        .filter((line) => line !== '')
        .join(' ');

/** `text` with every occurrence of `address` (any case) masked: messages may quote the recipient. */
const masked = (text: string, address: string): string =>
  address === '' ? text : text.split(new RegExp(escapeRegExp(address), 'gi')).join('[address]');

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Client-side refusals that come with no reply, in words that never quote the envelope (which
 * nodemailer's own messages do, address included).
 */
const UNUSABLE: Readonly<Record<string, string>> = {
  EENVELOPE: 'the SMTP client refused the envelope (sender or recipient not valid)',
  EMESSAGE: 'the message is larger than the SMTP server accepts',
};

/**
 * What a nodemailer error means, in the port's terms: a timeout; a TLS failure (even one with a
 * reply, e.g. STARTTLS refused while required) as a network failure; any other error with a
 * reply code as that reply, at the stage its command names; AUTH impossible or an envelope the
 * client refused as unusable; the rest (refused or reset connection, DNS) as a network failure
 * with the system's code (`ECONNREFUSED`) where there is one.
 */
export const mailResultOfError = (
  error: unknown,
  recipient: string,
  timeoutMs: number,
): MailResult => {
  const fields: SmtpError = typeof error === 'object' && error !== null ? error : {};
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const message = masked(
    typeof fields.message === 'string' ? fields.message : String(error),
    recipient,
  );
  if (code === 'ETIMEDOUT') return { kind: 'timed_out', timeoutMs };
  if (code === 'ETLS') return { kind: 'failed', code, message };
  if (typeof fields.responseCode === 'number') {
    return {
      kind: 'answered',
      stage: stageOf(fields.command),
      code: fields.responseCode,
      text: masked(replyText(fields.response), recipient),
    };
  }
  if (code === 'EAUTH') return { kind: 'unusable', detail: message };
  const unusable = code === undefined ? undefined : UNUSABLE[code];
  if (unusable !== undefined) return { kind: 'unusable', detail: unusable };
  const original = typeof fields.originalCode === 'string' ? fields.originalCode : undefined;
  return { kind: 'failed', code: original ?? code ?? 'ERR_UNKNOWN', message };
};

/** A {@link MailTransport} that can also be closed (it holds no connection between mails). */
export interface SmtpMailTransport extends MailTransport {
  close(): void;
}

/**
 * The mail transport over nodemailer's SMTP client, one connection per mail (no pool: mails are
 * few, strong messages only, and a fresh connection per attempt keeps one broken session from
 * failing the next mails). `smtps://` speaks TLS from the start; `smtp://` upgrades with STARTTLS
 * whenever the server offers it, and refuses to go on without it when `requireTLS` is set. The
 * certificate is verified against Node's CAs (or `options.ca`). nodemailer's logger stays off: it
 * would print addresses and content.
 */
export const createSmtpTransport = (
  server: SmtpServer,
  options: SmtpTransportOptions = {},
): SmtpMailTransport => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transporter = nodemailer.createTransport({
    host: server.host,
    port: server.port,
    secure: server.secure,
    requireTLS: server.requireTLS,
    ...(server.auth === undefined
      ? {}
      : { auth: { user: server.auth.user, pass: server.auth.pass } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    tls: { rejectUnauthorized: true, ...(options.ca === undefined ? {} : { ca: options.ca }) },
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    send: async (mail: RenderedMail): Promise<MailResult> => {
      try {
        await transporter.sendMail({
          from:
            mail.from.name === undefined
              ? mail.from.address
              : { name: mail.from.name, address: mail.from.address },
          to: mail.to,
          // The envelope is given, not derived from the headers, so it is exactly these two.
          envelope: { from: mail.from.address, to: [mail.to] },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          ...(mail.inReplyTo === undefined ? {} : { inReplyTo: mail.inReplyTo }),
          ...(mail.references === undefined ? {} : { references: [...mail.references] }),
          headers: { ...mail.headers },
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        return { kind: 'delivered' };
      } catch (error) {
        return mailResultOfError(error, mail.to, timeoutMs);
      }
    },
    close: () => {
      transporter.close();
    },
  };
};

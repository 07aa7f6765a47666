import * as E from 'fp-ts/lib/Either.js';
import { isMailAddress } from '../../channels/email/mailAddress.js';
import type { MailAddress } from '../../channels/email/mailTransport.js';

/**
 * The operator's SMTP server, from `TIDINGS_SMTP_URL` (docs/email.md "Settings"):
 * `smtp://[user:password@]host[:port][?requireTLS=true|false]` or `smtps://…`.
 */
export interface SmtpServer {
  /** `smtps://`: TLS from the first byte (implicit TLS, port 465 by default). */
  readonly secure: boolean;
  readonly host: string;
  /** 465 for `smtps://`, 587 for `smtp://` unless the URL names one. */
  readonly port: number;
  /** AUTH credentials, percent-decoded from the URL. The password is a secret: never log it. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /**
   * For `smtp://`: refuse to go on unless STARTTLS succeeds. On by default when the URL has
   * credentials (a password never crosses the network in clear), off otherwise (STARTTLS is then
   * used whenever the server offers it); `?requireTLS=` overrides. Always false for `smtps://`,
   * which is encrypted from the start.
   */
  readonly requireTLS: boolean;
}

/** Both SMTP settings, present together or not at all. */
export interface SmtpSettings {
  readonly server: SmtpServer;
  readonly from: MailAddress;
}

/** The only query option taken; anything else is refused so no library option slips in by URL. */
const QUERY_OPTIONS = new Set(['requireTLS']);

const decoded = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

/**
 * Parses `TIDINGS_SMTP_URL`. Answers never quote the URL, which may hold a password; they say
 * which part is wrong.
 */
export const parseSmtpUrl = (raw: string): E.Either<string, SmtpServer> => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return E.left('must be a URL like smtp://user:password@mail.example.com:587 (not quoted here)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    return E.left(`must start with smtp:// or smtps://, got ${url.protocol}//`);
  }
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return E.left('must name the SMTP server host');
  if (url.port === '0') return E.left('must not use port 0');
  if (url.pathname !== '' && url.pathname !== '/') return E.left('must not have a path');
  if (url.hash !== '') return E.left('must not have a #fragment');
  const unknown = [...url.searchParams.keys()].find((key) => !QUERY_OPTIONS.has(key));
  if (unknown !== undefined) return E.left(`has an unknown option "${unknown}" (only requireTLS)`);
  const required = url.searchParams.get('requireTLS');
  if (required !== null && required !== 'true' && required !== 'false') {
    return E.left(`requireTLS must be true or false, got "${required}"`);
  }
  if (secure && required !== null) {
    return E.left('requireTLS is for smtp:// (STARTTLS); smtps:// is encrypted from the start');
  }
  const user = decoded(url.username);
  const pass = decoded(url.password);
  if (user === undefined || pass === undefined) {
    return E.left('has a user name or password that is not valid percent-encoding');
  }
  if (user === '' && pass !== '') return E.left('has a password but no user name');
  const auth = user === '' ? undefined : { user, pass };
  return E.right({
    secure,
    host,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    ...(auth === undefined ? {} : { auth }),
    requireTLS: !secure && (required === null ? auth !== undefined : required === 'true'),
  });
};

/** A display name may not hold controls, quotes, angle brackets or backslashes (no escaping games). */
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"<>\\]/;

/**
 * Parses `TIDINGS_SMTP_FROM`: `tidings@example.com` or `Tidings <tidings@example.com>` (the name
 * may be in double quotes). The address must be one plain ASCII mailbox; its domain is the right
 * part of every `Message-ID`.
 */
export const parseMailFrom = (raw: string): E.Either<string, MailAddress> => {
  const named = /^(.*?)\s*<([^<>]*)>$/.exec(raw);
  const address = (named?.[2] ?? raw).trim();
  const name = (named?.[1] ?? '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
  if (!isMailAddress(address)) {
    return E.left(
      `must be an address like tidings@example.com or "Tidings <tidings@example.com>", got "${raw}"`,
    );
  }
  if (BAD_NAME.test(name)) {
    return E.left('the display name must not hold quotes, angle brackets, backslashes or controls');
  }
  return E.right(name === '' ? { address } : { address, name });
};

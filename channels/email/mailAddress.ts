/**
 * What Tidings takes as a mail address: one plain `local@domain` mailbox in ASCII, the form every
 * SMTP server accepts without the SMTPUTF8 extension. No display name, no comments, no quoted
 * local part, no list: a value that an SMTP library could read as two recipients (`a@x, b@y`) or
 * as a header (`a@x\r\nBcc: …`) is refused.
 */

/** RFC 5321's limits: 64 octets of local part, 254 for the whole path's mailbox. */
const LOCAL_MAX = 64;
const ADDRESS_MAX = 254;

/** RFC 5322 dot-atom: atext runs separated by single dots. */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** A host name of at least two labels, each 1–63 letters, digits or inner dashes. */
const DOMAIN =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Whether `value` is one plain ASCII mailbox `local@domain` (see the module comment). */
export const isMailAddress = (value: string): boolean => {
  if (value.length > ADDRESS_MAX) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  return local.length <= LOCAL_MAX && LOCAL.test(local) && DOMAIN.test(domain);
};

/** The domain of an address `isMailAddress` accepted, lower-cased. */
export const domainOf = (address: string): string =>
  address.slice(address.lastIndexOf('@') + 1).toLowerCase();

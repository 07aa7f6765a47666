/** Socket errors that mean the database cannot be reached now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a server going away or not accepting connections (shutdown, recovery, too many). */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres's own words for a connection that ended or never came. */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Connection ended',
];

/**
 * Whether `error` says the PostgreSQL database cannot be reached now (not that a statement was
 * wrong): such a request is answered 503 with Retry-After, and the node goes on by itself once
 * the database is back (README "Running several nodes").
 */
export const isDatabaseUnreachable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SERVER_GONE.has(code) || code.startsWith('08')) return true;
  }
  if (DRIVER_MESSAGES.some((words) => error.message.includes(words))) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDatabaseUnreachable(cause);
};

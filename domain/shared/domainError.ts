/**
 * The catalogue of domain error codes. Each code is stable (clients match on it) and maps to one
 * HTTP status in the edge's problem catalogue; adding a code is fine, renaming one is not.
 */
export const domainErrorCodes = [
  'not_found',
  'already_exists',
  'illegal_state',
  'app_suspended',
  'app_banned',
  'binding_revoked',
  'binding_blocked',
  'duplicate_complaint',
  'forbidden',
  'validation_failed',
] as const;

export type DomainErrorCode = (typeof domainErrorCodes)[number];

/** An expected refusal of a command: a value, never thrown. */
export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
  /** Extra facts for the client, e.g. `suspendedUntil`. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Builds a DomainError; `details` is only set when given (exactOptionalPropertyTypes). */
export const domainError = (
  code: DomainErrorCode,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): DomainError => (details === undefined ? { code, message } : { code, message, details });

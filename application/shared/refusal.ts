import type { CommandError } from '../../domain/shared/commandHandler.js';

/** Too many calls for a rate limit: come back in `retryAfterSeconds`. */
export interface RateLimited {
  readonly code: 'rate_limited';
  /** What is over its limit, e.g. "too many messages from this app". */
  readonly message: string;
  readonly retryAfterSeconds: number;
}

/** A redirect URI the app did not register: never redirected to. */
export interface InvalidRedirectUri {
  readonly code: 'invalid_redirect_uri';
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A device setting that points where the outbound guard will not let Tidings go. */
export interface ForbiddenDestination {
  readonly code: 'forbidden_destination';
  readonly message: string;
  /** `reason` (the guard's) and `errors` (the field at its JSON pointer). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** A credential that proves nothing: a wrong username or password. */
export interface Unauthorized {
  readonly code: 'unauthorized';
  readonly message: string;
}

/**
 * An expected refusal of a use case, a value and never thrown: a command's (docs/api.md, "Error
 * codes"), a rate limit's, a redirect URI's or a credential's.
 * The HTTP adapter maps each code to its status.
 */
export type Refusal =
  CommandError | RateLimited | InvalidRedirectUri | ForbiddenDestination | Unauthorized;

/** A rate limit's refusal. */
export const rateLimited = (message: string, retryAfterSeconds: number): RateLimited => ({
  code: 'rate_limited',
  message,
  retryAfterSeconds,
});

/** A wrong credential's refusal. */
export const unauthorized = (message: string): Unauthorized => ({ code: 'unauthorized', message });

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

/**
 * An expected refusal of a use case, a value and never thrown: a command's (docs/api.md, "Error
 * codes"), a rate limit's or a redirect URI's. The HTTP adapter maps each code to its status.
 */
export type Refusal = CommandError | RateLimited | InvalidRedirectUri;

/** A rate limit's refusal. */
export const rateLimited = (message: string, retryAfterSeconds: number): RateLimited => ({
  code: 'rate_limited',
  message,
  retryAfterSeconds,
});

import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { sendProblem } from '../http/problem.js';
import { cookie, SESSION_COOKIE } from '../http/routing.js';
import { constantTimeEqual } from '../security/secrets.js';

/** The double-submit cookie: readable by the pages' scripts, echoed in {@link CSRF_HEADER}. */
export const CSRF_COOKIE = 'tidings_csrf';
/** The header a browser script sends the token back in. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The policy of every page: scripts and styles only from this origin (no inline script, no
 * inline style), no plugins, no framing (the consent page must not be clickjacked), forms and
 * fetches only to this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers for every page and static file the web app serves. */
export const pageHeaders: RequestHandler = (_request, response, next) => {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  // The consent URL carries the app's state: never hand it to another site as a referrer.
  response.setHeader('Referrer-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  next();
};

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The page's CSRF token: the one in the request's cookie when it is well formed, else a new one
 * (set on the response). Refreshed on every page so it lives as long as the person uses the site.
 */
export const issueCsrfToken = (request: Request, response: Response, secure: boolean): string => {
  const existing = cookie(request, CSRF_COOKIE);
  const token =
    existing !== undefined && TOKEN_PATTERN.test(existing)
      ? existing
      : randomBytes(32).toString('base64url');
  response.append(
    'Set-Cookie',
    [`${CSRF_COOKIE}=${token}`, 'Path=/', 'SameSite=Strict', `Max-Age=${30 * 24 * 3600}`]
      .concat(secure ? ['Secure'] : [])
      .join('; '),
  );
  return token;
};

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const header = (request: Request, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * CSRF protection for every state-changing request (any method but GET, HEAD and OPTIONS),
 * API routes included, applied before any route runs:
 *
 * 1. `Sec-Fetch-Site: cross-site` is refused: no other site may change anything here.
 * 2. An `Origin` that is not this server's (the request's own host, or `publicUrl`) is refused,
 *    `null` included: this covers same-site neighbours (another port or subdomain, which the
 *    browser treats as same-site and sends SameSite=Lax cookies to) and browsers that do not
 *    send Fetch Metadata.
 * 3. A request that carries the session cookie and comes from a browser (it has `Origin` or
 *    `Sec-Fetch-Site`) must echo the `tidings_csrf` cookie in `X-CSRF-Token` (double submit).
 *
 * Clients that are not browsers (apps with bearer secrets, operators' scripts, curl, the API
 * tests) send neither header and pass: they cannot be made to act by a page someone else
 * controls, and a browser always sends `Origin` on these methods. Refusals are 403 `forbidden`.
 */
export const csrfGuard =
  (publicUrl: string): RequestHandler =>
  (request, response, next) => {
    if (SAFE_METHODS.has(request.method)) {
      next();
      return;
    }
    const fetchSite = header(request, 'sec-fetch-site');
    const origin = header(request, 'origin');
    if (fetchSite === 'cross-site') {
      sendProblem(response, 'forbidden', 'cross-site requests may not change anything here');
      return;
    }
    if (origin !== undefined && !isOwnOrigin(origin, request, publicUrl)) {
      sendProblem(response, 'forbidden', `requests from ${origin} may not change anything here`);
      return;
    }
    const browser = origin !== undefined || fetchSite !== undefined;
    if (browser && cookie(request, SESSION_COOKIE) !== undefined) {
      const expected = cookie(request, CSRF_COOKIE);
      const sent = header(request, CSRF_HEADER);
      if (
        expected === undefined ||
        sent === undefined ||
        !TOKEN_PATTERN.test(expected) ||
        !constantTimeEqual(sent, expected)
      ) {
        sendProblem(
          response,
          'forbidden',
          'missing or wrong CSRF token: send the tidings_csrf cookie value as X-CSRF-Token (reload the page)',
        );
        return;
      }
    }
    next();
  };

/** Whether `origin` is this server: the host the browser addressed, or the public URL's origin. */
const isOwnOrigin = (origin: string, request: Request, publicUrl: string): boolean => {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin === 'null') return false;
  if (parsed.origin === new URL(publicUrl).origin) return true;
  const hosts = [request.headers.host, request.host].filter(
    (host): host is string => typeof host === 'string' && host !== '',
  );
  return hosts.includes(parsed.host);
};

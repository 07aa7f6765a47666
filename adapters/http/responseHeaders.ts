import type { RequestHandler } from 'express';

/**
 * The headers every answer starts with. `X-Content-Type-Options: nosniff`, so no browser runs an
 * answer as something other than its declared type. `Cache-Control: no-store`, because API
 * answers carry secrets (a new app's secret, a rotated one, a person's inbox) that no browser or
 * shared cache may keep; a handler whose answer may be kept sets its own (the static assets
 * revalidate instead).
 */
export const responseHeaders: RequestHandler = (_request, response, next) => {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Cache-Control', 'no-store');
  next();
};

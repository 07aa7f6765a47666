import type { RequestHandler } from 'express';
import { sendProblem } from './problem.js';

/**
 * Answers 400 `malformed_request` to an HTTP/1.1 request without a `Host` header, and to any
 * request with more than one (RFC 9112 section 3.2: a server MUST answer 400 to both). Node's
 * own check answers only the first, with an empty body, so the server turns it off
 * (composition/listen.ts) for this one, which answers as every other malformed message does,
 * with the usual headers, and closes the connection. HTTP/1.0 needs no `Host`.
 */
export const requireHost: RequestHandler = (request, response, next) => {
  let hosts = 0;
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    if (request.rawHeaders[index]?.toLowerCase() === 'host') hosts += 1;
  }
  const needsHost =
    request.httpVersionMajor > 1 ||
    (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1);
  if (hosts > 1 || (hosts === 0 && needsHost)) {
    response.setHeader('Connection', 'close');
    sendProblem(
      response,
      'malformed_request',
      hosts > 1
        ? 'the HTTP request is malformed: more than one Host header'
        : 'the HTTP request is malformed: an HTTP/1.1 request needs a Host header',
    );
    return;
  }
  next();
};

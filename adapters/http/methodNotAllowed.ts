import { Router, type Request } from 'express';
import { sendProblem } from './problem.js';

/**
 * Answers 405 `method_not_allowed`, with `Allow` naming the methods the path has, for a request
 * whose path the application serves under other methods only; anything else goes on (to the
 * 404). Mount it after every router: a request reaches it only when no route answered.
 *
 * The paths and methods are read from the routes mounted directly on `routers` (a GET route
 * answers HEAD too, as express does), and matched by express itself, exactly as the routes are,
 * so a path served under several patterns (`/v1/messages/batch` is also `/v1/messages/:messageId`)
 * allows the methods of all of them. A route for every method (`all`) never answers 405.
 */
export const methodNotAllowed = (routers: readonly Router[]): Router => {
  const guard = Router();
  const allowed = new WeakMap<Request, Set<string>>();
  for (const router of routers) {
    for (const layer of router.stack) {
      const route = layer.route;
      if (route === undefined) continue;
      const methods = route.stack.map((handler) => handler.method as string | undefined);
      if (methods.some((method) => method === undefined)) continue;
      const names = new Set(methods.map((method) => (method ?? '').toUpperCase()));
      if (names.has('GET')) names.add('HEAD');
      guard.all(route.path, (request, _response, next) => {
        const known = allowed.get(request) ?? new Set<string>();
        for (const name of names) known.add(name);
        allowed.set(request, known);
        next();
      });
    }
  }
  guard.use((request, response, next) => {
    const known = allowed.get(request);
    if (known === undefined || known.has(request.method)) {
      next();
      return;
    }
    const allow = [...known].join(', ');
    response.setHeader('Allow', allow);
    sendProblem(
      response,
      'method_not_allowed',
      `${request.method} is not served on ${request.path}; it takes ${allow}`,
    );
  });
  return guard;
};

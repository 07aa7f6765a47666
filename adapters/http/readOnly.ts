import { Router, type RequestHandler } from 'express';
import { sendProblem } from './problem.js';

const READS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The guard of a server serving a folder read-only (`TIDINGS_READ_ONLY=1`, a point-in-time
 * replay): every request that could write is refused with 403 `read_only` before any route.
 */
export const readOnlyGuard = (asOf: string | undefined): Router => {
  const guard: RequestHandler = (request, response, next) => {
    if (READS.has(request.method)) {
      next();
      return;
    }
    sendProblem(
      response,
      'read_only',
      asOf === undefined
        ? 'this server serves its data folder read-only (TIDINGS_READ_ONLY)'
        : `this server shows the log as it was at ${asOf} (a replay) and takes no writes`,
    );
  };
  const router = Router();
  router.use(guard);
  return router;
};

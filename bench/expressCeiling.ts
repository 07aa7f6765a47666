/**
 * The ceiling of the HTTP benchmarks: a bare express application with one JSON POST handler that
 * answers the way `POST /v1/messages` does (202 and a small JSON body), and nothing else — no
 * store, no validation, no pipeline. Run as a child process on PORT (127.0.0.1), like the server.
 */
import express from 'express';
import { randomBytes } from 'node:crypto';

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '64kb' }));
app.get('/readyz', (_request, response) => {
  response.json({ status: 'ready' });
});
app.post('/v1/messages', (_request, response) => {
  response
    .status(202)
    .json({ messageId: `msg_${randomBytes(16).toString('base64url')}`, status: 'accepted' });
});
const server = app.listen(Number(process.env['PORT'] ?? '0'), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

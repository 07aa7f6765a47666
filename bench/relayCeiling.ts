/**
 * The ceiling of the pipeline benchmarks (issue 17): a minimal durable relay, what a hand-written,
 * non-event-sourced hub does for the same job. An express JSON handler validates the body
 * (`key`, `body`, optional `title`), writes one row with the store's SQLite settings (WAL,
 * synchronous=full by the store's own off-loop fsync of the WAL, the requests of one event-loop
 * turn in one transaction, as the store's group commit does), answers 202 once the row is on
 * disk, then sends the Bark push through the same outbound client and Bark channel the server
 * uses (the guarded axios instance). No moderation, no consent, no inbox, no retries.
 *
 * Run as a child process: PORT, RELAY_DIR (its database folder), RELAY_BARK_URL and
 * RELAY_DEVICE_KEY (the stand-in and the device to push to).
 */
import express from 'express';
import { randomBytes } from 'node:crypto';
import { openStoreDatabase } from '../adapters/sqlite/database.js';
import { createGuardedHttpClient } from '../adapters/outbound/guardedHttpClient.js';
import { parseAllowlist } from '../adapters/outbound/addressPolicy.js';
import { silentLogger } from '../adapters/logging/logger.js';
import { createBarkChannel } from '../channels/bark/barkChannel.js';
import type { ChannelContext } from '../channels/channel.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

const { db, walSync } = openStoreDatabase({ dataDir: env('RELAY_DIR'), synchronous: 'full' });
db.exec(`CREATE TABLE IF NOT EXISTS relayed (
  id TEXT PRIMARY KEY, key TEXT NOT NULL, title TEXT, body TEXT NOT NULL, at TEXT NOT NULL
)`);
const insert = db.prepare<[string, string, string | null, string, string]>(
  'INSERT INTO relayed (id, key, title, body, at) VALUES (?, ?, ?, ?, ?)',
);

interface Row {
  readonly id: string;
  readonly key: string;
  readonly title: string | undefined;
  readonly body: string;
}

/** Rows waiting for this turn's transaction, each with the callback that answers it. */
let pending: Array<{ row: Row; done: (error: Error | null) => void }> = [];
const writeAll = db.transaction((rows: readonly Row[]) => {
  const at = new Date().toISOString();
  for (const row of rows) insert.run(row.id, row.key, row.title ?? null, row.body, at);
});
const flush = (): void => {
  const batch = pending;
  pending = [];
  try {
    writeAll(batch.map((entry) => entry.row));
  } catch (error) {
    for (const entry of batch) entry.done(error as Error);
    return;
  }
  const answer = (error: Error | null): void => {
    for (const entry of batch) entry.done(error);
  };
  if (walSync === undefined) answer(null);
  else walSync.sync(answer);
};
const write = (row: Row): Promise<void> =>
  new Promise((resolve, reject) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({
      row,
      done: (error) => {
        error === null ? resolve() : reject(error);
      },
    });
  });

const channel = createBarkChannel();
const context: ChannelContext = {
  http: createGuardedHttpClient({ allowlist: parseAllowlist(['127.0.0.1']) }),
  logger: silentLogger,
  now: () => new Date(),
};
const settings = { serverUrl: env('RELAY_BARK_URL'), deviceKey: env('RELAY_DEVICE_KEY') };

const isText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '64kb' }));
app.get('/readyz', (_request, response) => {
  response.json({ status: 'ready' });
});
app.post('/v1/messages', (request, response) => {
  const { key, title, body } = (request.body ?? {}) as Record<string, unknown>;
  if (!isText(key, 200) || !isText(body, 4_000) || (title !== undefined && !isText(title, 200))) {
    response.status(400).json({ code: 'validation_failed' });
    return;
  }
  const row: Row = { id: `msg_${randomBytes(16).toString('base64url')}`, key, title, body };
  write(row).then(
    () => {
      response.status(202).json({ messageId: row.id, status: 'accepted' });
      const rendered = channel.render(
        {
          messageId: row.id,
          appId: 'relay',
          appName: 'Relay',
          recipientId: row.key,
          body: row.body,
          ...(row.title === undefined ? {} : { title: row.title }),
        },
        settings,
      );
      void channel.send(rendered, context);
    },
    () => {
      response.status(503).json({ code: 'unavailable' });
    },
  );
});
const server = app.listen(Number(process.env['PORT'] ?? '0'), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => {
    walSync?.close();
    db.close();
    process.exit(0);
  });
  server.closeIdleConnections();
});

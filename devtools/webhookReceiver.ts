import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local webhook endpoint on 127.0.0.1 that records what it receives, byte for byte, so a test
 * can verify the Standard Webhooks signature with a library of its choice, and answers as
 * scripted: `204` by default, or the next {@link WebhookReceiver.answerNext} answer, after an
 * optional {@link WebhookReceiver.delay}. It checks nothing itself.
 */

/** One request as the endpoint received it. */
export interface ReceivedWebhook {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body's exact bytes, as a signature covers them. */
  readonly raw: Buffer;
}

/** A scripted answer. */
export interface ReceiverAnswer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks/tidings`, the endpoint to configure. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`, for other paths on the same server. */
  readonly origin: string;
  /** Every request received, in order (cleared by {@link reset}). */
  readonly received: readonly ReceivedWebhook[];
  /** The next `times` requests get `answer`. */
  answerNext(times: number, answer: ReceiverAnswer): void;
  /** Every answer waits this long first (0 to stop). */
  delay(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });

/** Starts the endpoint on 127.0.0.1 on a free port. */
export const startWebhookReceiver = async (): Promise<WebhookReceiver> => {
  const received: ReceivedWebhook[] = [];
  const scripts: ReceiverAnswer[] = [];
  let delayMs = 0;
  const server = http.createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      received.push({
        method: request.method ?? '',
        path: request.url ?? '/',
        headers: request.headers,
        raw,
      });
      const reply = scripts.shift() ?? { status: 204 };
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (response.destroyed) return;
      response.writeHead(reply.status, { 'Content-Type': 'text/plain', ...reply.headers });
      response.end(reply.body ?? '');
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/hooks/tidings`,
    origin,
    received,
    answerNext: (times, reply) => {
      for (let i = 0; i < times; i += 1) scripts.push(reply);
    },
    delay: (ms) => {
      delayMs = ms;
    },
    reset: () => {
      received.length = 0;
      scripts.length = 0;
      delayMs = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
      }),
  };
};

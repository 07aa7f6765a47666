import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an SMS gateway speaking Tidings' gateway protocol (docs/sms.md), on
 * 127.0.0.1. What an operator's shim in front of Twilio, Aliyun and the like must do, it does:
 *
 * - `POST <path>` (default `/send`) only; any other path is `404 { code: "not_found" }`, another
 *   method on the path `405`.
 * - `Authorization: Bearer <token>` must carry the configured token: otherwise
 *   `401 { code: "unauthorized" }`.
 * - the body must be JSON `{ to, text, reference }`, all strings, none empty: otherwise
 *   `400 { code: "bad_request", message }`.
 * - `to` not E.164 → `422 { code: "invalid_number" }`; a number in `unknownNumbers` →
 *   `404 { code: "unknown_number" }`; in `optedOut` → `422 { code: "opted_out" }`.
 * - a repeat of a `(reference, to)` it already sent is answered like the first, without sending
 *   again, so a retry after a lost answer does not reach the phone twice.
 * - success: `200 { id }`, and the SMS is in {@link SmsGatewayStandIn.sent}.
 *
 * Scripts ({@link SmsGatewayStandIn.failNext}, {@link SmsGatewayStandIn.delay}) stand for the
 * provider behind the shim: its rate limits, outages and slowness.
 */

/** One HTTP request as the stand-in received it, whatever it answered. */
export interface GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
}

/** An SMS the gateway accepted. */
export interface SentSms {
  readonly id: string;
  readonly to: string;
  readonly text: string;
  readonly reference: string;
}

/** A scripted answer: status, a JSON body (or raw text), extra headers. */
export interface GatewayAnswer {
  readonly status: number;
  readonly json?: unknown;
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SmsGatewayStandIn {
  /** The full endpoint to configure as `TIDINGS_SMS_GATEWAY_URL`. */
  readonly url: string;
  /** Every request received, in order (cleared by {@link reset}). */
  readonly requests: readonly GatewayRequest[];
  /** Every SMS accepted, in order (cleared by {@link reset}). */
  readonly sent: readonly SentSms[];
  /** The next `times` authorized requests get `answer` instead of being handled. */
  failNext(times: number, answer: GatewayAnswer): void;
  /** Every answer waits this long first (0 to stop). */
  delay(ms: number): void;
  /** Forgets requests, sent messages and scripts. */
  reset(): void;
  close(): Promise<void>;
}

export interface SmsGatewayOptions {
  readonly token: string;
  readonly path?: string;
  readonly unknownNumbers?: readonly string[];
  readonly optedOut?: readonly string[];
}

const E164 = /^\+[1-9]\d{7,14}$/;

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });

const answer = (response: ServerResponse, reply: GatewayAnswer): void => {
  const body = reply.rawBody ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
  response.writeHead(reply.status, {
    'Content-Type': reply.rawBody === undefined ? 'application/json' : 'text/plain',
    ...reply.headers,
  });
  response.end(body);
};

const parseMessage = (raw: string): Omit<SentSms, 'id'> | string => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return `body is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof parsed !== 'object' || parsed === null) return 'body is not a JSON object';
  const { to, text, reference } = parsed as Record<string, unknown>;
  for (const [name, value] of Object.entries({ to, text, reference })) {
    if (typeof value !== 'string' || value === '') return `${name} must be a non-empty string`;
  }
  return { to: to as string, text: text as string, reference: reference as string };
};

/** Starts the stand-in on 127.0.0.1 on a free port. */
export const startSmsGateway = async (options: SmsGatewayOptions): Promise<SmsGatewayStandIn> => {
  const path = options.path ?? '/send';
  const unknown = new Set(options.unknownNumbers ?? []);
  const optedOut = new Set(options.optedOut ?? []);
  const requests: GatewayRequest[] = [];
  const sent: SentSms[] = [];
  const scripts: GatewayAnswer[] = [];
  let delayMs = 0;

  const handle = (request: IncomingMessage, raw: string): GatewayAnswer => {
    const requestPath = (request.url ?? '/').split('?')[0] ?? '/';
    if (requestPath !== path) return { status: 404, json: { code: 'not_found' } };
    if (request.method !== 'POST') {
      return { status: 405, json: { code: 'method_not_allowed' }, headers: { Allow: 'POST' } };
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      return { status: 401, json: { code: 'unauthorized', message: 'bad or missing token' } };
    }
    const script = scripts.shift();
    if (script !== undefined) return script;
    const message = parseMessage(raw);
    if (typeof message === 'string') {
      return { status: 400, json: { code: 'bad_request', message } };
    }
    if (!E164.test(message.to)) return { status: 422, json: { code: 'invalid_number' } };
    if (unknown.has(message.to)) {
      return { status: 404, json: { code: 'unknown_number', message: 'no such subscriber' } };
    }
    if (optedOut.has(message.to)) return { status: 422, json: { code: 'opted_out' } };
    const earlier = sent.find(
      (sms) => sms.reference === message.reference && sms.to === message.to,
    );
    if (earlier !== undefined) return { status: 200, json: { id: earlier.id } };
    const sms = { id: `sms-${sent.length + 1}`, ...message };
    sent.push(sms);
    return { status: 200, json: { id: sms.id } };
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      requests.push({
        method: request.method ?? '',
        path: (request.url ?? '/').split('?')[0] ?? '/',
        headers: request.headers,
        raw,
      });
      const reply = handle(request, raw);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (!response.destroyed) answer(response, reply);
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    sent,
    failNext: (times, reply) => {
      for (let i = 0; i < times; i += 1) scripts.push(reply);
    },
    delay: (ms) => {
      delayMs = ms;
    },
    reset: () => {
      requests.length = 0;
      sent.length = 0;
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

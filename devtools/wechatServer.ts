import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const APP_ID = 'wx0123456789abcdef';
export const APP_SECRET = 'secret-0123456789abcdef0123456789';

/** What a test may make `msg_sec_check` answer instead of the normal behaviour. */
export type CheckOverride =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly raw: string }
  | { readonly hang: true };

export interface CheckRequest {
  readonly token: string | null;
  readonly body: Record<string, unknown>;
}

/**
 * A local stand-in for api.weixin.qq.com that answers like the real API (the moderation tests and
 * the API fuzz target, bin/fuzzTarget.ts, share it):
 *
 * - `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…` → `{ access_token,
 *   expires_in }`, or `{ errcode, errmsg }` for a wrong app id or secret. Each fetch issues a new
 *   token; earlier ones stay valid until {@link FakeWechat.revokeTokens}.
 * - `POST /wxa/msg_sec_check?access_token=…` → 40001 for an unknown token; 47001 for a body that is
 *   not JSON; 40129 for a bad scene; 44002 without content; 40003 for openid `o-unknown`, 43104
 *   for `o-other-app`; otherwise a result whose suggest and label come from a marker in the
 *   content (`[risky:20008]`, `[review:20002]`; none → pass, label 100).
 */
export interface FakeWechat {
  readonly base: string;
  /** Token requests received. */
  tokenHits: number;
  readonly checks: CheckRequest[];
  /** `expires_in` of the tokens issued next; default 7200. */
  expiresIn: number;
  /** Delay before the token endpoint answers, in ms. */
  tokenDelayMs: number;
  /** How many token requests to come answer HTTP 503 (a gateway in trouble). */
  failTokens: number;
  /** Answer every check this way instead (until set back to undefined). */
  override: CheckOverride | undefined;
  /** Makes every token issued so far invalid (as when the token was refreshed elsewhere). */
  revokeTokens(): void;
  close(): Promise<void>;
}

const send = (response: ServerResponse, status: number, body: string, type: string): void => {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
};

const sendJson = (response: ServerResponse, json: unknown, status = 200): void => {
  send(response, status, JSON.stringify(json), 'application/json; encoding=utf-8');
};

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const rid = (): string => `rid: ${Math.random().toString(16).slice(2, 10)}`;

export const startFakeWechat = async (): Promise<FakeWechat> => {
  const valid = new Set<string>();
  let issued = 0;

  const tokenEndpoint = async (url: URL, response: ServerResponse, fake: FakeWechat) => {
    fake.tokenHits++;
    if (fake.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, fake.tokenDelayMs));
    if (fake.failTokens > 0) {
      fake.failTokens--;
      send(response, 503, 'Service Unavailable', 'text/plain');
      return;
    }
    const query = url.searchParams;
    if (query.get('grant_type') !== 'client_credential') {
      sendJson(response, { errcode: 40002, errmsg: `invalid grant_type ${rid()}` });
    } else if (query.get('appid') !== APP_ID) {
      sendJson(response, { errcode: 40013, errmsg: `invalid appid ${rid()}` });
    } else if (query.get('secret') !== APP_SECRET) {
      // The real API does not echo the secret; this one does, to prove reasons scrub it.
      sendJson(response, {
        errcode: 40125,
        errmsg: `invalid appsecret ${String(query.get('secret'))} ${rid()}`,
      });
    } else {
      issued++;
      const token = `ACCESS_TOKEN_${issued}_${Math.random().toString(36).slice(2)}`;
      valid.add(token);
      sendJson(response, { access_token: token, expires_in: fake.expiresIn });
    }
  };

  const checkEndpoint = async (
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
    fake: FakeWechat,
  ) => {
    const token = url.searchParams.get('access_token');
    const raw = await readBody(request);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJson(response, { errcode: 47001, errmsg: `data format error ${rid()}` });
      return;
    }
    fake.checks.push({ token, body });
    const override = fake.override;
    if (override !== undefined) {
      if ('hang' in override) return; // never answers
      if ('raw' in override) send(response, override.status, override.raw, 'text/html');
      else sendJson(response, override.json, override.status);
      return;
    }
    if (token === null || !valid.has(token)) {
      sendJson(response, {
        errcode: 40001,
        errmsg: `invalid credential, access_token is invalid or not latest ${rid()}`,
      });
      return;
    }
    const { openid, scene, content, version } = body;
    if (version !== 2 || typeof openid !== 'string' || typeof content !== 'string') {
      sendJson(response, { errcode: 44002, errmsg: `empty post data ${rid()}` });
      return;
    }
    if (scene !== 1 && scene !== 2 && scene !== 3 && scene !== 4) {
      sendJson(response, { errcode: 40129, errmsg: `invalid scene ${rid()}` });
      return;
    }
    if (openid === 'o-unknown') {
      sendJson(response, { errcode: 40003, errmsg: `invalid openid ${rid()}` });
      return;
    }
    if (openid === 'o-other-app') {
      sendJson(response, { errcode: 43104, errmsg: `appid and openid not match ${rid()}` });
      return;
    }
    const marker = /\[(risky|review):(\d+)\]/.exec(content);
    const suggest = marker?.[1] ?? 'pass';
    const label = Number(marker?.[2] ?? 100);
    sendJson(response, {
      errcode: 0,
      errmsg: 'ok',
      trace_id: `trace-${fake.checks.length}`,
      result: { suggest, label },
      detail: [
        { strategy: 'content_model', errcode: 0, suggest, label, prob: 90 },
        { strategy: 'keyword', errcode: 0, suggest, label, level: 20, keyword: 'x' },
      ],
    });
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    let route: Promise<void>;
    if (request.method === 'GET' && url.pathname === '/cgi-bin/token') {
      route = tokenEndpoint(url, response, fake);
    } else if (request.method === 'POST' && url.pathname === '/wxa/msg_sec_check') {
      route = checkEndpoint(url, request, response, fake);
    } else {
      sendJson(response, { errcode: 404, errmsg: 'not found' }, 404);
      return;
    }
    route.catch(() => {
      if (!response.headersSent) send(response, 500, 'internal error', 'text/plain');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeWechat = {
    base: `http://127.0.0.1:${port}`,
    tokenHits: 0,
    checks: [],
    expiresIn: 7200,
    tokenDelayMs: 0,
    failTokens: 0,
    override: undefined,
    revokeTokens: () => {
      valid.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  return fake;
};

/** An address where nothing listens: a server is started, its port noted, and it is closed. */
export const closedPortBase = async (): Promise<string> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${port}`;
};

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../../adapters/config/settings.js';
import { silentLogger } from '../../adapters/logging/logger.js';
import type { HostResolver } from '../../adapters/outbound/destinationGuard.js';
import { startTidings, type StartOptions, type Tidings } from '../../server.js';

/** A real Tidings on 127.0.0.1, a random port and a temp data folder, with cheap password hashing. */
export interface TestServer {
  readonly tidings: Tidings;
  readonly base: string;
  readonly dir: string;
  readonly adminToken: string;
  /** Stops the server and keeps the folder (for restart tests). */
  stop(): Promise<void>;
  /** Starts a new server on the same folder (after `stop`). */
  restart(): Promise<TestServer>;
  /** Stops the server and deletes the folder. */
  dispose(): Promise<void>;
}

export interface TestServerOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly resolver?: HostResolver;
  readonly authFailureBurst?: StartOptions['authFailureBurst'];
  /** New accounts per address; tests register many people from 127.0.0.1, so 10,000 by default. */
  readonly registrationBurst?: number;
  readonly retryPolicy?: StartOptions['retryPolicy'];
  readonly callbacks?: StartOptions['callbacks'];
  readonly dir?: string;
  /** Read models to keep (all of them by default). */
  readonly projections?: StartOptions['projections'];
  /** Where the server logs; nowhere by default. */
  readonly logger?: StartOptions['logger'];
  /** Delivery groups to deliver from (a stand-in of EventStoreDB's persistent subscriptions). */
  readonly deliveryGroups?: StartOptions['deliveryGroups'];
}

/**
 * A resolver that gives every `*.example` host a public address (93.184.216.34, reserved for
 * documentation), so apps can be created with callbacks on names that pass the outbound guard.
 */
export const publicExampleResolver: HostResolver = (hostname) =>
  Promise.resolve(hostname.endsWith('.example') ? [{ address: '93.184.216.34', family: 4 }] : []);

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export const startTestServer = async (options: TestServerOptions = {}): Promise<TestServer> => {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tidings-http-'));
  const settings = loadSettings({
    PORT: '0',
    TIDINGS_HOST: '127.0.0.1',
    TIDINGS_DATA_DIR: dir,
    TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN,
    TIDINGS_SQLITE_SYNCHRONOUS: 'normal',
    ...options.env,
  });
  if (E.isLeft(settings)) throw new Error(settings.left);
  const tidings = await startTidings(settings.right, {
    logger: options.logger ?? silentLogger,
    passwordCost: { N: 1024, r: 8, p: 1 },
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    ...(options.authFailureBurst === undefined
      ? {}
      : { authFailureBurst: options.authFailureBurst }),
    ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
    ...(options.callbacks === undefined ? {} : { callbacks: options.callbacks }),
    registrationBurst: options.registrationBurst ?? 10_000,
    ...(options.projections === undefined ? {} : { projections: options.projections }),
    ...(options.deliveryGroups === undefined ? {} : { deliveryGroups: options.deliveryGroups }),
  });
  const server: TestServer = {
    tidings,
    base: tidings.url,
    dir,
    adminToken: ADMIN_TOKEN,
    stop: () => tidings.close(),
    restart: () => startTestServer({ ...options, dir }),
    dispose: async () => {
      await tidings.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
};

/** A small HTTP client for tests: JSON in, status + parsed body + headers out. */
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export const call = async <T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    token?: string;
    cookie?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply<T>> => {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined || options.rawBody !== undefined)
    headers['content-type'] ??= 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers['cookie'] = options.cookie;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.text();
  let body: unknown = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { text };
    }
  }
  return { status: response.status, body: body as T, headers: response.headers };
};

/** The `name=value` part of a response's session cookie, ready to send back. */
export const sessionCookieOf = (reply: Reply<unknown>): string => {
  const setCookie = reply.headers.get('set-cookie') ?? '';
  const match = /tidings_session=[^;]*/.exec(setCookie);
  if (match === null) throw new Error(`no session cookie in ${setCookie}`);
  return match[0];
};

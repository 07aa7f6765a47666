import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { RetryPolicy } from '../../domain/delivery/retryPolicy.js';
import type { RecordedEvent } from '../../domain/shared/eventStore.js';
import type { BarkStandIn, ReceivedRequest } from '../../devtools/barkServer.js';
import { allow, createApp, registerPerson, type CreatedApp, type Person } from './httpFixtures.js';
import {
  call,
  startTestServer,
  type Reply,
  type TestServer,
  type TestServerOptions,
} from './testServer.js';
import { unique } from './unique.js';
import { waitUntil } from './waitUntil.js';

export { waitUntil };

/**
 * Helpers for the tests that drive a message end to end over HTTP (delivery, routing,
 * moderation, scheduling, reputation, the push API, the server): a server with a short retry
 * policy and the Bark stand-in allowlisted, people bound to an app (with or without a Bark
 * device), sending, and bounded polling for outcomes.
 */

/** Short retries: 50 ms, 100 ms, 200 ms… capped at 1 s, no jitter. */
export const SHORT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 50,
  factor: 2,
  maxDelayMs: 1_000,
  jitter: 0,
};

export interface PipelineServerOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly retryPolicy?: RetryPolicy;
  readonly dir?: string;
  readonly projections?: TestServerOptions['projections'];
  readonly resolver?: TestServerOptions['resolver'];
  readonly deliveryGroups?: TestServerOptions['deliveryGroups'];
}

/** A real Tidings with short retries and the Bark stand-in (127.0.0.1) allowlisted. */
export const startPipelineServer = (options: PipelineServerOptions = {}): Promise<TestServer> =>
  startTestServer({
    env: { TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1', ...options.env },
    retryPolicy: options.retryPolicy ?? SHORT_RETRY,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    ...(options.projections === undefined ? {} : { projections: options.projections }),
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    ...(options.deliveryGroups === undefined ? {} : { deliveryGroups: options.deliveryGroups }),
  });

export const CALLBACK = 'https://orders.example/callback';

/** A person with a Bark device on the stand-in, bound to an app under `openid`. */
export interface BoundPerson {
  readonly person: Person;
  readonly openid: string;
  readonly bindingId: string;
  /** The binding key from the consent redirect. */
  readonly key: string;
  /** The Bark device key (registered with the stand-in unless `knownDevice: false`). */
  readonly deviceKey: string;
}

/** Registers an app for the pipeline tests. */
export const createPipelineApp = (server: TestServer, name = 'Work orders'): Promise<CreatedApp> =>
  createApp(server, { name, redirectUris: [CALLBACK] });

/** How {@link bindPerson} binds: who, under which openid, at which level, with which device. */
export interface BindOptions {
  /** An already registered person (a new one by default). */
  readonly person?: Person;
  readonly level?: 'strong' | 'weak';
  readonly openid?: string;
  readonly device?: boolean;
  readonly knownDevice?: boolean;
}

/**
 * Registers a person (unless `person` is given), sets their Bark device (the stand-in's URL), and
 * lets `app` reach them at `level`. With no stand-in or `device: false` the person has no Bark
 * device; with `knownDevice: false` the key is set but the stand-in does not know it (bark-server
 * answers 400 for it).
 */
export const bindPerson = async (
  server: TestServer,
  bark: BarkStandIn | undefined,
  app: CreatedApp,
  options: BindOptions = {},
): Promise<BoundPerson> => {
  const person = options.person ?? (await registerPerson(server));
  const deviceKey = unique('Dev');
  if (bark !== undefined && options.device !== false) {
    if (options.knownDevice !== false) bark.addDevice(deviceKey);
    const put = await call(server.base, 'PUT', '/v1/me/devices/bark', {
      cookie: person.cookie,
      body: { serverUrl: bark.url, deviceKey },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
  }
  const openid = options.openid ?? unique('openid-');
  const { key } = await allow(server, person.cookie, {
    appId: app.appId,
    openid,
    redirectUri: CALLBACK,
    level: options.level ?? 'strong',
  });
  const apps = await call<{ items: { bindingId: string; appId: string; openid: string }[] }>(
    server.base,
    'GET',
    '/v1/me/apps',
    { cookie: person.cookie },
  );
  const binding = apps.body.items.find(
    (item) => item.appId === app.appId && item.openid === openid,
  );
  expect(binding, 'the new binding in /v1/me/apps').to.not.equal(undefined);
  return { person, openid, bindingId: binding?.bindingId ?? '', key, deviceKey };
};

/** Lets `app` reach a person who has no device: their messages go to the inbox only. */
export const bindWithoutDevice = (
  server: TestServer,
  app: CreatedApp,
  options: Omit<BindOptions, 'device' | 'knownDevice'> = {},
): Promise<BoundPerson> => bindPerson(server, undefined, app, options);

/** `POST /v1/messages` as the app. */
export const send = (
  server: TestServer,
  app: CreatedApp,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Reply<{ messageId: string; status: string } & Record<string, unknown>>> =>
  call(server.base, 'POST', '/v1/messages', { token: app.appSecret, body, headers });

/** Sends and expects 202 with `status`; returns the message id. */
export const sendAccepted = async (
  server: TestServer,
  app: CreatedApp,
  body: Record<string, unknown>,
  status: 'accepted' | 'scheduled' | 'suppressed' = 'accepted',
): Promise<string> => {
  const reply = await send(server, app, body);
  expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
  expect(reply.body.status).to.equal(status);
  expect(reply.body.messageId).to.be.a('string').and.not.equal('');
  return reply.body.messageId;
};

/** One channel's delivery as `GET /v1/messages/:id` shows it. */
export interface DeliveryView {
  readonly channel: string;
  /**
   * For a device delivery, an opaque reference to the device, the same for every message of one
   * binding and different for every other binding ({@link deviceRef}); never the device's id.
   */
  readonly device?: string;
  /** The person's own device id: only the person-facing views (test pushes) carry it. */
  readonly deviceId?: string;
  readonly status: 'pending' | 'delivered' | 'failed' | 'abandoned';
  readonly attempts: number;
  readonly lastError?: string;
  readonly deliveredAt?: string;
  readonly retryAt?: string;
}

/** `GET /v1/messages/:id` as the app shows a message. */
export interface MessageView {
  readonly messageId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly deliverAt?: string;
  readonly deliveries: readonly DeliveryView[];
  readonly readAt?: string;
  readonly reason?: string;
}

/** `GET /v1/messages/:id`, expecting 200. */
export const getMessage = async (
  server: TestServer,
  app: CreatedApp,
  messageId: string,
): Promise<MessageView> => {
  const reply = await call<MessageView>(server.base, 'GET', `/v1/messages/${messageId}`, {
    token: app.appSecret,
  });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  return reply.body;
};

/**
 * The reference an app sees for one of the person's devices in `GET /v1/messages/:id`: 12
 * base64url characters of SHA-256 over `<bindingId>:<deviceId>` (docs/api.md "App").
 */
export const deviceRef = (bindingId: string, deviceId: string): string =>
  createHash('sha256').update(`${bindingId}:${deviceId}`, 'utf8').digest('base64url').slice(0, 12);

/** The delivery on `channel`, if the message has one. */
export const deliveryOn = (view: MessageView, channel: string): DeliveryView | undefined =>
  view.deliveries.find((delivery) => delivery.channel === channel);

/** Polls the message until `done` holds (at most 10 s). */
export const waitForMessage = (
  server: TestServer,
  app: CreatedApp,
  messageId: string,
  done: (view: MessageView) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<MessageView> =>
  waitUntil(() => getMessage(server, app, messageId), done, `${messageId}: ${what}`, timeoutMs);

/** Polls until the message's status is `status`. */
export const waitForStatus = (
  server: TestServer,
  app: CreatedApp,
  messageId: string,
  status: string,
  timeoutMs = 10_000,
): Promise<MessageView> =>
  waitForMessage(
    server,
    app,
    messageId,
    (view) => view.status === status,
    `status ${status}`,
    timeoutMs,
  );

/** Polls until the message's Bark delivery has `status`. */
export const waitForBark = (
  server: TestServer,
  app: CreatedApp,
  messageId: string,
  status: DeliveryView['status'],
  timeoutMs = 10_000,
): Promise<MessageView> =>
  waitForMessage(
    server,
    app,
    messageId,
    (view) => deliveryOn(view, 'bark')?.status === status,
    `bark delivery ${status}`,
    timeoutMs,
  );

/**
 * Sends a message to a bound person and waits until it is in their inbox (status `delivered`,
 * the inbox delivery done). Returns the message id.
 */
export const deliver = async (
  server: TestServer,
  app: CreatedApp,
  to: BoundPerson,
  body = 'Your order has shipped',
): Promise<string> => {
  const messageId = await sendAccepted(server, app, { key: to.key, title: 'Order', body });
  await waitForMessage(
    server,
    app,
    messageId,
    (view) => view.status === 'delivered' && deliveryOn(view, 'inbox')?.status === 'delivered',
    'in the inbox',
  );
  return messageId;
};

/** An inbox item as `GET /v1/me/inbox` lists it. */
export interface InboxItem {
  readonly messageId: string;
  readonly appId: string;
  readonly appName: string;
  readonly title: string | null;
  readonly subtitle: string | null;
  readonly body: string;
  readonly url: string | null;
  readonly thread: string | null;
  readonly receivedAt: string;
  readonly readAt: string | null;
}

/** `GET /v1/me/inbox` (with an optional query string), expecting 200. */
export const inboxOf = async (
  server: TestServer,
  person: Person,
  query = '',
): Promise<InboxItem[]> => {
  const reply = await call<{ items: InboxItem[]; nextCursor: string | null }>(
    server.base,
    'GET',
    `/v1/me/inbox${query}`,
    { cookie: person.cookie },
  );
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  return reply.body.items;
};

/** The message ids in a person's inbox (first page of 100). */
export const inboxIds = async (server: TestServer, person: Person): Promise<string[]> =>
  (await inboxOf(server, person, '?limit=100')).map((item) => item.messageId);

/** Every message id in a person's inbox, all pages. */
export const allInboxIds = async (
  server: Pick<TestServer, 'base'>,
  person: Person,
): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const reply = await call<{ items: InboxItem[]; nextCursor: string | null }>(
      server.base,
      'GET',
      `/v1/me/inbox?limit=100${page}`,
      { cookie: person.cookie },
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    ids.push(...reply.body.items.map((item) => item.messageId));
    cursor = reply.body.nextCursor;
  } while (cursor !== null);
  return ids;
};

/** A push or recall body as the Bark stand-in received it. */
export type BarkBody = Readonly<Record<string, unknown>>;

/** The JSON bodies of `POST /push` requests for `deviceKey`, in arrival order. */
export const barkBodiesFor = (bark: BarkStandIn, deviceKey: string): BarkBody[] =>
  bark.requests
    .filter((request: ReceivedRequest) => request.method === 'POST' && request.path === '/push')
    .map((request) => request.json)
    .filter(
      (json): json is BarkBody =>
        typeof json === 'object' && json !== null && (json as BarkBody)['device_key'] === deviceKey,
    );

/**
 * Every request the Bark stand-in received that names `deviceKey`, whatever its method or path
 * (a JSON or form body, or the key as a path segment as in Bark's `GET /:key/:body`): for checks
 * that a device got nothing at all.
 */
export const barkRequestsNaming = (bark: BarkStandIn, deviceKey: string): ReceivedRequest[] =>
  bark.requests.filter(
    (request) =>
      (typeof request.json === 'object' &&
        request.json !== null &&
        (request.json as BarkBody)['device_key'] === deviceKey) ||
      request.path.split('/').includes(deviceKey) ||
      request.raw.includes(deviceKey),
  );

/** The pushes (not recalls) for `deviceKey`. */
export const barkPushesFor = (bark: BarkStandIn, deviceKey: string): BarkBody[] =>
  barkBodiesFor(bark, deviceKey).filter((body) => body['delete'] === undefined);

/** Every request the stand-in received for `deviceKey`, whatever it answered. */
export const barkRequestCount = (bark: BarkStandIn, deviceKey: string): number =>
  barkBodiesFor(bark, deviceKey).length;

/** The events of one message's stream, oldest first. */
export const messageEvents = (server: TestServer, messageId: string): Promise<RecordedEvent[]> =>
  server.tidings.store.readStream(`message-${messageId}`).then((events) => [...events]);

/** The event types of one message's stream, oldest first. */
export const messageEventTypes = async (server: TestServer, messageId: string): Promise<string[]> =>
  (await messageEvents(server, messageId)).map((event) => event.type);

/** `PUT /v1/me/preferences` with every field not given `null`, expecting 200. */
export const savePreferences = async (
  server: Pick<TestServer, 'base'>,
  person: Person,
  preferences: Record<string, unknown>,
): Promise<void> => {
  const reply = await call(server.base, 'PUT', '/v1/me/preferences', {
    cookie: person.cookie,
    body: { locale: null, timeZone: null, quietHours: null, digest: null, ...preferences },
  });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
};

import createClient, { type Client } from 'openapi-fetch';
import { IDEMPOTENCY_KEY, retryAfterSeconds, retryingFetch, type Fetch } from './retryingFetch.js';
import type { paths } from './schema.js';
import { tidingsErrorOf, UNEXPECTED_RESPONSE, TidingsError } from './tidingsError.js';
import type {
  AppChanged,
  AppStanding,
  BatchResult,
  Binding,
  Callback,
  CallbackDeliveries,
  CallbackDeliveriesQuery,
  CallbackRetry,
  CallbackSettings,
  Message,
  MessageStatus,
  PushResult,
  RecallResult,
  RegisteredCallback,
} from './types.js';

export type { Fetch } from './retryingFetch.js';
export { retryAfterMs } from './retryingFetch.js';
export type { components, operations, paths } from './schema.js';
export {
  TidingsError,
  UNEXPECTED_RESPONSE,
  type FieldProblem,
  type ProblemCode,
  type TidingsErrorFields,
} from './tidingsError.js';
export type * from './types.js';

/** The raw openapi-fetch client, typed by the whole generated schema. */
export type TidingsApi = Client<paths>;

/** How to reach Tidings, and how patient to be. */
export interface TidingsClientOptions {
  /** Where Tidings answers, e.g. `https://tidings.example.com`. */
  readonly baseUrl: string;
  /** The app's secret, shown once when the operator created the app or rotated its secret. */
  readonly appSecret: string;
  /** The `fetch` to send with; `globalThis.fetch` by default. */
  readonly fetch?: Fetch;
  /** How many times a 429, a 503 or a lost connection is retried; 3 by default. */
  readonly maxRetries?: number;
  /** How to wait between attempts; a timer by default (tests pass one that records). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Makes the Idempotency-Key of a POST that was given none; `crypto.randomUUID` by default. */
  readonly idempotencyKey?: () => string;
  /** The time in ms, to read a `Retry-After` date; `Date.now` by default. */
  readonly now?: () => number;
  /** The longest wait slept through before a retry; a longer `Retry-After` throws. 60 s by default. */
  readonly maxRetryDelayMs?: number;
}

/** Per-request options of the POST methods. */
export interface PushOptions {
  /**
   * The key that makes this request safe to repeat, for 24 h; a fresh one by default. Give your
   * own (your job's id) to make a retry of your whole job safe too.
   */
  readonly idempotencyKey?: string;
}

/** The app routes of the Tidings API, each answering its body or throwing a {@link TidingsError}. */
export interface TidingsClient {
  /** `POST /v1/messages`: sends one message to one person. */
  push(message: Message, options?: PushOptions): Promise<PushResult>;
  /** `POST /v1/messages/batch`: up to 500 messages, each answered on its own. */
  pushBatch(messages: readonly Message[], options?: PushOptions): Promise<BatchResult>;
  /** `GET /v1/messages/:messageId`: where a message is. */
  status(messageId: string): Promise<MessageStatus>;
  /** `DELETE /v1/messages/:messageId`: cancels a scheduled message or recalls a delivered one. */
  recall(messageId: string): Promise<RecallResult>;
  /** `GET /v1/bindings?openid=…`: the binding of one of your users. */
  bindings(query: { readonly openid: string }): Promise<Binding>;
  /** `GET /v1/app`: your app's standing. */
  app(): Promise<AppStanding>;
  /**
   * `PUT /v1/app/callback`: registers or changes your callback. `events` left out means every
   * type; `rotateSecret: true` makes a new signing secret (the one before keeps signing beside it
   * for 24 h). Answers the callback with its secret, which only this answer shows. The URL must be
   * https (plain http only to hosts the operator allowlisted).
   */
  setCallback(settings: CallbackSettings): Promise<RegisteredCallback>;
  /** `GET /v1/app/callback`: your callback's URL and event types; 404 `not_found` when none. */
  getCallback(): Promise<Callback>;
  /** `DELETE /v1/app/callback`: removes your callback (none set is no error); nothing more is sent. */
  removeCallback(): Promise<void>;
  /**
   * `GET /v1/app/callback/deliveries`: your recent callback deliveries, newest first, optionally
   * in one `status` only and at most `limit` (100 by default).
   */
  callbackDeliveries(query?: CallbackDeliveriesQuery): Promise<CallbackDeliveries>;
  /**
   * `POST /v1/app/callback/deliveries/:id/retry`: sends a delivered or failed delivery again now,
   * with the same webhook-id (a pending one is left as it is); 404 `not_found` for an unknown id.
   */
  retryCallbackDelivery(id: string): Promise<CallbackRetry>;
  /** `PATCH /v1/app`: turns the Bark- and ntfy-compatible ingress on or off for your keys. */
  setCompatIngress(enabled: boolean): Promise<AppChanged>;
  /**
   * The typed openapi-fetch client under the methods, with the same credential, retries and
   * Idempotency-Keys: every route of the schema is reachable through it, typed.
   */
  readonly raw: TidingsApi;
}

const DEFAULT_MAX_RETRIES = 3;
const BASE_DELAY_MS = 500;
const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

const timer = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** The header parameter of a POST, when the caller chose its key. */
const keyHeader = (options: PushOptions | undefined): { header?: { [IDEMPOTENCY_KEY]: string } } =>
  options?.idempotencyKey === undefined
    ? {}
    : { header: { [IDEMPOTENCY_KEY]: options.idempotencyKey } };

/**
 * A client for an app of Tidings: pushes, batches, status, recall, bindings, standing and
 * callbacks, with bodies typed from the server's own OpenAPI document.
 *
 * Every POST carries an Idempotency-Key (yours, or a fresh UUID) and keeps it across its retries,
 * so a retry never sends a message twice. 429 and 503 are retried after their `Retry-After` (or an
 * exponential backoff from 500 ms), up to `maxRetries` times; a connection lost before any answer
 * is retried when the request is safe to repeat (a GET, or a POST with its key).
 *
 * @example
 * const tidings = createTidingsClient({ baseUrl, appSecret: process.env.TIDINGS_SECRET! });
 * const { messageId } = await tidings.push({ openid: 'u-42', title: 'Order shipped', body: '…' });
 */
export const createTidingsClient = (options: TidingsClientOptions): TidingsClient => {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(`maxRetries must be a whole number from 0, not ${maxRetries}`);
  }
  const now = options.now ?? Date.now;
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const raw = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { Authorization: `Bearer ${options.appSecret}` },
    fetch: retryingFetch({
      fetch: send,
      maxRetries,
      sleep: options.sleep ?? timer,
      idempotencyKey: options.idempotencyKey ?? (() => crypto.randomUUID()),
      now,
      baseDelayMs: BASE_DELAY_MS,
      maxDelayMs: options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
    }),
  });

  /** Throws the problem of an answer that is not a success as a TidingsError. */
  const refuseUnlessOk = (result: { readonly error?: unknown; readonly response: Response }) => {
    const { response } = result;
    if (!response.ok) {
      const retryAfter = retryAfterSeconds(response.headers.get('retry-after'), now());
      throw tidingsErrorOf(response.status, result.error, retryAfter);
    }
  };

  /** The body of a successful answer, or the answer's problem thrown as a TidingsError. */
  const unwrap = <T>(result: {
    readonly data?: T;
    readonly error?: unknown;
    readonly response: Response;
  }): T => {
    refuseUnlessOk(result);
    const { response } = result;
    if (result.data === undefined) {
      throw new TidingsError({
        status: response.status,
        code: UNEXPECTED_RESPONSE,
        detail: `HTTP ${response.status} without the JSON body the route answers with`,
      });
    }
    return result.data;
  };

  return {
    push: async (message, pushOptions) =>
      unwrap(await raw.POST('/v1/messages', { body: message, params: keyHeader(pushOptions) })),
    pushBatch: async (messages, pushOptions) =>
      unwrap(
        await raw.POST('/v1/messages/batch', {
          body: { messages: [...messages] },
          params: keyHeader(pushOptions),
        }),
      ),
    status: async (messageId) =>
      unwrap(await raw.GET('/v1/messages/{messageId}', { params: { path: { messageId } } })),
    recall: async (messageId) =>
      unwrap(await raw.DELETE('/v1/messages/{messageId}', { params: { path: { messageId } } })),
    bindings: async ({ openid }) =>
      unwrap(await raw.GET('/v1/bindings', { params: { query: { openid } } })),
    app: async () => unwrap(await raw.GET('/v1/app')),
    setCallback: async (settings) => unwrap(await raw.PUT('/v1/app/callback', { body: settings })),
    getCallback: async () => unwrap(await raw.GET('/v1/app/callback')),
    removeCallback: async () => {
      refuseUnlessOk(await raw.DELETE('/v1/app/callback'));
    },
    callbackDeliveries: async (query) =>
      unwrap(
        await raw.GET('/v1/app/callback/deliveries', {
          params: query === undefined ? {} : { query },
        }),
      ),
    retryCallbackDelivery: async (id) =>
      unwrap(
        await raw.POST('/v1/app/callback/deliveries/{id}/retry', { params: { path: { id } } }),
      ),
    setCompatIngress: async (enabled) =>
      unwrap(await raw.PATCH('/v1/app', { body: { compatIngress: enabled } })),
    raw,
  };
};

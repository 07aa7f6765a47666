import { randomUUID } from 'node:crypto';
import { isDatabaseUnreachable } from '../../postgres/pgErrors.js';
import { Router, type Request, type Response } from 'express';
import * as E from 'fp-ts/lib/Either.js';
import {
  compatAppOf,
  submitWithKey,
  type SubmitWithKeyDeps,
} from '../../../application/messages/submitWithKey.js';
import type { SubmittedMessage } from '../../../application/messages/submitMessage.js';
import { isPromise, type MaybePromise } from '../../../application/shared/maybePromise.js';
import type { Logger } from '../../../domain/shared/logger.js';
import { secureIds } from '../../security/secureIds.js';
import { rawBodyOf } from '../bodyReader.js';
import { bodyHash, recordOutcome, type IdempotencyStore } from '../idempotency.js';
import { problemCatalogue } from '../problem.js';
import { isIdempotencyKey, transientCodes } from '../routing.js';
import { invocationOf } from '../api/refusals.js';
import {
  barkAccepted,
  barkRefused,
  barkUnknownKey,
  looksLikeBark,
  parseBark,
} from './barkIngress.js';
import { BINDING_KEY, type CompatFailure, type CompatMessage } from './compatRequest.js';
import {
  ntfyAccepted,
  ntfyRefused,
  ntfyUnknownKey,
  parseNtfyJson,
  parseNtfyPublish,
} from './ntfyIngress.js';

/**
 * How long a sender's repeat of the same request is the same message (docs/api.md, "Compatible
 * ingress"): Bark and ntfy senders have no Idempotency-Key, and retry a request whose answer they
 * did not get within seconds.
 */
export const COMPAT_REPEAT_WINDOW_MS = 10_000;

/** What the compatible ingress needs. */
export interface CompatIngressDeps extends SubmitWithKeyDeps {
  readonly idempotency: IdempotencyStore;
  readonly logger: Logger;
  /** A server showing a replay takes no messages, not even by GET. */
  readonly readOnly: boolean;
}

/** The two servers whose senders Tidings takes, each with its answers. */
interface Dialect {
  readonly name: 'bark' | 'ntfy';
  accepted(message: SubmittedMessage, parsed: CompatMessage, at: Date): unknown;
  refused(failure: CompatFailure, at: Date): unknown;
  unknownKey(): CompatFailure;
}

const bark: Dialect = {
  name: 'bark',
  accepted: (message, _parsed, at) => barkAccepted(message, at),
  refused: barkRefused,
  unknownKey: barkUnknownKey,
};

const ntfy: Dialect = {
  name: 'ntfy',
  accepted: ntfyAccepted,
  refused: ntfyRefused,
  unknownKey: ntfyUnknownKey,
};

const KEY = 'tbk_[A-Za-z0-9_-]{43}';
const SEGMENT = '[^/]+';

/** `/:key` and the Bark path forms `/:key/:body`, `/:key/:title/:body`, `/:key/:title/:subtitle/:body`. */
const keyPath = (segments: number): RegExp =>
  new RegExp(`^/${KEY}${`/${SEGMENT}`.repeat(segments)}/?$`);

/**
 * Which requests the compatible ingress reads the body of itself (the body reader keeps their
 * bytes instead of parsing JSON): `POST /`, `POST /push`, and paths that begin with a binding key.
 */
export const isCompatRequest = (request: Request): boolean => {
  if (request.method !== 'POST' && request.method !== 'PUT' && request.method !== 'GET') {
    return false;
  }
  const path = request.path;
  if (path === '/' || path.toLowerCase() === '/push' || path.toLowerCase() === '/push/') {
    return request.method === 'POST';
  }
  return BINDING_KEY.test(path.split('/')[1] ?? '');
};

/** The raw segments of the request's path after its key. */
const segmentsAfterKey = (request: Request): string[] =>
  request.path.replace(/\/$/, '').split('/').slice(2);

/**
 * The compatible ingress (docs/api.md, "Compatible ingress"): a binding key of an app that turned
 * `compatIngress` on works as a Bark device key and as an ntfy topic, answered in those servers'
 * shapes. Each request becomes exactly a `POST /v1/messages` of the key's app (one use case,
 * `submitWithKey`), so moderation, preferences, budgets, rate limits and standing all apply.
 * A repeat within {@link COMPAT_REPEAT_WINDOW_MS} of the same content to the same key (or the same
 * `Idempotency-Key`, for 24 h, when a sender sends one) answers the first answer again.
 */
export const compatIngressRouter = (deps: CompatIngressDeps): Router => {
  const submit = submitWithKey({ ...deps, ids: secureIds });
  const appOf = compatAppOf({ ...deps, ids: secureIds });
  const router = Router();

  const ingest = async (
    request: Request,
    response: Response,
    dialect: Dialect,
    parsed: E.Either<CompatFailure | 'unknown', CompatMessage>,
  ): Promise<void> => {
    const at = new Date();
    const requestId = randomUUID();
    const send = (status: number, body: unknown, replayed = false): void => {
      response.setHeader('X-Request-Id', requestId);
      if (replayed) response.setHeader('Idempotent-Replayed', 'true');
      response.status(status).json(body);
    };
    const refuse = (failure: CompatFailure): void => {
      if (failure.retryAfterSeconds !== undefined) {
        response.setHeader('Retry-After', String(failure.retryAfterSeconds));
      }
      send(failure.status, dialect.refused(failure, at));
    };
    if (E.isLeft(parsed)) {
      refuse(parsed.left === 'unknown' ? dialect.unknownKey() : parsed.left);
      return;
    }
    const message = parsed.right;
    if (deps.readOnly) {
      refuse({ status: 403, message: 'this server shows the log as it was and takes no messages' });
      return;
    }
    const app = appOf(message.draft.key);
    if (app === undefined) {
      refuse(dialect.unknownKey());
      return;
    }
    const claim = claimOf(deps.idempotency, request, app.app_id, dialect, message, at);
    if (E.isLeft(claim)) {
      refuse(claim.left);
      return;
    }
    const { key, started: starting } = claim.right;
    // Awaited only when the store answers with a promise (the keys in a database nodes share).
    const started = isPromise(starting) ? await starting : starting;
    /**
     * Records the outcome; awaited, when a promise, before the answer leaves, so a repeat after
     * it is replayed. A failure to record is logged and the answer stands.
     */
    const record = (write: () => MaybePromise<void>): MaybePromise<void> =>
      recordOutcome(
        deps.logger,
        { dialect: dialect.name, requestId, appId: app.app_id, key },
        write,
      );
    if (started.kind === 'replay') {
      send(started.status, started.body, true);
      return;
    }
    if (started.kind !== 'new') {
      refuse(
        started.kind === 'reused'
          ? { status: 422, message: 'this Idempotency-Key was used with another message' }
          : {
              status: 409,
              message: 'the same message is being taken; retry shortly',
              retryAfterSeconds: 1,
            },
      );
      return;
    }
    let result: Awaited<ReturnType<typeof submit>>;
    try {
      result = await submit(
        app,
        message.draft,
        invocationOf({ actor: { kind: 'app', id: app.app_id }, requestId, now: at.toISOString() }),
        { key, since: started.since },
      );
    } catch (error) {
      const recorded = record(() => deps.idempotency.abandon(app.app_id, key));
      if (isPromise(recorded)) await recorded;
      if (isDatabaseUnreachable(error)) {
        deps.logger.warn('database unreachable; answering 503', {
          dialect: dialect.name,
          requestId,
        });
        refuse({
          status: 503,
          message: 'the database cannot be reached; retry shortly',
          retryAfterSeconds: 1,
        });
        return;
      }
      deps.logger.error('compatible ingress failed', { dialect: dialect.name, requestId, error });
      refuse({ status: 500, message: 'internal server error; it has been logged' });
      return;
    }
    if (E.isRight(result)) {
      const body = dialect.accepted(result.right, message, at);
      const recorded = record(() => deps.idempotency.complete(app.app_id, key, 200, body));
      if (isPromise(recorded)) await recorded;
      send(200, body);
      return;
    }
    const refusal = result.left;
    if (refusal.code === 'not_found') {
      const recorded = record(() => deps.idempotency.abandon(app.app_id, key));
      if (isPromise(recorded)) await recorded;
      refuse(dialect.unknownKey());
      return;
    }
    const status =
      refusal.code in problemCatalogue
        ? problemCatalogue[refusal.code as keyof typeof problemCatalogue].status
        : 500;
    const failure: CompatFailure = {
      status,
      message: refusal.message,
      ...(refusal.code === 'rate_limited' ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
      ...(refusal.code === 'rate_limited' ? { ntfyCode: 42908 } : {}),
    };
    // "Try again" answers are not kept: the retry runs (with the same message id).
    const recorded = record(() =>
      status >= 500 || transientCodes.has(refusal.code)
        ? deps.idempotency.abandon(app.app_id, key)
        : deps.idempotency.complete(app.app_id, key, status, dialect.refused(failure, at)),
    );
    if (isPromise(recorded)) await recorded;
    refuse(failure);
  };

  const run =
    (handler: (request: Request, response: Response) => Promise<void>) =>
    (request: Request, response: Response, next: (error?: unknown) => void): void => {
      handler(request, response).catch(next);
    };

  const barkPush = (request: Request, pathKey?: string) =>
    parseBark({
      headers: request.headers,
      url: request.originalUrl,
      body: rawBodyOf(request),
      ...(pathKey === undefined ? {} : { pathKey }),
      segments: pathKey === undefined ? [] : segmentsAfterKey(request),
    });
  const keyOf = (request: Request): string => request.path.split('/')[1] ?? '';
  const ntfyRequest = (request: Request) => ({
    headers: request.headers,
    url: request.originalUrl,
    body: rawBodyOf(request),
  });

  // Bark: the JSON or form push with the key in it.
  router.post(
    /^\/push\/?$/i,
    run((request, response) => {
      const parsed = barkPush(request);
      // A key not in the form of a binding key is nobody's here.
      const key = E.isRight(parsed) ? parsed.right.draft.key : undefined;
      return ingest(
        request,
        response,
        bark,
        key !== undefined && !BINDING_KEY.test(key) ? E.left('unknown' as const) : parsed,
      );
    }),
  );
  // Bark: the path forms, by GET or POST.
  for (const segments of [1, 2, 3]) {
    const path = keyPath(segments);
    const handler = run((request, response) =>
      ingest(request, response, bark, barkPush(request, keyOf(request))),
    );
    router.get(path, handler);
    router.post(path, handler);
  }
  // ntfy: the text publish; a POST with Bark's JSON or form fields is Bark's key-only form.
  router.post(
    keyPath(0),
    run((request, response) => {
      const body = rawBodyOf(request);
      if (looksLikeBark(request.headers, body)) {
        return ingest(request, response, bark, barkPush(request, keyOf(request)));
      }
      return ingest(
        request,
        response,
        ntfy,
        parseNtfyPublish(ntfyRequest(request), keyOf(request), new Date()),
      );
    }),
  );
  router.put(
    keyPath(0),
    run((request, response) =>
      ingest(
        request,
        response,
        ntfy,
        parseNtfyPublish(ntfyRequest(request), keyOf(request), new Date()),
      ),
    ),
  );
  // ntfy: the JSON publish at the root.
  router.post(
    '/',
    run((request, response) =>
      ingest(request, response, ntfy, parseNtfyJson(rawBodyOf(request), new Date())),
    ),
  );
  return router;
};

/**
 * The request's claim on its idempotency key: the sender's `Idempotency-Key` (24 h, as the API's)
 * or, without one, a key derived from the dialect and the message (binding key and content), for
 * {@link COMPAT_REPEAT_WINDOW_MS}. The message id is derived from the key and its first use.
 */
const claimOf = (
  store: IdempotencyStore,
  request: Request,
  appId: string,
  dialect: Dialect,
  message: CompatMessage,
  at: Date,
) => {
  const header = request.headers['idempotency-key'];
  const given = Array.isArray(header) ? header.join(',') : header;
  if (given !== undefined && !isIdempotencyKey(given)) {
    return E.left<CompatFailure>({
      status: 400,
      message: 'Idempotency-Key must be 1 to 128 visible ASCII characters',
    });
  }
  const fingerprint = { compat: dialect.name, draft: message.draft, priority: message.priority };
  // A space never appears in a sent key (visible ASCII only), so the two kinds never meet.
  const key = given ?? `compat ${bodyHash(fingerprint)}`;
  const started = store.begin(
    appId,
    key,
    fingerprint,
    at,
    given === undefined ? COMPAT_REPEAT_WINDOW_MS : undefined,
  );
  return E.right({ key, started });
};

import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { setAppCallback, type AppCallbackDeps } from '../../../application/apps/appCallback.js';
import { CallbackEventType } from '../../../domain/callback/callbackEventTypes.js';
import { HttpUrl } from '../../../domain/shared/codecs.js';
import type { CallbackDeliveryRow } from '../../../projections/callbacks/callbacksProjection.js';
import { boundedString, queryInt, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { commandProblem, defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { destinationCheckOf } from './deviceRoutes.js';
import { invocationOf, orRefusal } from './refusals.js';

const CallbackEvents = t.readonlyArray(CallbackEventType, 'CallbackEvents');

const CallbackBody = strictObject(
  'CallbackRegistration',
  { url: HttpUrl },
  { events: CallbackEvents, rotateSecret: t.boolean },
);

const CallbackView = t.type({ url: t.string, events: CallbackEvents }, 'Callback');

const RegisteredCallbackView = t.type(
  { url: t.string, events: CallbackEvents, secret: t.string },
  'RegisteredCallback',
);

const DeliveryStatus = t.keyof(
  { pending: null, delivered: null, failed: null },
  'CallbackDeliveryStatus',
);

const DeliveriesQuery = strictObject(
  'CallbackDeliveriesQuery',
  {},
  { status: DeliveryStatus, limit: queryInt('Limit', { min: 1, max: 500 }) },
);

const DeliveryParams = strictObject('CallbackDeliveryParams', {
  id: boundedString('CallbackDeliveryId', { minLength: 1, maxLength: 64 }),
});

const DeliveryView = t.intersection(
  [
    t.type({
      id: t.string,
      type: CallbackEventType,
      occurredAt: t.string,
      status: DeliveryStatus,
      attempts: t.number,
      createdAt: t.string,
    }),
    t.partial({
      nextAttemptAt: t.string,
      lastStatus: t.number,
      lastError: t.string,
      deliveredAt: t.string,
    }),
  ],
  'CallbackDelivery',
);

const AppChange = strictObject('AppChange', { compatIngress: t.boolean });

const deliveryView = (row: CallbackDeliveryRow): t.TypeOf<typeof DeliveryView> => ({
  id: row.delivery_id,
  type: row.event_type,
  occurredAt: row.occurred_at,
  status: row.status,
  attempts: row.attempts,
  createdAt: row.created_at,
  ...(row.next_attempt_at === null ? {} : { nextAttemptAt: row.next_attempt_at }),
  ...(row.last_status === null ? {} : { lastStatus: row.last_status }),
  ...(row.last_error === null ? {} : { lastError: row.last_error }),
  ...(row.delivered_at === null ? {} : { deliveredAt: row.delivered_at }),
});

/** What the callback use cases are given by the HTTP adapter: the guard and the secret box. */
export const appCallbackDepsOf = (deps: ApiDeps): AppCallbackDeps => ({
  commands: deps.commands,
  secrets: deps.secrets,
  checkDestination: destinationCheckOf(deps),
  allowsPlainHttp: (host) => deps.outboundAllowlist.allowsHost(host),
  randomBytes: (size) => randomBytes(size),
});

/** An app's callback and its compatible ingress (docs/api.md, "App callbacks"). */
export const appCallbackRoutes = (deps: ApiDeps): Route[] => {
  const set = setAppCallback(appCallbackDepsOf(deps));
  return [
    defineRoute(
      {
        method: 'put',
        path: '/v1/app/callback',
        tag: 'app',
        summary: 'Register or change your callback',
        description:
          'Events of the listed types (all when events is left out) are POSTed to url, signed as Standard Webhooks prescribe with secret (whsec_…). The URL must be https (plain http only to hosts the operator allowlisted) and pass the outbound guard. The answer shows the secret; rotateSecret: true makes a new one, and the one before keeps signing beside it (two signatures in webhook-signature) for 24 hours.',
        auth: 'app',
        body: CallbackBody,
        errors: ['forbidden_destination'],
        responses: {
          200: {
            description: 'The callback, with its signing secret',
            body: RegisteredCallbackView,
          },
        },
      },
      async (request) => {
        const registered = orRefusal(
          await set(request.caller.appId, request.body, invocationOf(request)),
        );
        return { status: 200, body: registered };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/app/callback',
        tag: 'app',
        summary: 'Your callback',
        description: 'Its URL and types; the secret is shown only by PUT. 404 when none is set.',
        auth: 'app',
        errors: ['not_found'],
        responses: { 200: { description: 'The callback', body: CallbackView } },
      },
      (request) => {
        const row = deps.apps.byId(request.caller.appId);
        if (row === undefined || row.callback_url === null || row.callback_events === null) {
          throw new ProblemError(
            'not_found',
            'you have no callback; PUT /v1/app/callback sets one',
          );
        }
        return Promise.resolve({
          status: 200,
          body: {
            url: row.callback_url,
            events: JSON.parse(row.callback_events) as t.TypeOf<typeof CallbackEvents>,
          },
        });
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/app/callback',
        tag: 'app',
        summary: 'Remove your callback',
        description:
          'Nothing more is sent; deliveries not made yet are given up at their next attempt. Removing none is 204 too.',
        auth: 'app',
        responses: { 204: { description: 'Removed' } },
      },
      async (request) => {
        const removed = await deps.commands.execute(
          'app',
          request.caller.appId,
          {
            type: 'RemoveAppCallback',
            data: { appId: request.caller.appId },
            metadata: { now: request.now },
          },
          invocationOf(request).commandContext(),
        );
        if (E.isLeft(removed)) throw commandProblem(removed.left);
        return { status: 204 };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/app/callback/deliveries',
        tag: 'app',
        summary: 'Your recent callback deliveries',
        description:
          'Newest first (limit, default 100), optionally in one status: pending (an attempt is due at nextAttemptAt), delivered, or failed (given up after 24 h, or the callback was removed).',
        auth: 'app',
        query: DeliveriesQuery,
        responses: {
          200: { description: 'Deliveries', body: t.type({ items: t.array(DeliveryView) }) },
        },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps.callbacks
              .ofApp(request.caller.appId, request.query.status, request.query.limit ?? 100)
              .map(deliveryView),
          },
        }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/app/callback/deliveries/:id/retry',
        tag: 'app',
        summary: 'Send a callback delivery again',
        description:
          'A delivered or failed delivery is sent again now, with the same webhook-id, and retried for another 24 h; a pending one is left as it is. Either way 202.',
        auth: 'app',
        params: DeliveryParams,
        errors: ['not_found'],
        responses: {
          202: { description: 'Queued', body: t.type({ id: t.string, status: DeliveryStatus }) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const row = deps.callbacks.byId(id);
        if (row === undefined || row.app_id !== request.caller.appId) {
          throw new ProblemError('not_found', `no callback delivery ${id}`);
        }
        const retried = await deps.commands.execute(
          'callback',
          id,
          {
            type: 'RetryCallback',
            data: { deliveryId: id, appId: request.caller.appId },
            metadata: { now: request.now },
          },
          invocationOf(request).commandContext(),
        );
        if (E.isLeft(retried)) throw commandProblem(retried.left);
        return { status: 202, body: { id, status: 'pending' as const } };
      },
    ),
    defineRoute(
      {
        method: 'patch',
        path: '/v1/app',
        tag: 'app',
        summary: 'Change your app',
        description:
          'compatIngress turns the Bark- and ntfy-compatible ingress on or off for your binding keys (docs/api.md, "Compatible ingress"). Answers your standing, as GET /v1/app.',
        auth: 'app',
        body: AppChange,
        responses: {
          200: {
            description: 'The change is made',
            body: t.type({ compatIngress: t.boolean }, 'AppChanged'),
          },
        },
      },
      async (request) => {
        const changed = await deps.commands.execute(
          'app',
          request.caller.appId,
          {
            type: 'SetAppCompatIngress',
            data: { appId: request.caller.appId, enabled: request.body.compatIngress },
            metadata: { now: request.now },
          },
          invocationOf(request).commandContext(),
        );
        if (E.isLeft(changed)) throw commandProblem(changed.left);
        return { status: 200, body: { compatIngress: request.body.compatIngress } };
      },
    ),
  ];
};

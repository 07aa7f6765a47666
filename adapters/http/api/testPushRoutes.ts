import * as t from 'io-ts';
import { isSystemApp } from '../../../domain/app/systemApp.js';
import type { CommandBus } from '../../../application/commandBus.js';
import { sendTestPush } from '../../../application/testPush/sendTestPush.js';
import type { RateLimiter } from '../../../application/shared/rateLimiter.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';
import { secureIds } from '../../security/secureIds.js';
import type { AppQueries } from '../../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { RecipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { apiStatusOf, type MessageQueries } from '../../../projections/messages/messageQueries.js';
import { invocationOf, orRefusal } from './refusals.js';
import { DeliveryView, deliveryView } from './deliveryView.js';
import { DeviceParams } from './deviceRoutes.js';

export interface TestPushDeps {
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly bindings: BindingQueries;
  readonly recipients: RecipientQueries;
  readonly messages: MessageQueries;
  readonly publicUrl: string;
  /** Test pushes per person: a few at once, then about one a minute. */
  readonly testPushLimit: RateLimiter;
}

const Accepted = t.type(
  {
    messageId: t.string,
    status: t.keyof({ accepted: null, suppressed: null }),
    level: t.keyof({ strong: null, weak: null, none: null }),
    blocked: t.boolean,
    muted: t.boolean,
  },
  'TestPushAccepted',
);

const TestPushParams = strictObject('TestPushParams', {
  messageId: boundedString('MessageId', { minLength: 1, maxLength: 64 }),
});

const TestPushStatus = t.type(
  {
    messageId: t.string,
    status: t.string,
    deliveries: t.array(DeliveryView),
  },
  'TestPushStatus',
);

/** The recipient routes of the devices page: send a test push, and see where it went. */
export const testPushRoutes = (deps: TestPushDeps): Route[] => {
  const send = sendTestPush({
    ...deps,
    ids: secureIds,
    systemAppRedirectUri: new URL('/', deps.publicUrl).href,
  });
  return [
    defineRoute(
      {
        method: 'post',
        path: '/v1/me/devices/:deviceId/test',
        tag: 'recipient',
        summary: 'Send a test push to one of your devices',
        description:
          'Like POST /v1/me/test-push, but the message names this device and is pushed to it alone (if it works and your level for the Tidings app lets a push through). Follow it with GET /v1/me/test-push/:messageId.',
        auth: 'recipient',
        params: DeviceParams,
        errors: ['not_found', 'illegal_state', 'rate_limited'],
        responses: {
          202: {
            description: 'Submitted',
            body: t.type({ messageId: t.string }, 'DeviceTestAccepted'),
          },
        },
      },
      async (request) => {
        const sent = orRefusal(
          await send(
            request.caller.recipientId,
            invocationOf(request),
            request.params.deviceId,
            request.headers['accept-language'],
          ),
        );
        return { status: 202, body: { messageId: sent.messageId } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/me/test-push',
        tag: 'recipient',
        summary: 'Send yourself a test push',
        description:
          'Submits a message from the built-in Tidings app to you (authorizing it at level strong on first use, or after you unbound it). It is moderated, routed by your level for that app and delivered like any message; suppressed means you set the Tidings app to none or blocked it.',
        auth: 'recipient',
        errors: ['illegal_state', 'rate_limited'],
        responses: { 202: { description: 'Submitted', body: Accepted } },
      },
      async (request) => ({
        status: 202,
        body: orRefusal(
          await send(
            request.caller.recipientId,
            invocationOf(request),
            undefined,
            request.headers['accept-language'],
          ),
        ),
      }),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/me/test-push/:messageId',
        tag: 'recipient',
        summary: 'Where one of your test pushes is',
        auth: 'recipient',
        params: TestPushParams,
        errors: ['not_found'],
        responses: { 200: { description: 'Its status and deliveries', body: TestPushStatus } },
      },
      (request) => {
        const row = deps.messages.byId(request.params.messageId);
        if (
          row === undefined ||
          !isSystemApp(row.app_id) ||
          row.recipient_id !== request.caller.recipientId
        ) {
          throw new ProblemError('not_found', `no test push ${request.params.messageId}`);
        }
        return Promise.resolve({
          status: 200,
          body: {
            messageId: row.message_id,
            status: apiStatusOf(row, new Date().toISOString()),
            deliveries: deps.messages.deliveries(row.message_id).map(deliveryView),
          },
        });
      },
    ),
  ];
};

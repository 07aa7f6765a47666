import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { CommandBus } from '../../../application/commandBus.js';
import type { TokenBuckets } from '../rateLimiter.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError, rateLimited } from '../problem.js';
import { defineRoute, orProblem, type Route, type RouteContext, type Caller } from '../routing.js';
import { commandContext } from './deps.js';
import { bindingIdFor } from './consentRoutes.js';
import { hashSecret, newOrderedId, newSecret } from '../../security/secrets.js';
import type { AppQueries } from '../../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { RecipientQueries } from '../../../projections/recipients/recipientQueries.js';
import { apiStatusOf, type MessageQueries } from '../../../projections/messages/messageQueries.js';
import { SYSTEM_APP_ID, SYSTEM_APP_NAME } from './systemApp.js';

export interface TestPushDeps {
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly bindings: BindingQueries;
  readonly recipients: RecipientQueries;
  readonly messages: MessageQueries;
  readonly publicUrl: string;
  /** Test pushes per person: a few at once, then about one a minute. */
  readonly testPushLimit: TokenBuckets;
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
    deliveries: t.array(
      t.intersection([
        t.type({ channel: t.string, status: t.string, attempts: t.number }),
        t.partial({ lastError: t.string, deliveredAt: t.string }),
      ]),
    ),
  },
  'TestPushStatus',
);

type Context = RouteContext<unknown, unknown, unknown, Caller>;

/** Registers the system app once; a concurrent first use that lost the race finds it there. */
const ensureSystemApp = async (deps: TestPushDeps, request: Context): Promise<void> => {
  if (deps.apps.byId(SYSTEM_APP_ID) !== undefined) return;
  const registered = await deps.commands.execute(
    'app',
    SYSTEM_APP_ID,
    {
      type: 'RegisterApp',
      data: {
        appId: SYSTEM_APP_ID,
        name: SYSTEM_APP_NAME,
        redirectUris: [new URL('/', deps.publicUrl).href],
        secretHash: hashSecret(newSecret('tds_')),
      },
      metadata: { now: request.now },
    },
    commandContext({ ...request, actor: { kind: 'system', id: 'web' } }),
  );
  if (E.isLeft(registered) && deps.apps.byId(SYSTEM_APP_ID) === undefined) {
    orProblem(registered);
  }
};

/** The recipient routes of the devices page: send a test push, and see where it went. */
export const testPushRoutes = (deps: TestPushDeps): Route[] => [
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
    async (request) => {
      const { recipientId } = request.caller;
      if (deps.recipients.devices(recipientId).length === 0) {
        throw new ProblemError('illegal_state', 'set up a device first, then test it');
      }
      const rate = deps.testPushLimit.take(recipientId);
      if (!rate.allowed) {
        throw rateLimited('too many test pushes', rate.retryAfterSeconds);
      }
      await ensureSystemApp(deps, request);
      // The person's own id is the system app's openid for them: one binding per person.
      const bindingId = bindingIdFor(SYSTEM_APP_ID, recipientId);
      if (deps.bindings.byId(bindingId)?.status !== 'active') {
        orProblem(
          await deps.commands.execute(
            'binding',
            bindingId,
            {
              type: 'AuthorizeBinding',
              data: {
                bindingId,
                appId: SYSTEM_APP_ID,
                recipientId,
                openid: recipientId,
                level: 'strong',
                // Nobody submits by key for the system app; the key is made and forgotten.
                keyHash: hashSecret(newSecret('tbk_')),
              },
              metadata: { now: request.now },
            },
            commandContext(request),
          ),
        );
      }
      const binding = deps.bindings.byId(bindingId);
      const app = deps.apps.byId(SYSTEM_APP_ID);
      if (binding === undefined || app === undefined) {
        throw new Error('the system app binding is missing right after it was written');
      }
      const messageId = newOrderedId('msg_');
      const submitted = orProblem(
        await deps.commands.execute(
          'message',
          messageId,
          {
            type: 'SubmitMessage',
            data: {
              messageId,
              appId: SYSTEM_APP_ID,
              bindingId,
              recipientId,
              title: 'Tidings test push',
              body: `It works: this came through Tidings at ${request.now.slice(11, 16)} UTC. 推送测试成功。`,
              thread: 'tidings-test',
              level: 'active',
              binding: {
                status: binding.status,
                level: binding.level,
                blocked: binding.blocked === 1,
              },
              app: {
                status: app.status,
                ...(app.suspended_until === null ? {} : { suspendedUntil: app.suspended_until }),
              },
            },
            metadata: { now: request.now },
          },
          commandContext(request),
        ),
      );
      return {
        status: 202,
        body: {
          messageId,
          status: submitted.state.status === 'suppressed' ? 'suppressed' : 'accepted',
          level: binding.level,
          blocked: binding.blocked === 1,
          muted: binding.muted_until !== null && binding.muted_until > request.now,
        },
      };
    },
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
        row.app_id !== SYSTEM_APP_ID ||
        row.recipient_id !== request.caller.recipientId
      ) {
        throw new ProblemError('not_found', `no test push ${request.params.messageId}`);
      }
      return Promise.resolve({
        status: 200,
        body: {
          messageId: row.message_id,
          status: apiStatusOf(row, new Date().toISOString()),
          deliveries: deps.messages.deliveries(row.message_id).map((d) => ({
            channel: d.channel,
            status: d.status,
            attempts: d.attempts,
            ...(d.last_error === null ? {} : { lastError: d.last_error }),
            ...(d.delivered_at === null ? {} : { deliveredAt: d.delivered_at }),
          })),
        },
      });
    },
  ),
];

import * as E from 'fp-ts/lib/Either.js';
import { SYSTEM_APP_ID, SYSTEM_APP_NAME } from '../../domain/app/systemApp.js';
import { formatDateTime, translate } from '../i18n/catalogue.js';
import { chooseLocale } from '../i18n/chooseLocale.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../projections/bindings/bindingQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { CommandBus } from '../commandBus.js';
import { bindingIdFor } from '../consent/bindingId.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import { isPromise } from '../shared/maybePromise.js';
import type { RateLimiter } from '../shared/rateLimiter.js';
import { rateLimited, type Refusal } from '../shared/refusal.js';

/** What sending a test push needs. */
export interface SendTestPushDeps {
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly bindings: BindingQueries;
  readonly recipients: RecipientQueries;
  /** Test pushes per person: a few at once, then about one a minute. */
  readonly testPushLimit: RateLimiter;
  readonly ids: Ids;
  /**
   * The one redirect URI the built-in app (domain/app/systemApp.ts) is registered with: Tidings'
   * own pages. Nobody is ever sent there, since nobody consents to it.
   */
  readonly systemAppRedirectUri: string;
}

/** A test push submitted, with the person's settings for the system app that decide its way. */
export interface TestPushSent {
  readonly messageId: string;
  readonly status: 'accepted' | 'suppressed';
  readonly level: 'strong' | 'weak' | 'none';
  readonly blocked: boolean;
  readonly muted: boolean;
}

/**
 * Sends a person a test push from the system app (docs/api.md `POST /v1/me/test-push`),
 * authorizing it at level strong on first use or after the person unbound it. It is moderated,
 * routed and delivered like any message. With `deviceId` (`POST /v1/me/devices/:id/test`) the
 * message names that one device, and the router pushes to it alone. Its words are in the
 * person's language (their preference, else the request's `Accept-Language`, else English), its
 * time in their time zone (UTC when they chose none).
 */
export const sendTestPush =
  (deps: SendTestPushDeps) =>
  async (
    recipientId: string,
    call: Invocation,
    deviceId?: string,
    acceptLanguage?: string,
  ): Promise<E.Either<Refusal, TestPushSent>> => {
    if (deviceId !== undefined && deps.recipients.device(recipientId, deviceId) === undefined) {
      return E.left(domainError('not_found', `no device ${deviceId}`, { deviceId }));
    }
    if (deps.recipients.devices(recipientId).length === 0) {
      return E.left(domainError('illegal_state', 'set up a device first, then test it'));
    }
    const taken = deps.testPushLimit.take(recipientId);
    const rate = isPromise(taken) ? await taken : taken;
    if (!rate.allowed) return E.left(rateLimited('too many test pushes', rate.retryAfterSeconds));
    const bound = await bindSystemApp(deps, recipientId, call);
    if (E.isLeft(bound)) return bound;
    const binding = deps.bindings.byId(bound.right);
    const app = deps.apps.byId(SYSTEM_APP_ID);
    if (binding === undefined || app === undefined) {
      throw new Error('the system app binding is missing right after it was written');
    }
    const messageId = deps.ids.ordered('msg_');
    const preferences = deps.recipients.preferences(recipientId);
    const locale = chooseLocale({ preference: preferences.locale, acceptLanguage });
    const time = formatDateTime(locale, call.now, preferences.timeZone ?? 'UTC', {
      timeStyle: 'short',
    });
    const zone = preferences.timeZone ?? 'UTC';
    const submitted = await deps.commands.execute(
      'message',
      messageId,
      {
        type: 'SubmitMessage',
        data: {
          messageId,
          appId: app.app_id,
          bindingId: binding.binding_id,
          recipientId,
          title: translate(locale, 'testPush.title'),
          body: translate(locale, 'testPush.body', { time: `${time} (${zone})` }),
          thread: 'tidings-test',
          level: 'active',
          // A device's own test goes to that device alone, whatever the binding chose.
          ...(deviceId === undefined ? {} : { deviceId }),
          binding: { status: binding.status, level: binding.level, blocked: binding.blocked === 1 },
          app: {
            status: app.status,
            ...(app.suspended_until === null ? {} : { suspendedUntil: app.suspended_until }),
          },
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(submitted)) return submitted;
    return E.right({
      messageId,
      status: submitted.right.state.status === 'suppressed' ? 'suppressed' : 'accepted',
      level: binding.level,
      blocked: binding.blocked === 1,
      muted: binding.muted_until !== null && binding.muted_until > call.now,
    });
  };

/**
 * Registers the system app if need be and binds the person to it (their own id is its openid
 * for them: one binding per person); answers the binding's id.
 */
const bindSystemApp = async (
  deps: SendTestPushDeps,
  recipientId: string,
  call: Invocation,
): Promise<E.Either<Refusal, string>> => {
  const registered = await ensureSystemApp(deps, call);
  if (E.isLeft(registered)) return registered;
  const appId = SYSTEM_APP_ID;
  const bindingId = bindingIdFor(deps.ids, appId, recipientId);
  if (deps.bindings.byId(bindingId)?.status === 'active') return E.right(bindingId);
  const authorized = await deps.commands.execute(
    'binding',
    bindingId,
    {
      type: 'AuthorizeBinding',
      data: {
        bindingId,
        appId,
        recipientId,
        openid: recipientId,
        level: 'strong',
        // Nobody submits by key for the system app; the key is made and forgotten.
        keyHash: deps.ids.hash(deps.ids.secret('tbk_')),
      },
      metadata: { now: call.now },
    },
    call.commandContext(),
  );
  return E.isLeft(authorized) ? authorized : E.right(bindingId);
};

/** Registers the system app once; a concurrent first use that lost the race finds it there. */
const ensureSystemApp = async (
  deps: SendTestPushDeps,
  call: Invocation,
): Promise<E.Either<Refusal, void>> => {
  if (deps.apps.byId(SYSTEM_APP_ID) !== undefined) return E.right(undefined);
  const registered = await deps.commands.execute(
    'app',
    SYSTEM_APP_ID,
    {
      type: 'RegisterApp',
      data: {
        appId: SYSTEM_APP_ID,
        name: SYSTEM_APP_NAME,
        redirectUris: [deps.systemAppRedirectUri],
        secretHash: deps.ids.hash(deps.ids.secret('tds_')),
      },
      metadata: { now: call.now },
    },
    call.commandContext(undefined, { kind: 'system', id: 'web' }),
  );
  return E.isLeft(registered) && deps.apps.byId(SYSTEM_APP_ID) === undefined
    ? registered
    : E.right(undefined);
};

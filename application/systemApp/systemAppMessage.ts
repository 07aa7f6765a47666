import * as E from 'fp-ts/lib/Either.js';
import { SYSTEM_APP_ID, SYSTEM_APP_NAME } from '../../domain/app/systemApp.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../projections/bindings/bindingQueries.js';
import type { BindingRow } from '../../projections/bindings/bindingsProjection.js';
import type { CommandBus } from '../commandBus.js';
import { bindingIdFor } from '../consent/bindingId.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What sending a message from the built-in app (domain/app/systemApp.ts) needs. */
export interface SystemAppDeps {
  /** A command bus that waits for the read models: the binding is read back right after it is written. */
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly bindings: BindingQueries;
  readonly ids: Ids;
  /**
   * The one redirect URI the built-in app is registered with: Tidings' own pages. Nobody is ever
   * sent there, since nobody consents to it.
   */
  readonly systemAppRedirectUri: string;
}

/** A message Tidings itself sends one person: the fields of its submission. */
export interface SystemMessage {
  readonly messageId: string;
  readonly recipientId: string;
  readonly title: string;
  readonly body: string;
  readonly thread: string;
  readonly level: 'active' | 'passive';
  readonly url?: string;
  /** The one device of the person a device push may go to, whatever the binding chose. */
  readonly deviceId?: string;
}

/** A system message submitted, with the person's binding to the built-in app that decides its way. */
export interface SystemMessageSent {
  readonly status: 'accepted' | 'suppressed';
  readonly binding: BindingRow;
}

/**
 * Submits `message` from the built-in app "Tidings", registering the app on first use and
 * binding the person to it at level strong if they are not bound (first use, or after they
 * unbound it). From there it is moderated, routed by the person's level for the app and
 * delivered like any app's message. `commandId` makes the submission repeatable (its events are
 * not written twice); a message id that already holds the same submission answers as a no-op,
 * one that holds another answers `already_exists`.
 */
export const sendSystemMessage = async (
  deps: SystemAppDeps,
  message: SystemMessage,
  call: Invocation,
  commandId?: string,
): Promise<E.Either<Refusal, SystemMessageSent>> => {
  const bound = await bindSystemApp(deps, message.recipientId, call);
  if (E.isLeft(bound)) return bound;
  const binding = deps.bindings.byId(bound.right);
  const app = deps.apps.byId(SYSTEM_APP_ID);
  if (binding === undefined || app === undefined) {
    throw new Error('the system app binding is missing right after it was written');
  }
  const { messageId, recipientId, title, body, thread, level, url, deviceId } = message;
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
        title,
        body,
        thread,
        level,
        ...(url === undefined ? {} : { url }),
        ...(deviceId === undefined ? {} : { deviceId }),
        binding: { status: binding.status, level: binding.level, blocked: binding.blocked === 1 },
        app: {
          status: app.status,
          ...(app.suspended_until === null ? {} : { suspendedUntil: app.suspended_until }),
        },
      },
      metadata: { now: call.now },
    },
    call.commandContext(commandId),
  );
  if (E.isLeft(submitted)) return submitted;
  return E.right({
    status: submitted.right.state.status === 'suppressed' ? 'suppressed' : 'accepted',
    binding,
  });
};

/**
 * Registers the system app if need be and binds the person to it (their own id is its openid
 * for them: one binding per person); answers the binding's id.
 */
const bindSystemApp = async (
  deps: SystemAppDeps,
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
  deps: SystemAppDeps,
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

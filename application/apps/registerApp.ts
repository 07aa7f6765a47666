import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import { newWebhookSecret } from '../../channels/webhook/webhookSecret.js';
import { checkCallbackUrl, type AppCallbackDeps } from './appCallback.js';

/** Redirect URIs an app may register at most. */
export const MAX_REDIRECT_URIS = 20;

/** What registering an app needs (with a callback: what setting one needs). */
export interface RegisterAppDeps extends Pick<
  AppCallbackDeps,
  'secrets' | 'checkDestination' | 'allowsPlainHttp' | 'randomBytes'
> {
  readonly commands: CommandBus;
  readonly ids: Ids;
}

/** An app as an operator describes it. */
export interface AppDraft {
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly callbackUrl?: string;
}

/**
 * A registered app with its secret, shown this once: only its hash is stored; with a callback,
 * the callback's signing secret too (shown again by `PUT /v1/app/callback`).
 */
export interface RegisteredApp {
  readonly appId: string;
  readonly appSecret: string;
  readonly callbackSecret?: string;
}

/** Registers an app (docs/api.md, "Operator"): a new id and a new secret. */
export const registerApp =
  (deps: RegisterAppDeps) =>
  async (draft: AppDraft, call: Invocation): Promise<E.Either<Refusal, RegisteredApp>> => {
    const { name, redirectUris, callbackUrl } = draft;
    if (redirectUris.length === 0 || redirectUris.length > MAX_REDIRECT_URIS) {
      const message = `must list 1 to ${MAX_REDIRECT_URIS} URLs`;
      return E.left(
        domainError('validation_failed', `redirectUris ${message}`, {
          errors: [{ path: '/redirectUris', message }],
        }),
      );
    }
    if (callbackUrl !== undefined) {
      const refused = await checkCallbackUrl(deps, callbackUrl, '/callbackUrl');
      if (refused !== undefined) return E.left(refused);
    }
    const appId = deps.ids.random('app_');
    const appSecret = deps.ids.secret('tds_');
    const callbackSecret =
      callbackUrl === undefined ? undefined : newWebhookSecret(deps.randomBytes);
    const registered = await deps.commands.execute(
      'app',
      appId,
      {
        type: 'RegisterApp',
        data: {
          appId,
          name,
          redirectUris,
          secretHash: deps.ids.hash(appSecret),
          ...(callbackUrl === undefined || callbackSecret === undefined
            ? {}
            : { callbackUrl, callbackSecret: deps.secrets.seal(callbackSecret) }),
        },
        metadata: { now: call.now },
      },
      // A new random id names a stream no one has written: nothing to read before deciding.
      { ...call.commandContext(), newStream: true },
    );
    if (E.isLeft(registered)) return registered;
    return E.right({
      appId,
      appSecret,
      ...(callbackSecret === undefined ? {} : { callbackSecret }),
    });
  };

/** Gives an app a new secret, shown this once; the old one stops working at once. */
export const rotateAppSecret =
  (deps: Pick<RegisterAppDeps, 'commands' | 'ids'>) =>
  async (appId: string, call: Invocation): Promise<E.Either<Refusal, string>> => {
    const appSecret = deps.ids.secret('tds_');
    const rotated = await deps.commands.execute(
      'app',
      appId,
      {
        type: 'RotateAppSecret',
        data: { appId, secretHash: deps.ids.hash(appSecret) },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(rotated) ? rotated : E.right(appSecret);
  };

import * as E from 'fp-ts/lib/Either.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** Redirect URIs an app may register at most. */
export const MAX_REDIRECT_URIS = 20;

/** What registering an app needs. */
export interface RegisterAppDeps {
  readonly commands: CommandBus;
  readonly ids: Ids;
}

/** An app as an operator describes it. */
export interface AppDraft {
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly callbackUrl?: string;
}

/** A registered app with its secret, shown this once: only its hash is stored. */
export interface RegisteredApp {
  readonly appId: string;
  readonly appSecret: string;
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
    const appId = deps.ids.random('app_');
    const appSecret = deps.ids.secret('tds_');
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
          ...(callbackUrl === undefined ? {} : { callbackUrl }),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    return E.isLeft(registered) ? registered : E.right({ appId, appSecret });
  };

/** Gives an app a new secret, shown this once; the old one stops working at once. */
export const rotateAppSecret =
  (deps: RegisterAppDeps) =>
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

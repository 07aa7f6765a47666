import type * as E from 'fp-ts/lib/Either.js';
import { isSystemApp } from '../../domain/app/systemApp.js';
import type { AppQueries } from '../../projections/apps/appQueries.js';
import type { AppRow } from '../../projections/apps/appsProjection.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import type { MessageDraft } from './messageDraft.js';
import {
  submitMessage,
  type MessageIdentity,
  type SubmitMessageDeps,
  type SubmittedMessage,
} from './submitMessage.js';

/** What sending with nothing but a binding key needs. */
export interface SubmitWithKeyDeps extends SubmitMessageDeps {
  readonly apps: AppQueries;
}

/**
 * The app a binding key belongs to, when that app turned compatible ingress on (docs/api.md,
 * "Compatible ingress"); undefined for an unknown key, a key of an app without it and the
 * built-in app of test pushes alike, so an answer never tells whether a key exists.
 */
export const compatAppOf =
  (deps: Pick<SubmitWithKeyDeps, 'apps' | 'bindings' | 'ids'>) =>
  (key: string): AppRow | undefined => {
    const binding = deps.bindings.byKeyHash(deps.ids.hash(key));
    if (binding === undefined || isSystemApp(binding.app_id)) return undefined;
    const app = deps.apps.byId(binding.app_id);
    return app?.compat_ingress === 1 ? app : undefined;
  };

/**
 * Submits a message sent the way Bark and ntfy senders send: the binding key is the only
 * credential, and it names the person too; `app` is the key's ({@link compatAppOf}). Everything
 * else is `POST /v1/messages` from that app: the same draft checks, rate limit, standing,
 * moderation and preferences.
 */
export const submitWithKey = (deps: SubmitMessageDeps) => {
  const submit = submitMessage(deps);
  return (
    app: AppRow,
    draft: MessageDraft & { readonly key: string },
    call: Invocation,
    identity?: MessageIdentity,
  ): Promise<E.Either<Refusal, SubmittedMessage>> =>
    submit(
      {
        appId: app.app_id,
        status: app.status,
        ...(app.suspended_until === null ? {} : { suspendedUntil: app.suspended_until }),
      },
      draft,
      call,
      identity,
    );
};

import * as E from 'fp-ts/lib/Either.js';
import { isSystemApp } from '../../domain/app/systemApp.js';
import { domainError } from '../../domain/shared/domainError.js';
import { redirectUrisOf, type AppQueries } from '../../projections/apps/appQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';
import { bindingIdFor } from './bindingId.js';

/** What deciding on a consent request needs. */
export interface DecideConsentDeps {
  readonly commands: CommandBus;
  readonly apps: AppQueries;
  readonly ids: Ids;
}

/** A person's answer to an app's request to reach them. */
export interface ConsentDecision {
  readonly appId: string;
  readonly openid: string;
  readonly redirectUri: string;
  readonly decision: 'allow' | 'deny';
  readonly state?: string;
  readonly level?: 'strong' | 'weak';
}

/**
 * Decides a consent request (docs/api.md, "Consent (binding)") and answers where to send the
 * browser. Allow authorizes the binding with a new key (the old key stops working) and redirects
 * with the key; deny redirects with `bind=false`. A redirect URI the app did not register is
 * refused and never redirected to, so the page cannot bounce people anywhere.
 */
export const decideConsent =
  (deps: DecideConsentDeps) =>
  async (
    recipientId: string,
    consent: ConsentDecision,
    call: Invocation,
  ): Promise<E.Either<Refusal, string>> => {
    const { appId, openid, redirectUri, state } = consent;
    const app = deps.apps.byId(appId);
    // The built-in app of test pushes binds each person itself (openid = their recipient id);
    // nobody may consent to it in another's name, so it answers like an unknown app.
    if (app === undefined || isSystemApp(appId)) {
      return E.left(domainError('not_found', `no app ${appId}`));
    }
    if (!redirectUrisOf(app).includes(redirectUri)) {
      return E.left({
        code: 'invalid_redirect_uri',
        message: `${redirectUri} is not a redirect URI registered by ${app.name}`,
        details: { errors: [{ path: '/redirectUri', message: 'is not registered for this app' }] },
      });
    }
    if (consent.decision === 'deny') {
      return E.right(
        withQuery(redirectUri, { bind: 'false', errMsg: 'the user denied the request', state }),
      );
    }
    if (app.status === 'banned') {
      return E.left(domainError('app_banned', `${app.name} is banned and cannot be authorized`));
    }
    const bindingId = bindingIdFor(deps.ids, appId, openid);
    const key = deps.ids.secret('tbk_');
    const authorized = await deps.commands.execute(
      'binding',
      bindingId,
      {
        type: 'AuthorizeBinding',
        data: {
          bindingId,
          appId,
          recipientId,
          openid,
          level: consent.level ?? 'weak',
          keyHash: deps.ids.hash(key),
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(authorized)) return authorized;
    return E.right(withQuery(redirectUri, { key, bind: 'true', state }));
  };

/** `redirectUri` with the given query parameters added (existing ones are kept). */
const withQuery = (
  redirectUri: string,
  parameters: Readonly<Record<string, string | undefined>>,
): string => {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
};

import * as t from 'io-ts';
import { derivedId, hashSecret, newSecret } from '../../security/secrets.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, orProblem, type Route } from '../routing.js';
import { redirectUrisOf } from '../../../projections/apps/appQueries.js';
import { SYSTEM_APP_ID } from './systemApp.js';
import { commandContext, type ApiDeps } from './deps.js';

const AuthorizationBody = strictObject(
  'Authorization',
  {
    appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
    openid: boundedString('Openid', { minLength: 1, maxLength: 128 }),
    redirectUri: boundedString('RedirectUri', { minLength: 1, maxLength: 2048, format: 'uri' }),
    decision: t.keyof({ allow: null, deny: null }, 'Decision'),
  },
  {
    state: boundedString('State', { maxLength: 512 }),
    level: t.keyof({ strong: null, weak: null }, 'ConsentLevel'),
  },
);

/** The id of the binding between an app and one of its users: one per (app, openid). */
export const bindingIdFor = (appId: string, openid: string): string =>
  derivedId('bnd_', appId, openid);

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

/**
 * The consent decision (docs/api.md, "Consent (binding)"). The consent page posts here; the answer's
 * `redirect` is where the page sends the browser. A redirect URI the app did not register is
 * refused and never redirected to, so the page cannot be used to bounce people anywhere.
 */
export const consentRoutes = (deps: ApiDeps): Route[] => [
  defineRoute(
    {
      method: 'post',
      path: '/v1/me/authorizations',
      tag: 'recipient',
      summary: 'Allow or deny an app',
      description:
        'Allow creates the binding (or reactivates it with a new key; the old key stops working) and answers a redirect to redirectUri with key, bind=true and state; deny answers a redirect with bind=false, errMsg and state. level defaults to weak (inbox only) when not chosen.',
      auth: 'recipient',
      body: AuthorizationBody,
      errors: ['not_found', 'invalid_redirect_uri', 'app_banned', 'illegal_state'],
      responses: {
        200: { description: 'Where to send the browser', body: t.type({ redirect: t.string }) },
      },
    },
    async (request) => {
      const { appId, openid, redirectUri, decision, state, level } = request.body;
      const app = deps.apps.byId(appId);
      // The built-in app of test pushes binds each person itself (openid = their recipient id);
      // nobody may consent to it in another's name, so it answers like an unknown app.
      if (app === undefined || appId === SYSTEM_APP_ID) {
        throw new ProblemError('not_found', `no app ${appId}`);
      }
      if (!redirectUrisOf(app).includes(redirectUri)) {
        throw new ProblemError(
          'invalid_redirect_uri',
          `${redirectUri} is not a redirect URI registered by ${app.name}`,
          {
            errors: [{ path: '/redirectUri', message: 'is not registered for this app' }],
          },
        );
      }
      if (decision === 'deny') {
        return {
          status: 200,
          body: {
            redirect: withQuery(redirectUri, {
              bind: 'false',
              errMsg: 'the user denied the request',
              state,
            }),
          },
        };
      }
      if (app.status === 'banned') {
        throw new ProblemError('app_banned', `${app.name} is banned and cannot be authorized`);
      }
      const bindingId = bindingIdFor(appId, openid);
      const key = newSecret('tbk_');
      const { recipientId } = request.caller;
      orProblem(
        await deps.commands.execute(
          'binding',
          bindingId,
          {
            type: 'AuthorizeBinding',
            data: {
              bindingId,
              appId,
              recipientId,
              openid,
              level: level ?? 'weak',
              keyHash: hashSecret(key),
            },
            metadata: { now: request.now },
          },
          commandContext(request),
        ),
      );
      return {
        status: 200,
        body: { redirect: withQuery(redirectUri, { key, bind: 'true', state }) },
      };
    },
  ),
];

import * as t from 'io-ts';
import { decideConsent } from '../../../application/consent/decideConsent.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedString, strictObject } from '../codecs.js';
import { defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

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

/**
 * The consent decision (docs/api.md, "Consent (binding)"). The consent page posts here; the answer's
 * `redirect` is where the page sends the browser. A redirect URI the app did not register is
 * refused and never redirected to, so the page cannot be used to bounce people anywhere.
 */
export const consentRoutes = (deps: ApiDeps): Route[] => {
  const decide = decideConsent({ ...deps, ids: secureIds });
  return [
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
      async (request) => ({
        status: 200,
        body: {
          redirect: orRefusal(
            await decide(request.caller.recipientId, request.body, invocationOf(request)),
          ),
        },
      }),
    ),
  ];
};

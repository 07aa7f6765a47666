import * as t from 'io-ts';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';
import type { ApiDeps } from './deps.js';

const BindingLookup = strictObject('BindingLookup', {
  openid: boundedString('Openid', { minLength: 1, maxLength: 128 }),
});

const BindingView = t.type(
  {
    bindingId: t.string,
    openid: t.string,
    status: t.keyof({ active: null, revoked: null }),
    authorizedAt: t.string,
  },
  'BindingView',
);

/** Routes apps call with their secret (API.md, "App"); the message routes come with the pipeline. */
export const appRoutes = (deps: ApiDeps): Route[] => [
  defineRoute(
    {
      method: 'get',
      path: '/v1/bindings',
      tag: 'app',
      summary: 'Look up the binding of one of your users',
      description: "Only the calling app's own bindings are visible; any other openid is 404.",
      auth: 'app',
      query: BindingLookup,
      errors: ['not_found'],
      responses: { 200: { description: 'The binding', body: BindingView } },
    },
    (request) => {
      const row = deps.bindings.byAppAndOpenid(request.caller.appId, request.query.openid);
      if (row === undefined)
        throw new ProblemError('not_found', `no binding for openid ${request.query.openid}`);
      return Promise.resolve({
        status: 200,
        body: {
          bindingId: row.binding_id,
          openid: row.openid,
          status: row.status,
          authorizedAt: row.authorized_at,
        },
      });
    },
  ),
];

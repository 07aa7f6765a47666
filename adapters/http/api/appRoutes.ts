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

const OwnStanding = t.intersection(
  [
    t.type({
      appId: t.string,
      name: t.string,
      status: t.keyof({ active: null, suspended: null, banned: null }),
      score: t.number,
      upheldComplaints: t.array(
        t.type({
          category: t.string,
          severity: t.union([t.string, t.null]),
          decidedAt: t.union([t.string, t.null]),
        }),
      ),
    }),
    t.partial({ suspendedUntil: t.string }),
  ],
  'OwnStanding',
);

/** Routes apps call with their secret (docs/api.md, "App"); the message routes are in messageRoutes. */
export const appRoutes = (deps: ApiDeps): Route[] => [
  defineRoute(
    {
      method: 'get',
      path: '/v1/app',
      tag: 'app',
      summary: "Your app's standing",
      description:
        'Status, score and the categories and dates of upheld complaints against you. Who complained is never shown.',
      auth: 'app',
      responses: { 200: { description: 'Your standing', body: OwnStanding } },
    },
    (request) => {
      const row = deps.apps.byId(request.caller.appId);
      if (row === undefined) throw new ProblemError('not_found', 'your app no longer exists');
      return Promise.resolve({
        status: 200,
        body: {
          appId: row.app_id,
          name: row.name,
          status: row.status,
          score: row.score,
          ...(row.suspended_until === null ? {} : { suspendedUntil: row.suspended_until }),
          upheldComplaints: deps.complaints.upheldAgainst(row.app_id).map((complaint) => ({
            category: complaint.category,
            severity: complaint.severity,
            decidedAt: complaint.decided_at,
          })),
        },
      });
    },
  ),
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

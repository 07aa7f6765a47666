import * as t from 'io-ts';
import { HttpUrl } from '../../../domain/shared/codecs.js';
import { registerApp, rotateAppSecret } from '../../../application/apps/registerApp.js';
import { secureIds } from '../../security/secureIds.js';
import { boundedString, queryInt, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';
import { redirectUrisOf } from '../../../projections/apps/appQueries.js';
import type { ApiDeps } from './deps.js';
import { appCallbackDepsOf } from './appCallbackRoutes.js';
import { invocationOf, orRefusal } from './refusals.js';

const AppIdParams = strictObject('AppIdParams', {
  appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
});

const RedirectUris = t.readonlyArray(HttpUrl, 'RedirectUris');

const CreateAppBody = strictObject(
  'CreateApp',
  {
    name: boundedString('AppName', { minLength: 1, maxLength: 100 }),
    redirectUris: RedirectUris,
  },
  { callbackUrl: HttpUrl },
);

const AppStatus = t.keyof({ active: null, suspended: null, banned: null }, 'AppStatus');

const CreatedApp = t.intersection(
  [
    t.type({ appId: t.string, appSecret: t.string, name: t.string, redirectUris: RedirectUris }),
    t.partial({ callbackSecret: t.string }),
  ],
  'CreatedApp',
);

const AppView = t.intersection(
  [
    t.type({
      appId: t.string,
      name: t.string,
      status: AppStatus,
      score: t.number,
      complaints: t.type({ open: t.number, upheld: t.number, dismissed: t.number }),
      redirectUris: RedirectUris,
      registeredAt: t.string,
    }),
    t.partial({ suspendedUntil: t.string, callbackUrl: t.string }),
  ],
  'AppView',
);

const AppSummary = t.intersection(
  [
    t.type({
      appId: t.string,
      name: t.string,
      status: AppStatus,
      score: t.number,
      registeredAt: t.string,
    }),
    t.partial({ suspendedUntil: t.string }),
  ],
  'AppSummary',
);

const AppListQuery = strictObject(
  'AppListQuery',
  {},
  {
    sort: t.keyof({ score: null, name: null, registered: null }, 'AppSort'),
    status: AppStatus,
    limit: queryInt('Limit', { min: 1, max: 1_000 }),
  },
);

/** Operator routes for apps (docs/api.md, "Operator"). */
export const operatorRoutes = (deps: ApiDeps): Route[] => {
  const register = registerApp({ ...appCallbackDepsOf(deps), ids: secureIds });
  const rotate = rotateAppSecret({ ...deps, ids: secureIds });
  return [
    defineRoute(
      {
        method: 'get',
        path: '/v1/admin/apps',
        tag: 'operator',
        summary: 'Apps by reputation',
        description:
          'Lowest score first by default (sort=score); sort=name or registered; optionally one status.',
        auth: 'operator',
        query: AppListQuery,
        responses: { 200: { description: 'Apps', body: t.type({ items: t.array(AppSummary) }) } },
      },
      (request) =>
        Promise.resolve({
          status: 200,
          body: {
            items: deps
              .listApps({
                sort: request.query.sort ?? 'score',
                ...(request.query.status === undefined ? {} : { status: request.query.status }),
                limit: request.query.limit ?? 200,
              })
              .map((row) => ({
                appId: row.app_id,
                name: row.name,
                status: row.status,
                score: row.score,
                registeredAt: row.registered_at,
                ...(row.suspended_until === null ? {} : { suspendedUntil: row.suspended_until }),
              })),
          },
        }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/apps',
        tag: 'operator',
        summary: 'Register an app',
        description:
          'Returns the app secret once; only its hash is stored. A callbackUrl registers the callback for every type (as PUT /v1/app/callback would) and answers its signing secret as callbackSecret; it must be https (plain http only to allowlisted hosts) and pass the outbound guard.',
        auth: 'operator',
        body: CreateAppBody,
        errors: ['forbidden_destination'],
        responses: {
          201: { description: 'The app, with its secret (shown once)', body: CreatedApp },
        },
      },
      async (request) => {
        const { name, redirectUris } = request.body;
        const { appId, appSecret, callbackSecret } = orRefusal(
          await register(request.body, invocationOf(request)),
        );
        return {
          status: 201,
          body: {
            appId,
            appSecret,
            name,
            redirectUris,
            ...(callbackSecret === undefined ? {} : { callbackSecret }),
          },
        };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/admin/apps/:appId/secret',
        tag: 'operator',
        summary: "Rotate an app's secret",
        description:
          'The old secret stops working at once; the new one is shown once. The built-in app Tidings has no secret anyone may hold: rotating it is 403 forbidden.',
        auth: 'operator',
        params: AppIdParams,
        errors: ['forbidden', 'not_found'],
        responses: {
          200: { description: 'The new secret', body: t.type({ appSecret: t.string }) },
        },
      },
      async (request) => {
        const appSecret = orRefusal(await rotate(request.params.appId, invocationOf(request)));
        return { status: 200, body: { appSecret } };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/v1/admin/apps/:appId',
        tag: 'operator',
        summary: "An app's standing",
        auth: 'operator',
        params: AppIdParams,
        errors: ['not_found'],
        responses: { 200: { description: 'The app', body: AppView } },
      },
      (request) => {
        const row = deps.apps.byId(request.params.appId);
        if (row === undefined)
          throw new ProblemError('not_found', `no app ${request.params.appId}`);
        return Promise.resolve({
          status: 200,
          body: {
            appId: row.app_id,
            name: row.name,
            status: row.status,
            score: row.score,
            ...(row.suspended_until === null ? {} : { suspendedUntil: row.suspended_until }),
            complaints: deps.complaintCounts(row.app_id),
            redirectUris: redirectUrisOf(row),
            ...(row.callback_url === null ? {} : { callbackUrl: row.callback_url }),
            registeredAt: row.registered_at,
          },
        });
      },
    ),
  ];
};

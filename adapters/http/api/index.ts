import * as t from 'io-ts';
import { authenticateApp } from '../../../application/apps/authenticateApp.js';
import { secureIds } from '../../security/secureIds.js';
import { constantTimeEqual, hashSecret } from '../../security/secrets.js';
import { buildOpenApiDocument } from '../openapi.js';
import { defineRoute, mountRoutes, type Authenticators, type Route } from '../routing.js';
import type { RouteSpec } from '../routeSpec.js';
import { compatRouteSpecs } from '../compat/compatRouteSpecs.js';
import { appRoutes } from './appRoutes.js';
import { appCallbackRoutes } from './appCallbackRoutes.js';
import { auditRoutes, type AuditDeps } from './auditRoutes.js';
import { erasureRoutes } from './erasureRoutes.js';
import { exportRoutes } from './exportRoutes.js';
import { authRoutes } from './authRoutes.js';
import { consentRoutes } from './consentRoutes.js';
import type { ApiDeps } from './deps.js';
import { meRoutes } from './meRoutes.js';
import { preferencesRoutes } from './preferencesRoutes.js';
import { deviceRoutes } from './deviceRoutes.js';
import { operatorRoutes } from './operatorRoutes.js';
import { messageRoutes } from './messageRoutes.js';
import { inboxRoutes } from './inboxRoutes.js';
import { moderationRoutes } from './moderationRoutes.js';
import { complaintRoutes } from './complaintRoutes.js';
import { testPushRoutes } from './testPushRoutes.js';
import type { RateLimiter } from '../../../application/shared/rateLimiter.js';
import type { IdempotencyStore } from '../idempotency.js';
import type { ExportQueries } from '../../../projections/export/exportQueries.js';

/** The routes `createHttpApp` serves itself, declared here so the API document lists them too. */
const infrastructureSpecs: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'health',
    summary: 'The process is up',
    auth: 'none',
    responses: { 200: { description: 'Up', body: t.type({ status: t.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'health',
    summary: 'The store is reachable and the processors are running',
    auth: 'none',
    errors: ['unavailable'],
    responses: {
      200: {
        description: 'Ready',
        body: t.type({ status: t.literal('ready'), checks: t.UnknownRecord }),
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'health',
    summary: 'Prometheus metrics (text exposition format)',
    auth: 'none',
    responses: {
      200: {
        description: 'Metrics in the Prometheus text exposition format, version 0.0.4',
        mediaType: 'text/plain',
      },
    },
  },
];

export interface ApiOptions extends ApiDeps {
  readonly adminToken: string;
  readonly auditToken: string;
  readonly version: string;
  readonly idempotency: IdempotencyStore;
  /** Test pushes per person (composition/requestLimits.ts). */
  readonly testPushLimit: RateLimiter;
  /** The audit log and head signing; absent on a log this build does not chain. */
  readonly audit?: AuditDeps;
  /** The reads only a person's data export needs (`GET /v1/me/export`). */
  readonly personData: ExportQueries;
}

/** Every API route, the OpenAPI document built from their codecs, and the credential checks. */
export const createApiRouter = (options: ApiOptions): ReturnType<typeof mountRoutes> => {
  const routes: Route[] = [
    ...operatorRoutes(options),
    ...authRoutes(options),
    // The compatible Bark routes before the generic ones: `/v1/me/devices/bark` is theirs.
    ...meRoutes(options),
    ...preferencesRoutes(options),
    ...erasureRoutes(options),
    ...exportRoutes(options),
    ...deviceRoutes(options),
    ...consentRoutes(options),
    ...appRoutes(options),
    ...appCallbackRoutes(options),
    ...messageRoutes(options),
    ...inboxRoutes(options),
    ...moderationRoutes(options),
    ...complaintRoutes(options),
    ...auditRoutes(options.audit),
    ...testPushRoutes(options),
  ];
  let document: unknown;
  const openApiRoute = defineRoute(
    {
      method: 'get',
      path: '/openapi.json',
      tag: 'health',
      summary: 'This API as OpenAPI 3.1, generated from the codecs that validate requests',
      auth: 'none',
      responses: { 200: { description: 'The OpenAPI document', body: t.UnknownRecord } },
    },
    () => {
      document ??= buildOpenApiDocument(
        [
          ...infrastructureSpecs,
          ...routes.map((r) => r.spec),
          // Served by their own router (composition/httpApp.ts), documented with the rest.
          ...compatRouteSpecs,
          openApiRoute.spec,
        ],
        {
          title: 'Tidings API',
          version: options.version,
          description:
            'Apps push messages to people who authorized them; people decide how loudly.',
          serverUrl: options.publicUrl,
        },
      );
      return Promise.resolve({ status: 200, body: document });
    },
  );
  const appOfSecret = authenticateApp({ apps: options.apps, ids: secureIds });
  const authenticators: Authenticators = {
    operator: (token) => constantTimeEqual(token, options.adminToken),
    auditor: (token) => constantTimeEqual(token, options.auditToken),
    app: (secret) => {
      const row = appOfSecret(secret);
      return row === undefined
        ? undefined
        : {
            kind: 'app',
            appId: row.app_id,
            name: row.name,
            status: row.status,
            ...(row.suspended_until === null ? {} : { suspendedUntil: row.suspended_until }),
          };
    },
    recipient: (sessionId) => {
      const session = options.recipients.session(hashSecret(sessionId), new Date().toISOString());
      return session === undefined
        ? undefined
        : {
            kind: 'recipient',
            recipientId: session.recipient_id,
            username: session.username,
            sessionHash: session.session_hash,
          };
    },
  };
  return mountRoutes([...routes, openApiRoute], authenticators, {
    store: options.idempotency,
    logger: options.logger,
  });
};

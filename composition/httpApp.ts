import type { Express, Router } from 'express';
import { readOnlyGuard } from '../adapters/http/readOnly.js';
import { replayedUntil } from '../adapters/sqlite/replayCopy.js';
import type { ProcessorRunner } from '../application/processing/processor.js';
import type { CommandBus } from '../application/commandBus.js';
import type { PenaltyLadder } from '../domain/reputation/penaltyLadder.js';
import type { Position } from '../domain/shared/eventStore.js';
import { complaintCounts } from '../projections/complaints/complaintsProjection.js';
import { complaintQueries } from '../projections/complaints/complaintQueries.js';
import { exportQueries } from '../projections/export/exportQueries.js';
import { listApps } from '../projections/apps/appList.js';
import { createHttpApp } from '../adapters/http/app.js';
import { createApiRouter } from '../adapters/http/api/index.js';
import { createWebRouter } from '../adapters/web/webRouter.js';
import { compatIngressRouter, isCompatRequest } from '../adapters/http/compat/compatIngress.js';
import { secureIds } from '../adapters/security/secureIds.js';
import type { IdempotencyStore } from '../adapters/http/idempotency.js';
import type { AuditDeps } from '../adapters/http/api/auditRoutes.js';
import type { Allowlist } from '../adapters/outbound/addressPolicy.js';
import type { HostResolver } from '../adapters/outbound/destinationGuard.js';
import type { PasswordCost } from '../adapters/security/passwords.js';
import type { AccessTokens } from './accessTokens.js';
import type { Core } from './core.js';
import type { Queries } from './queries.js';
import type { ChannelSetup } from './channelSetup.js';
import type { InlineStages } from '../application/messages/inlineStages.js';
import { readinessChecks } from './readiness.js';
import type { ReadinessCheck } from '../adapters/http/app.js';
import { requestLimitsOf, type LimitOverrides } from './requestLimits.js';

/** The version reported by the API document. */
const VERSION = '0.1.0';

/** What the HTTP application is built from. */
export interface HttpParts {
  /** The command bus that waits for the read models (read-your-writes). */
  readonly commands: CommandBus;
  readonly queries: Queries;
  readonly ladder: PenaltyLadder;
  readonly tokens: AccessTokens;
  readonly idempotency: IdempotencyStore;
  readonly outboundAllowlist: Allowlist;
  /** The processors that should run on this node now, for the readiness check. */
  readonly runningHere: () => readonly ProcessorRunner[];
  /** With several nodes: waits for this node's read models before each request (composition/readBarrier.ts). */
  readonly barrier?: Router;
  /** With several nodes: this node's leases and lag, shown by `/readyz`. */
  readonly readinessDetails?: () => Promise<Record<string, unknown>>;
  /** The channels people's devices use, and the key that seals their secrets. */
  readonly delivery: ChannelSetup;
  /** Moderation and routing in the submission's command (composition/submissionStages.ts). */
  readonly inline?: InlineStages;
  /** Refuses new messages while delivery is behind (composition/admission.ts). */
  readonly admission?: Router;
  /** More for `/readyz` to check than the store and the processors (the delivery groups). */
  readonly readiness?: readonly ReadinessCheck[];
  readonly limits: LimitOverrides;
  readonly resolver?: HostResolver;
  readonly passwordCost?: PasswordCost;
  /** The audit routes' parts (composition/audit.ts); absent when they cannot be served. */
  readonly audit?: AuditDeps;
  /** Waits for the erasure processor (composition/erasure.ts); absent where none runs. */
  readonly erased?: (position: Position | undefined) => Promise<void>;
}

/** The express application: the web pages, the API (docs/api.md), health and readiness. */
export const buildHttpApp = (core: Core, parts: HttpParts): Express => {
  const { settings, db } = core;
  const { queries } = parts;
  // One set of limits for every way in: a message through the compatible ingress takes from the
  // same app rate limit as one through the API.
  const limits = requestLimitsOf(settings, parts.limits, core.shared?.pool);
  const api = createApiRouter({
    commands: parts.commands,
    logger: core.logger,
    ...queries,
    complaints: complaintQueries(db),
    personData: exportQueries(db),
    listApps: listApps(db),
    ladder: parts.ladder,
    complaintCounts: complaintCounts(db),
    publicUrl: settings.publicUrl,
    outboundAllowlist: parts.outboundAllowlist,
    channels: parts.delivery.channels,
    secrets: parts.delivery.secrets,
    ...(parts.resolver === undefined ? {} : { resolver: parts.resolver }),
    ...(parts.passwordCost === undefined ? {} : { passwordCost: parts.passwordCost }),
    ...limits,
    sessionTtlMs: settings.sessionDays * 24 * 60 * 60 * 1000,
    adminToken: parts.tokens.admin,
    auditToken: parts.tokens.audit,
    version: VERSION,
    idempotency: parts.idempotency,
    ...(parts.audit === undefined ? {} : { audit: parts.audit }),
    ...(parts.erased === undefined ? {} : { erased: parts.erased }),
    ...(parts.inline === undefined ? {} : { inline: parts.inline }),
  });
  return createHttpApp({
    logger: core.logger,
    metrics: core.metrics,
    // The web app first: its CSRF guard runs before every route, the API's included.
    routers: [
      ...(parts.barrier === undefined ? [] : [parts.barrier]),
      ...(parts.admission === undefined ? [] : [parts.admission]),
      ...(settings.readOnly ? [readOnlyGuard(replayedUntil(db))] : []),
      createWebRouter({
        apps: queries.apps,
        recipients: queries.recipients,
        publicUrl: settings.publicUrl,
      }),
      api,
      compatIngressRouter({
        commands: parts.commands,
        apps: queries.apps,
        bindings: queries.bindings,
        messages: queries.messages,
        appRateLimit: limits.appRateLimit,
        ids: secureIds,
        ...(parts.inline === undefined ? {} : { inline: parts.inline }),
        idempotency: parts.idempotency,
        logger: core.logger,
        readOnly: settings.readOnly,
      }),
    ],
    rawBodies: isCompatRequest,
    bodyLimitOverrides: { '/v1/messages/batch': '1mb' },
    trustProxy: settings.trustProxy,
    readiness: [...readinessChecks(core.store, parts.runningHere), ...(parts.readiness ?? [])],
    ...(parts.readinessDetails === undefined ? {} : { readinessDetails: parts.readinessDetails }),
  });
};

import type { InlineStages } from '../../../application/messages/inlineStages.js';
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../../domain/shared/commandHandler.js';
import type { CommandBus } from '../../../application/commandBus.js';
import type { Logger } from '../../../domain/shared/logger.js';
import type { Allowlist } from '../../outbound/addressPolicy.js';
import type { HostResolver } from '../../outbound/destinationGuard.js';
import type { PasswordCost } from '../../security/passwords.js';
import type { AppQueries } from '../../../projections/apps/appQueries.js';
import type { BindingQueries } from '../../../projections/bindings/bindingQueries.js';
import type { RecipientQueries } from '../../../projections/recipients/recipientQueries.js';
import type { MessageQueries } from '../../../projections/messages/messageQueries.js';
import type { CallbackQueries } from '../../../projections/callbacks/callbackQueries.js';
import type { ComplaintQueries } from '../../../projections/complaints/complaintQueries.js';
import type { listApps } from '../../../projections/apps/appList.js';
import type { PenaltyLadder } from '../../../domain/reputation/penaltyLadder.js';
import type { Caller, RouteContext } from '../routing.js';
import type { ChannelRegistry } from '../../../channels/registry.js';
import type { SecretBox } from '../../../application/shared/secretBox.js';
import type { FailureBudget, RateLimiter } from '../../../application/shared/rateLimiter.js';
import type { Position } from '../../../domain/shared/eventStore.js';

/** What the API routes need from the rest of Tidings; the composition root builds it. */
export interface ApiDeps {
  readonly commands: CommandBus;
  /** For failures a route answers without rethrowing (a batch item's). */
  readonly logger: Logger;
  readonly apps: AppQueries;
  readonly recipients: RecipientQueries;
  readonly bindings: BindingQueries;
  readonly complaintCounts: (appId: string) => { open: number; upheld: number; dismissed: number };
  readonly publicUrl: string;
  readonly outboundAllowlist: Allowlist;
  /** Resolver for the SSRF guard; the system's by default (tests inject one). */
  readonly resolver?: HostResolver;
  readonly passwordCost?: PasswordCost;
  /** Failed logins and registrations, per client address and per username. */
  readonly authFailures: { readonly byIp: FailureBudget; readonly byUsername: FailureBudget };
  /** New accounts per client address, successful ones included (each costs a password hash). */
  readonly registrations: RateLimiter;
  /** How long a login lasts. */
  readonly sessionTtlMs: number;
  readonly messages: MessageQueries;
  /** Messages per app: a burst, then a steady rate (429 beyond). */
  readonly appRateLimit: RateLimiter;
  /** Moderation and routing in the submission's own command, where the server may (see there). */
  readonly inline?: InlineStages;
  readonly complaints: ComplaintQueries;
  /** The apps' callback deliveries. */
  readonly callbacks: CallbackQueries;
  readonly listApps: ReturnType<typeof listApps>;
  readonly ladder: PenaltyLadder;
  /** The channels people's devices can be of (GET /v1/channels, settings checks). */
  readonly channels: ChannelRegistry;
  /** Seals devices' secret settings before they reach a command. */
  readonly secrets: SecretBox;
  /**
   * Resolves once the erasure processor has carried out every account deletion up to `position`
   * (the head when undefined); absent where accounts cannot be erased (EventStoreDB).
   */
  readonly erased?: (position: Position | undefined) => Promise<void>;
}

/** The command context of a request: a fresh command id, the caller as actor, the request as correlation. */
export const commandContext = (
  context: Pick<RouteContext<unknown, unknown, unknown, Caller>, 'actor' | 'requestId'>,
  commandId?: string,
): CommandContext =>
  commandId === undefined
    ? // A new random command id is never repeated by another request, so the time can order it.
      {
        commandId: randomUUID(),
        actor: context.actor,
        correlationId: context.requestId,
        orderKey: Date.now(),
      }
    : { commandId, actor: context.actor, correlationId: context.requestId };

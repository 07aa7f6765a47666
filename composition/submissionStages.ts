import type { InlineStages } from '../application/messages/inlineStages.js';
import { deliveryRouting, type DeliveryRouting } from '../application/routing/deliveryRouting.js';
import { PushBudget } from '../application/routing/pushBudget.js';
import { isSyncPolicy, type ModerationPolicy } from '../domain/moderation/policy.js';
import type { ChannelSetup } from './channelSetup.js';
import type { Core } from './core.js';
import type { Queries } from './queries.js';

/** The routing decision and its push budget: one per process, for the router and submissions. */
export const routingOf = (core: Core, queries: Queries, delivery: ChannelSetup): DeliveryRouting =>
  deliveryRouting({
    store: core.store,
    cache: core.cache,
    channels: delivery.channels,
    budget: new PushBudget(core.settings.pushBudgetPerHour, (bindingId, since) =>
      queries.messages.devicePushesSince(bindingId, since),
    ),
  });

/**
 * Moderation and routing in a submission's own command (`TIDINGS_SUBMISSION_STAGES`, README
 * "Settings"), when this node may: the policies all answer at once (no external checker), and
 * the node's push budget is the one its router keeps — on the embedded store (one node), or on
 * an EventStoreDB log, where every node routes and counts by itself anyway (README "Several
 * nodes on EventStoreDB"). With a shared PostgreSQL database the router runs on whichever node
 * holds its lease, so every message takes the separate stages there.
 */
export const inlineStagesOf = (
  core: Core,
  policies: readonly ModerationPolicy[],
  routing: DeliveryRouting,
): InlineStages | undefined => {
  if (core.settings.submissionStages !== 'inline' || core.shared !== undefined) return undefined;
  if (core.settings.readOnly || !policies.every(isSyncPolicy)) return undefined;
  return { policies: policies.filter(isSyncPolicy), routing };
};

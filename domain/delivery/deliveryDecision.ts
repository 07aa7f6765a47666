import { INBOX_CHANNEL } from '../message/messageEvents.js';
import type {
  DeferredPush,
  MessageInboxOnlyReason,
  MessageSuppressionReason,
} from '../message/messageEvents.js';
import { isAfter } from '../shared/time.js';

/** The per-binding push budget (device pushes per hour) when none is configured. */
export const DEFAULT_PUSH_BUDGET_PER_HOUR = 30;

/**
 * What the delivery router looked up before deciding where one due message goes. The decision
 * trusts these facts: it reads no streams and no clock but `now`.
 */
export interface DeliveryFacts {
  readonly binding: {
    readonly status: 'active' | 'revoked';
    readonly level: 'strong' | 'weak' | 'none';
    readonly blocked: boolean;
    /** The end of a mute; a mute that ended at or before `now` no longer counts. */
    readonly mutedUntil?: string;
  };
  readonly app: {
    readonly status: 'active' | 'suspended' | 'banned';
    /** The end of a suspension; absent means until lifted. */
    readonly suspendedUntil?: string;
  };
  /**
   * The delivery targets of the person's devices that may be pushed to (domain/delivery/
   * deliveryTarget.ts), e.g. `['bark', 'ntfy:dev_…']` or `[]`.
   */
  readonly deviceChannels: readonly string[];
  /** Device pushes already made for this binding in the last hour. */
  readonly devicePushesLastHour: number;
  /** The binding's push budget; {@link DEFAULT_PUSH_BUDGET_PER_HOUR} unless set otherwise. */
  readonly pushBudgetPerHour: number;
  /**
   * When the person's quiet hours that `now` falls in end, if the message's push must wait for
   * that (docs/api.md "Preferences": not for a time-sensitive message they let through, nor for
   * a message that names its device, the person's own test push or digest). Absent: no waiting.
   */
  readonly quietUntil?: string;
  /** ISO 8601 UTC time of the decision. */
  readonly now: string;
}

/**
 * Where a message goes: nowhere (`suppress`, recorded as `MessageSuppressed` with `reason`), or
 * to `channels`, the inbox first (recorded as `MessageRouted`). `inboxOnly` says why no device
 * channel was chosen; it is absent exactly when device channels are listed. The reasons are the
 * Message aggregate's own lists, so every answer can be recorded as it is.
 */
export type DeliveryDecision =
  | { readonly kind: 'suppress'; readonly reason: MessageSuppressionReason }
  | {
      readonly kind: 'route';
      readonly channels: readonly string[];
      readonly inboxOnly?: MessageInboxOnlyReason;
      /** With `inboxOnly: quiet_hours`: the device push that waits for the end of quiet hours. */
      readonly deferred?: DeferredPush;
    };

const suppress = (reason: MessageSuppressionReason): DeliveryDecision => ({
  kind: 'suppress',
  reason,
});

const inboxOnly = (reason: MessageInboxOnlyReason): DeliveryDecision => ({
  kind: 'route',
  channels: [INBOX_CHANNEL],
  inboxOnly: reason,
});

/** The configured device channels, each once; the inbox is not a device and always comes first. */
const devicesOf = (channels: readonly string[]): readonly string[] =>
  [...new Set(channels)].filter((channel) => channel !== INBOX_CHANNEL);

/**
 * The delivery router's decision for one due message (docs/architecture.md "levels" and "protections",
 * docs/bark.md "Mapping in Tidings"). The first matching row wins:
 *
 * | # | when | decision |
 * | --- | --- | --- |
 * | 1 | binding revoked | suppress `revoked` |
 * | 2 | app banned | suppress `app_banned` |
 * | 3 | app suspended, `suspendedUntil` after `now` or absent | suppress `app_suspended` |
 * | 4 | binding blocked | suppress `blocked` |
 * | 5 | level `none` | suppress `level_none` |
 * | 6 | level `weak` | inbox only, `weak` |
 * | 7 | (strong) `mutedUntil` after `now` | inbox only, `muted` |
 * | 8 | (strong, not muted) no device channel | inbox only, `no_device` |
 * | 9 | (strong, not muted) `devicePushesLastHour >= pushBudgetPerHour` | inbox only, `over_budget` |
 * | 10 | (strong, not muted, within budget) `quietUntil` | inbox only, `quiet_hours`, the push deferred to `quietUntil` |
 * | 11 | otherwise | `['inbox', ...deviceChannels]` |
 *
 * Suppression reasons come first because they say the person must not get the message at all;
 * the inbox-only reasons only take away the device push. An expired suspension or mute (ending
 * at or before `now`) no longer counts: it merely waits to be lifted.
 */
export const decideDelivery = (facts: DeliveryFacts): DeliveryDecision => {
  const { binding, app, now } = facts;
  if (binding.status === 'revoked') return suppress('revoked');
  if (app.status === 'banned') return suppress('app_banned');
  if (
    app.status === 'suspended' &&
    (app.suspendedUntil === undefined || isAfter(app.suspendedUntil, now))
  ) {
    return suppress('app_suspended');
  }
  if (binding.blocked) return suppress('blocked');
  if (binding.level === 'none') return suppress('level_none');
  if (binding.level === 'weak') return inboxOnly('weak');
  if (binding.mutedUntil !== undefined && isAfter(binding.mutedUntil, now)) {
    return inboxOnly('muted');
  }
  const devices = devicesOf(facts.deviceChannels);
  if (devices.length === 0) return inboxOnly('no_device');
  if (facts.devicePushesLastHour >= facts.pushBudgetPerHour) return inboxOnly('over_budget');
  if (facts.quietUntil !== undefined && isAfter(facts.quietUntil, now)) {
    return {
      kind: 'route',
      channels: [INBOX_CHANNEL],
      inboxOnly: 'quiet_hours',
      deferred: { channels: devices, until: facts.quietUntil },
    };
  }
  return { kind: 'route', channels: [INBOX_CHANNEL, ...devices] };
};

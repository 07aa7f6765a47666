import type { Logger } from '../adapters/logging/logger.js';

/** A setting a channel declares, so operators and the UI know what to ask for and what to hide. */
export interface ChannelSetting {
  readonly name: string;
  readonly description: string;
  /** Secrets are never logged, echoed by the API or shown again after they are saved. */
  readonly secret: boolean;
  readonly required: boolean;
}

/** What a channel is asked to deliver: one approved message for one recipient. */
export interface OutgoingMessage {
  readonly messageId: string;
  readonly appId: string;
  readonly appName: string;
  readonly recipientId: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly body: string;
  readonly url?: string;
  readonly thread?: string;
  readonly level?: 'active' | 'timeSensitive' | 'passive';
}

/** The result of one delivery attempt. */
export type SendOutcome =
  | { readonly kind: 'delivered' }
  /** Permanent: retrying cannot help (unknown device, bad configuration). */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Transient: worth another attempt, no sooner than `retryAfterMs` when the peer said so. */
  | { readonly kind: 'failed'; readonly reason: string; readonly retryAfterMs?: number };

/** Everything a channel may use for I/O comes in here, so tests can hand it local servers. */
export interface ChannelContext {
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * A delivery channel plugin. `render` is pure (message and the recipient's settings in, request
 * out) so it can be tested without I/O; `send` performs one attempt.
 */
export interface Channel<Settings = unknown, Rendered = unknown> {
  /** Unique among registered channels, e.g. `inbox`, `bark`. */
  readonly kind: string;
  readonly settings: readonly ChannelSetting[];
  render(message: OutgoingMessage, settings: Settings): Rendered;
  send(rendered: Rendered, context: ChannelContext): Promise<SendOutcome>;
}

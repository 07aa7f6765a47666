import type { Logger } from '../domain/shared/logger.js';
import type { HttpClient } from './httpClient.js';

/** The kinds of value a setting holds; Tidings checks each before it stores a device. */
export type ChannelSettingType = 'string' | 'url' | 'email' | 'phone' | 'boolean' | 'integer';

/** One setting's value as a device stores it and `render` receives it. */
export type SettingValue = string | number | boolean;

/** A device's settings by the names its channel declares. */
export type SettingValues = Readonly<Record<string, SettingValue>>;

/** A setting a channel declares, so operators and the UI know what to ask for and what to hide. */
export interface ChannelSetting {
  readonly name: string;
  /** Shown to people on the devices page, next to the field. */
  readonly description: string;
  /**
   * What the value must be: `url` (http or https; the destination also passes the outbound guard
   * when the device is saved and again at connect time), `email`, `phone` (E.164, `+` and 8–15
   * digits), `boolean`, `integer`, or any `string`.
   */
  readonly type: ChannelSettingType;
  /** Secrets are never logged, echoed by the API or shown again after they are saved. */
  readonly secret: boolean;
  readonly required: boolean;
  /** The value an optional setting takes when the person leaves it out. */
  readonly default?: SettingValue;
  /**
   * For a `string` setting: a regular expression (JavaScript syntax, `u` flag) the whole trimmed
   * value must match, e.g. `[-_A-Za-z0-9]{1,64}` for an ntfy topic; Tidings anchors it. A value
   * that does not match is refused when the device is saved (400 `validation_failed` naming the
   * setting), the form on the devices page checks it as it is typed, and /openapi.json carries it.
   */
  readonly pattern?: string;
  /**
   * Tidings makes the value itself when the device is added (a Standard Webhooks secret,
   * `whsec_` and 32 random bytes in base64) and shows it once, in the answer that created the
   * device; people never type it. At most one setting of a channel is generated; it is secret.
   */
  readonly generated?: boolean;
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

/**
 * What a channel needs to take back a message it delivered: enough to address the same
 * notification again (its id and thread), none of the content. An {@link OutgoingMessage} is one.
 */
export type RecallTarget = Pick<
  OutgoingMessage,
  'messageId' | 'appId' | 'appName' | 'recipientId' | 'thread'
>;

/**
 * Why a delivery was refused for good, so the router can act on it without parsing reasons:
 *
 * - `device_unknown`: the peer does not know the person's device (Bark: `failed to get device
 *   token`); the device should be marked broken until the person registers it again.
 * - `forbidden_destination`: the outbound guard refused the address (SSRF policy).
 * - `misconfigured`: the settings point at something that does not work as configured (wrong
 *   server URL, a server behind auth, a redirect); the person or operator must change them.
 * - `bad_request`: the peer refused the request itself; a bug on our side.
 */
export type RejectionCode =
  'device_unknown' | 'forbidden_destination' | 'misconfigured' | 'bad_request';

/** The result of one delivery attempt. */
export type SendOutcome =
  | { readonly kind: 'delivered' }
  /** Permanent: retrying cannot help (unknown device, bad configuration). */
  | { readonly kind: 'rejected'; readonly reason: string; readonly code?: RejectionCode }
  /**
   * Transient: worth another attempt, no sooner than `retryAfterMs` when the peer said so
   * (a `Retry-After` header, delay-seconds or HTTP date, turned into milliseconds from now).
   */
  | { readonly kind: 'failed'; readonly reason: string; readonly retryAfterMs?: number };

/**
 * Everything a channel may use for I/O comes in here, as ports, so a channel (built in or a
 * plugin, docs/plugins.md) knows no HTTP library and a test can hand it a local server.
 */
export interface ChannelContext {
  /**
   * The HTTP client to send with ({@link HttpClient}): one `request` that never rejects and
   * resolves to an answer, a guard refusal, a timeout or a network failure. The server's is the
   * outbound-guarded client: private, loopback and metadata addresses refused (before sending
   * and again at connect time) unless allowlisted, no redirect followed (a 3xx is an answer),
   * every status an answer, a time limit, a bounded answer size. Channels never open their own
   * connections, so that guard applies to every delivery.
   */
  readonly http: HttpClient;
  /** For what an operator should know; never with the secret settings in it. */
  readonly logger: Logger;
  /** The clock (a `Retry-After` date is counted from it). */
  readonly now: () => Date;
}

/**
 * A delivery channel plugin. `render` is pure (message and the recipient's settings in, request
 * out) so it can be tested without I/O; `send` performs one attempt with what its
 * {@link ChannelContext} gives (its HTTP client, logger and clock) and never throws: every
 * failure is a {@link SendOutcome}.
 *
 * A channel that can take a delivered message back (Bark deletes the notification) implements
 * `renderRecall`; the router sends its result with the same `send`. Without it, recall is a
 * matter for read models only.
 */
export interface Channel<Settings = unknown, Rendered = unknown> {
  /** Unique among registered channels, e.g. `inbox`, `bark`: 1–32 lowercase letters, digits, dashes. */
  readonly kind: string;
  /** What people see on the devices page, e.g. `Bark (iOS)`. */
  readonly name: string;
  readonly settings: readonly ChannelSetting[];
  render(message: OutgoingMessage, settings: Settings): Rendered;
  renderRecall?(message: RecallTarget, settings: Settings): Rendered;
  send(rendered: Rendered, context: ChannelContext): Promise<SendOutcome>;
}

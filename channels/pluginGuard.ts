import type { Logger, LogFields } from '../domain/shared/logger.js';
import type { Channel, ChannelContext, RecallTarget, SendOutcome } from './channel.js';
import { maskSecretValues, secretValuesOf } from './secretMask.js';

/**
 * What a guarded plugin's `render` hands its `send`: the plugin's own rendering, or why the
 * plugin could not render; with the device's secret values, so `send` can keep them out of what
 * it reports.
 */
export type GuardedRendering =
  | { readonly ok: true; readonly value: unknown; readonly secrets: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly secrets: readonly string[] };

/** How long a plugin's `send` may take before the attempt counts as failed; default 30 s. */
export interface PluginGuardOptions {
  readonly sendTimeoutMs?: number;
}

const REJECTION_CODES: ReadonlySet<string> = new Set([
  'device_unknown',
  'forbidden_destination',
  'misconfigured',
  'bad_request',
]);

/** Whether a plugin's answer is a {@link SendOutcome} Tidings can record. */
export const isSendOutcome = (value: unknown): value is SendOutcome => {
  if (typeof value !== 'object' || value === null) return false;
  const outcome = value as Readonly<Record<string, unknown>>;
  switch (outcome['kind']) {
    case 'delivered':
      return true;
    case 'rejected':
      return (
        typeof outcome['reason'] === 'string' &&
        (outcome['code'] === undefined ||
          (typeof outcome['code'] === 'string' && REJECTION_CODES.has(outcome['code'])))
      );
    case 'failed': {
      const after = outcome['retryAfterMs'];
      return (
        typeof outcome['reason'] === 'string' &&
        (after === undefined || (typeof after === 'number' && Number.isFinite(after) && after >= 0))
      );
    }
    default:
      return false;
  }
};

/** Replaces each secret in `text` by `***`; short secrets too (a token is never a common word). */
const scrub = maskSecretValues;

/** `value` with every secret in its strings scrubbed, a few levels deep (log fields are small). */
const scrubValue = (value: unknown, secrets: readonly string[], depth = 0): unknown => {
  if (typeof value === 'string') return scrub(value, secrets);
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return scrub(`${value.name}: ${value.message}`, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, scrubValue(item, secrets, depth + 1)]),
  );
};

/** A logger that scrubs the device's secrets from every line a plugin writes. */
const scrubbingLogger = (logger: Logger, secrets: readonly string[]): Logger => {
  if (secrets.length === 0) return logger;
  const fieldsOf = (fields: LogFields | undefined): LogFields | undefined =>
    fields === undefined ? undefined : (scrubValue(fields, secrets) as LogFields);
  return {
    debug: (message, fields) => {
      logger.debug(scrub(message, secrets), fieldsOf(fields));
    },
    info: (message, fields) => {
      logger.info(scrub(message, secrets), fieldsOf(fields));
    },
    warn: (message, fields) => {
      logger.warn(scrub(message, secrets), fieldsOf(fields));
    },
    error: (message, fields) => {
      logger.error(scrub(message, secrets), fieldsOf(fields));
    },
    child: (fields) => scrubbingLogger(logger.child(fieldsOf(fields) ?? {}), secrets),
  };
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** How long a plugin's send may take by default before it counts as failed. */
export const PLUGIN_SEND_TIMEOUT_MS = 30_000;

/**
 * Wraps a channel loaded from outside the project so that nothing it does can crash or wedge the
 * delivery worker: a `render` or `renderRecall` that throws, a `send` that throws, rejects,
 * answers something that is not a {@link SendOutcome}, or takes longer than the time limit, all
 * come out as a `failed` outcome (transient: the retry policy gives up after its attempts). The
 * device's secret settings are scrubbed from the reasons it reports and from its log lines.
 *
 * The built-in channels are not wrapped: their tests hold them to the contract.
 */
export const guardPluginChannel = (
  channel: Channel,
  options: PluginGuardOptions = {},
): Channel<unknown, GuardedRendering> => {
  const timeoutMs = options.sendTimeoutMs ?? PLUGIN_SEND_TIMEOUT_MS;
  const secretsOf = (settings: unknown): string[] => secretValuesOf(channel, settings);
  const rendering = (make: () => unknown, settings: unknown): GuardedRendering => {
    const secrets = secretsOf(settings);
    try {
      return { ok: true, value: make(), secrets };
    } catch (error) {
      return {
        ok: false,
        reason: scrub(`channel ${channel.kind} could not render: ${messageOf(error)}`, secrets),
        secrets,
      };
    }
  };
  const renderRecall = channel.renderRecall?.bind(channel);
  return {
    kind: channel.kind,
    name: channel.name,
    settings: channel.settings,
    render: (message, settings) => rendering(() => channel.render(message, settings), settings),
    ...(renderRecall === undefined
      ? {}
      : {
          renderRecall: (target: RecallTarget, settings: unknown) =>
            rendering(() => renderRecall(target, settings), settings),
        }),
    send: async (rendered, context) => {
      if (!rendered.ok) return { kind: 'failed', reason: rendered.reason };
      const outcome = await sendWithin(
        channel,
        rendered.value,
        {
          ...context,
          logger: scrubbingLogger(context.logger, rendered.secrets),
        },
        timeoutMs,
      );
      return outcome.kind === 'delivered'
        ? outcome
        : { ...outcome, reason: scrub(outcome.reason, rendered.secrets) };
    },
  };
};

/** One call of the plugin's `send`, with every way it can misbehave turned into `failed`. */
const sendWithin = async (
  channel: Channel,
  rendered: unknown,
  context: ChannelContext,
  timeoutMs: number,
): Promise<SendOutcome> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<SendOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        kind: 'failed',
        reason: `channel ${channel.kind} did not answer within ${timeoutMs} ms`,
      });
    }, timeoutMs);
  });
  try {
    // Inside the try: a plain (not async) send may throw before it returns a promise.
    const sending = Promise.resolve(channel.send(rendered, context)).then(
      (answer): SendOutcome =>
        isSendOutcome(answer)
          ? answer
          : { kind: 'failed', reason: `channel ${channel.kind} answered a malformed outcome` },
      (error: unknown): SendOutcome => ({
        kind: 'failed',
        reason: `channel ${channel.kind} failed: ${messageOf(error)}`,
      }),
    );
    return await Promise.race([sending, late]);
  } catch (error) {
    return { kind: 'failed', reason: `channel ${channel.kind} failed: ${messageOf(error)}` };
  } finally {
    clearTimeout(timer);
  }
};

import * as E from 'fp-ts/lib/Either.js';
import { newWebhookSecret } from '../../channels/webhook/webhookSecret.js';
import type { CallbackEventType } from '../../domain/callback/callbackEventTypes.js';
import { callbackEventTypes } from '../../domain/callback/callbackEventTypes.js';
import { domainError } from '../../domain/shared/domainError.js';
import type { CommandBus } from '../commandBus.js';
import type { DestinationCheck } from '../devices/deviceDeps.js';
import type { Invocation } from '../shared/invocation.js';
import type { ForbiddenDestination, Refusal } from '../shared/refusal.js';
import type { SecretBox } from '../shared/secretBox.js';

/** How long the secret before a rotation keeps signing beside the new one. */
export const CALLBACK_ROTATION_WINDOW_HOURS = 24;

/** What registering and changing an app's callback needs. */
export interface AppCallbackDeps {
  /** The command bus that waits for the read models: the callback is read back at once. */
  readonly commands: CommandBus;
  /** Seals the signing secret before it reaches a command (and the log). */
  readonly secrets: SecretBox;
  /** The outbound guard's save-time check. */
  readonly checkDestination: DestinationCheck;
  /**
   * Whether a plain `http:` URL to this host is allowed: only a host the operator allowlisted
   * (`TIDINGS_OUTBOUND_ALLOWLIST`), an internal receiver on purpose; every other callback is https.
   */
  readonly allowsPlainHttp: (host: string) => boolean;
  readonly randomBytes: (size: number) => Uint8Array;
}

/** What an app asks for (`PUT /v1/app/callback`). */
export interface CallbackDraft {
  readonly url: string;
  readonly events?: readonly CallbackEventType[];
  readonly rotateSecret?: boolean;
}

/** The callback as set, with its signing secret in clear (shown to the app, never logged). */
export interface RegisteredCallback {
  readonly url: string;
  readonly events: readonly CallbackEventType[];
  readonly secret: string;
}

const refusedUrl = (path: string, message: string, reason: string): ForbiddenDestination => ({
  code: 'forbidden_destination',
  message,
  details: { reason, errors: [{ path, message }] },
});

/**
 * The URL's checks: https (or an allowlisted host), and the outbound guard, so that no callback
 * can aim Tidings at its own network. The send path checks the address again at connect time.
 */
export const checkCallbackUrl = async (
  deps: Pick<AppCallbackDeps, 'checkDestination' | 'allowsPlainHttp'>,
  url: string,
  /** The field's JSON pointer in the request. */
  path: string,
): Promise<ForbiddenDestination | undefined> => {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && !deps.allowsPlainHttp(parsed.hostname)) {
    return refusedUrl(
      path,
      'a callback must be an https URL (plain http only to hosts the operator allowlisted)',
      'unsupported_scheme',
    );
  }
  const refused = await deps.checkDestination(url);
  return refused === undefined ? undefined : refusedUrl(path, refused.detail, refused.reason);
};

/**
 * Registers or changes the app's callback (docs/api.md, "App callbacks"): a new secret the first
 * time and on `rotateSecret`, when the one before keeps signing beside it for
 * {@link CALLBACK_ROTATION_WINDOW_HOURS}. All types unless `events` names some.
 */
export const setAppCallback =
  (deps: AppCallbackDeps) =>
  async (
    appId: string,
    draft: CallbackDraft,
    call: Invocation,
  ): Promise<E.Either<Refusal, RegisteredCallback>> => {
    const refused = await checkCallbackUrl(deps, draft.url, '/url');
    if (refused !== undefined) return E.left(refused);
    const events = draft.events ?? callbackEventTypes;
    if (events.length === 0) {
      const message = 'must name at least one type, or be left out for all of them';
      return E.left(
        domainError('validation_failed', `events ${message}`, {
          errors: [{ path: '/events', message }],
        }),
      );
    }
    const result = await deps.commands.execute(
      'app',
      appId,
      {
        type: 'SetAppCallback',
        data: {
          appId,
          url: draft.url,
          // In the order docs/api.md lists them, each once.
          events: callbackEventTypes.filter((type) => events.includes(type)),
          secret: deps.secrets.seal(newWebhookSecret(deps.randomBytes)),
          rotate: draft.rotateSecret ?? false,
          rotationWindowHours: CALLBACK_ROTATION_WINDOW_HOURS,
        },
        metadata: { now: call.now },
      },
      call.commandContext(),
    );
    if (E.isLeft(result)) return result;
    const { state } = result.right;
    const callback = state.status === 'empty' ? undefined : state.callback;
    if (callback === undefined)
      throw new Error(`app ${appId} has no callback right after it was set`);
    return E.right({
      url: callback.url,
      events: callback.events,
      secret: deps.secrets.open(callback.secret),
    });
  };
